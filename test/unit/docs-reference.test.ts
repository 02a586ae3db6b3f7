import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReference } from '../../hack/gen-reference.js';
import { repoRoot } from '../../hack/demo/processes.js';

describe('docs/reference.md', () => {
  const crd = readFileSync(join(repoRoot, 'crds/tenancy.softtenant.io_softtenants.yaml'), 'utf8');

  it('is generated from the current CRD (run node dist/hack/gen-reference.js after a schema change)', () => {
    expect(readFileSync(join(repoRoot, 'docs/reference.md'), 'utf8')).to.equal(renderReference(crd));
  });

  it('documents every spec field the issue names', () => {
    const doc = renderReference(crd);
    for (const f of [
      'spec.namespaces.names',
      'spec.namespaces.selector',
      'spec.isolation.ingress',
      'spec.isolation.egress',
      'spec.isolation.allowDNS',
      'spec.allowFrom[].ipBlock.except',
      'spec.allowFrom[].tenants',
      'spec.allowTo[].ports[].endPort',
      'spec.rules[].spec',
    ]) {
      expect(doc, f).to.include(`\`${f}\``);
    }
  });
});
