// The acceptance case: the seed's NetworkPolicy, written as a tenant rule (the shipped sample
// config/samples/seed-example.yaml), comes out spec-for-spec identical.
import { expect } from 'chai';
import { expandTenants } from '../../operator/tenant/expand.js';
import { ns, readSample, seedPolicy } from './tenant-fixtures.js';

describe('seed example', () => {
  it('the sample tenant expands to exactly the seed NetworkPolicy spec in default', () => {
    const seed = seedPolicy();
    const sample = readSample('seed-example.yaml');
    expect(sample.spec.rules?.map((r) => r.name)).to.deep.equal([seed.name]);
    const result = expandTenants({ tenants: [sample], namespaces: [ns('default'), ns('kube-system')] });
    const e = result.tenants[0];
    expect(e?.namespaces).to.deep.equal([seed.namespace]);
    // ingress Open and no egress isolation: the rule is the only policy.
    expect(e?.policies).to.have.length(1);
    expect(e?.policies[0]?.metadata.namespace).to.equal('default');
    expect(e?.policies[0]?.spec).to.deep.equal(seed.spec);
    expect(e?.problems).to.deep.equal([]);
  });

  it('each of the seed statements is present in the generated spec', () => {
    const spec = expandTenants({ tenants: [readSample('seed-example.yaml')], namespaces: [ns('default')] })
      .tenants[0]?.policies[0]?.spec;
    expect(spec?.podSelector).to.deep.equal({ matchLabels: { role: 'db' } });
    expect(spec?.policyTypes).to.deep.equal(['Ingress', 'Egress']);
    const from = spec?.ingress?.[0]?.from ?? [];
    expect(from).to.deep.include({ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } });
    expect(from).to.deep.include({ namespaceSelector: { matchLabels: { project: 'myproject' } } });
    expect(from).to.deep.include({ podSelector: { matchLabels: { role: 'frontend' } } });
    expect(spec?.ingress?.[0]?.ports).to.deep.equal([{ protocol: 'TCP', port: 6379 }]);
    expect(spec?.egress).to.deep.equal([
      { to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] },
    ]);
  });
});
