// docs/reference.md is what the generator (hack/gen-reference.ts, run as a user runs it) makes
// of the current CRD, and it documents the fields users look for.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../support/controlplane.js';

describe('docs/reference.md', () => {
  it('is generated from the current CRD (run node dist/hack/gen-reference.js after a schema change)', () => {
    const check = spawnSync(process.execPath, [join(repoRoot, 'dist/hack/gen-reference.js'), '--check'], {
      encoding: 'utf8',
    });
    expect(check.stderr).to.equal('');
    expect(check.status).to.equal(0);
  });

  it('documents every spec field the issue names', () => {
    const doc = readFileSync(join(repoRoot, 'docs/reference.md'), 'utf8');
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
