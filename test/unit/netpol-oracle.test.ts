// The test oracle itself, on cases stated in /work/shared/netpol-semantics.md: if it were wrong,
// the model tests that compare against it would be checking the wrong thing.
import { expect } from 'chai';
import type { NetworkPolicy, Pod } from '../../operator/api/networkpolicy.js';
import { NetworkPolicyOracle } from '../support/netpol-oracle.js';
import { ns, pod, policy } from './netpol-fixtures.js';

const A1 = '10.0.1.1';
const A2 = '10.0.1.2';
const B1 = '10.0.2.1';
const pods: Pod[] = [
  pod('a', 'a1', { ip: A1, labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] }),
  pod('a', 'a2', { ip: A2, labels: { app: 'db' }, ports: [{ name: 'http', containerPort: 9090 }] }),
  pod('b', 'b1', { ip: B1, labels: { app: 'web' }, node: 'node-b' }),
];
const namespaces = [ns('a', { team: 'x' }), ns('b', { team: 'y' })];
const oracle = (...policies: NetworkPolicy[]): NetworkPolicyOracle =>
  new NetworkPolicyOracle({ namespaces, pods, policies });
const tcp = (o: NetworkPolicyOracle, src: string, dst: string, port = 80): boolean =>
  o.allows({ src, dst, protocol: 'TCP', port });

describe('test oracle: NetworkPolicy semantics', () => {
  it('1-2. no policy: everything; a policy: only its rules', () => {
    expect(tcp(oracle(), B1, A2)).to.equal(true);
    const o = oracle(policy('a', 'db', { podSelector: { matchLabels: { app: 'db' } }, ingress: [] }));
    expect(tcp(o, B1, A2)).to.equal(false);
    expect(tcp(o, A2, B1)).to.equal(true);
  });

  it('3. an egress-only policy without policyTypes isolates ingress too', () => {
    const o = oracle(policy('a', 'p', { podSelector: { matchLabels: { app: 'db' } }, egress: [{}] }));
    expect(tcp(o, B1, A2)).to.equal(false);
    expect(tcp(o, A2, B1)).to.equal(true);
  });

  it('5. needs the source egress and the destination ingress', () => {
    const egressNone = policy('a', 'e', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
    });
    expect(tcp(oracle(egressNone), A1, A2)).to.equal(false);
    expect(tcp(oracle(egressNone), A2, A1)).to.equal(true);
  });

  it('7-8. namespaceSelector and podSelector ANDed in one peer; podSelector alone is the own namespace', () => {
    const and = policy('a', 'p', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'y' } },
              podSelector: { matchLabels: { app: 'web' } },
            },
          ],
        },
      ],
    });
    expect(tcp(oracle(and), B1, A2)).to.equal(true);
    expect(tcp(oracle(and), A1, A2)).to.equal(false);
    const own = policy('a', 'p', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
    });
    expect(tcp(oracle(own), A1, A2)).to.equal(true);
    expect(tcp(oracle(own), B1, A2)).to.equal(false);
  });

  it('10. ipBlock is cidr minus except', () => {
    const o = oracle(
      policy('a', 'p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } }] }],
      }),
    );
    expect(tcp(o, B1, A2)).to.equal(true);
    expect(tcp(o, A1, A2)).to.equal(false);
    expect(tcp(o, '192.168.0.1', A2)).to.equal(false);
  });

  it('12-13. TCP by default, protocols distinct, named ports per destination pod', () => {
    const o = oracle(policy('a', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] }));
    expect(tcp(o, B1, A1, 8080)).to.equal(true);
    expect(tcp(o, B1, A1, 9090)).to.equal(false);
    expect(tcp(o, B1, A2, 9090)).to.equal(true);
    expect(o.allows({ src: B1, dst: A1, protocol: 'UDP', port: 8080 })).to.equal(false);
  });

  it("judged for a node, only that node's pods are checked", () => {
    const deny = policy('b', 'p', { podSelector: {}, ingress: [] });
    expect(tcp(new NetworkPolicyOracle({ namespaces, pods, policies: [deny] }, 'node-a'), A1, B1)).to.equal(
      true,
    );
    expect(tcp(new NetworkPolicyOracle({ namespaces, pods, policies: [deny] }, 'node-b'), A1, B1)).to.equal(
      false,
    );
  });
});
