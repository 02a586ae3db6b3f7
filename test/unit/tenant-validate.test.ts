// The offline validator: rejects every bad input of the corpus at the same field and for the
// same reason as the API server (the integration test checks the server side), and accepts the
// samples.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { API_VERSION, KIND } from '../../operator/api/softtenant.js';
import { RULES_NOT_CHECKED } from '../../operator/tenant/structural.js';
import { validateNamespace, validateSoftTenant } from '../../operator/tenant/validate.js';
import { parseManifests } from '../../operator/util/manifests.js';
import { badInputs, goodInputs } from '../integration/crd-corpus.js';
import { repoRoot } from './tenant-fixtures.js';

const doc = (spec: unknown, name = 'corpus'): unknown => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name },
  spec,
});

describe('validateSoftTenant: the bad-input corpus', () => {
  it('has at least 20 cases', () => expect(badInputs.length).to.be.at.least(20));
  for (const bad of badInputs) {
    it(`rejects: ${bad.name}`, () => {
      const errors = validateSoftTenant(doc(bad.spec, bad.tenantName));
      const hit = errors.find((e) => e.field === bad.field && e.message.includes(bad.message));
      expect(hit, `wanted ${bad.field}: ${bad.message}\ngot ${JSON.stringify(errors, null, 1)}`).to.not.equal(
        undefined,
      );
    });
  }
});

describe('validateSoftTenant: valid input', () => {
  const samples = readdirSync(resolve(repoRoot, 'config/samples'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseManifests(readFileSync(resolve(repoRoot, 'config/samples', f), 'utf8'), f))
    .filter((o) => o.kind === KIND);

  it('finds the three sample tenants', () =>
    expect(samples.map((s) => s.metadata?.name).sort()).to.deep.equal(['seed-example', 'team-a', 'team-b']));
  for (const s of samples)
    it(`accepts sample ${s.metadata?.name}`, () => expect(validateSoftTenant(s)).to.deep.equal([]));

  it('accepts a status (the operator owns it) and an empty spec', () => {
    expect(validateSoftTenant({ ...(doc({}) as object), status: { policies: 3 } })).to.deep.equal([]);
  });

  for (const good of goodInputs) {
    it(`accepts: ${good.name}`, () =>
      expect(validateSoftTenant(doc(good.spec, good.tenantName))).to.deep.equal([]));
  }
});

describe('validateSoftTenant: shape errors, as the API server reports them', () => {
  it('requires spec, apiVersion and kind', () => {
    const errors = validateSoftTenant({ apiVersion: 'v1', kind: 'Tenant', metadata: { name: 'x' } });
    expect(errors.map((e) => e.field)).to.deep.equal(['apiVersion', 'kind', 'spec', '']);
    expect(errors.at(-1)?.message).to.equal(RULES_NOT_CHECKED);
  });

  it('names the field of a type error, and runs no CEL rule after one', () => {
    expect(validateSoftTenant(doc({ allowFrom: 'b' }))).to.deep.equal([
      { field: 'spec.allowFrom', message: 'must be of type array' },
      { field: '', message: RULES_NOT_CHECKED },
    ]);
  });

  it('reports every schema error, and every rule error when no schema error blocks them', () => {
    const schema = validateSoftTenant(
      doc({ isolation: { ingress: 'x', egress: 'y' }, namespaces: { names: ['A'] } }),
    );
    expect(schema.map((e) => e.field).sort()).to.deep.equal([
      '',
      'spec.isolation.egress',
      'spec.isolation.ingress',
    ]);
    const rules = validateSoftTenant(
      doc({ namespaces: { names: ['A', 'b_'] }, allowFrom: [{ ports: [{ port: 0 }] }] }),
    );
    expect(rules.map((e) => e.field)).to.deep.equal([
      'spec.namespaces.names[0]',
      'spec.namespaces.names[1]',
      'spec.allowFrom[0].ports[0].port',
    ]);
  });

  it('reports unknown fields alone, every one, with their paths (strict field validation)', () => {
    expect(
      validateSoftTenant(
        doc({ isolation: { ingres: 'Open' }, rules: [{ name: 'r', spec: { podSelector: {}, x: 1 } }] }),
      ),
    ).to.deep.equal([
      { field: 'spec.isolation.ingres', message: 'unknown field "spec.isolation.ingres"' },
      { field: 'spec.rules[0].spec.x', message: 'unknown field "spec.rules[0].spec.x"' },
    ]);
  });

  it('treats a null as absent (pruned, then defaulted), as the API server does', () => {
    expect(validateSoftTenant(doc({ isolation: null, allowFrom: null }))).to.deep.equal([]);
  });

  it('checks namespaces only for what expansion needs', () => {
    expect(
      validateNamespace({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'ok', labels: { a: 'b' } },
        status: {},
      }),
    ).to.deep.equal([]);
    expect(validateNamespace({ kind: 'Namespace', metadata: {} })).to.deep.equal([
      { field: 'metadata.name', message: 'Required value' },
    ]);
    expect(validateNamespace({ kind: 'Namespace', metadata: { name: 'x', labels: { a: 1 } } })).to.deep.equal(
      [{ field: 'metadata.labels.a', message: 'must be of type string' }],
    );
  });
});
