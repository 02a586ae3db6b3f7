import { expect } from 'chai';
import type { NetworkPolicySpec } from '../../operator/api/networkpolicy.js';
import { policyTypesOf, portProtocol, specWithDefaults } from '../../operator/api/networkpolicy-defaults.js';

// The defaults of networking/v1 (SetDefaults_NetworkPolicy, SetDefaults_NetworkPolicyPort).
describe('NetworkPolicy API defaults', () => {
  const cases: [string, Partial<NetworkPolicySpec>, string[]][] = [
    ['no policyTypes, no rules', {}, ['Ingress']],
    ['no policyTypes, ingress rules', { ingress: [{}] }, ['Ingress']],
    ['no policyTypes, egress rules', { egress: [{}] }, ['Ingress', 'Egress']],
    ['no policyTypes, egress: [] adds nothing', { egress: [] }, ['Ingress']],
    ['empty policyTypes counts as absent', { policyTypes: [], egress: [{}] }, ['Ingress', 'Egress']],
    ['declared Egress only stays as written', { policyTypes: ['Egress'], ingress: [{}] }, ['Egress']],
  ];
  for (const [name, spec, want] of cases) {
    it(`policyTypes: ${name}`, () => expect(policyTypesOf(spec)).to.deep.equal(want));
  }

  it('a port or container port without protocol is TCP; a written one stays', () => {
    expect(portProtocol({ port: 80 })).to.equal('TCP');
    expect(portProtocol({ containerPort: 80 })).to.equal('TCP');
    expect(portProtocol({ port: 53, protocol: 'UDP' })).to.equal('UDP');
  });

  it('specWithDefaults fills policyTypes and every port protocol, copies, keeps absent lists absent', () => {
    const spec: NetworkPolicySpec = {
      podSelector: {},
      ingress: [{ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }, {}],
      egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'dns' }] }],
    };
    const before = structuredClone(spec);
    expect(specWithDefaults(spec)).to.deep.equal({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          ports: [
            { port: 80, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        },
        {},
      ],
      egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'dns', protocol: 'TCP' }] }],
    });
    expect(spec).to.deep.equal(before);
    expect(specWithDefaults({ podSelector: {} })).to.deep.equal({
      podSelector: {},
      policyTypes: ['Ingress'],
    });
  });
});
