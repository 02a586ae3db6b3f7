// The allow model, one block per numbered case of shared/netpol-semantics.md (cases 6 and 18 are
// about the chains and are in render-structure.test.ts).
import { expect } from 'chai';
import { allowedIn, model, ns, pod, policy, NODE } from './netpol-fixtures.js';

// Cluster used by most cases: namespace "a" (team=x) and "b" (team=y).
const nsA = ns('a', { team: 'x' });
const nsB = ns('b', { team: 'y' });
const A1 = '10.0.1.1'; // a/web, local
const A2 = '10.0.1.2'; // a/db, local
const B1 = '10.0.2.1'; // b/client, remote node
const B2 = '10.0.2.2'; // b/web, local
const EXT = '192.0.2.7';
const base = [
  pod('a', 'web', { ip: A1, labels: { app: 'web' } }),
  pod('a', 'db', { ip: A2, labels: { app: 'db' } }),
  pod('b', 'client', { ip: B1, labels: { app: 'client' }, node: 'node-b' }),
  pod('b', 'web', { ip: B2, labels: { app: 'web' } }),
];

describe('netpol model', () => {
  describe('1. a pod selected by no policy is not isolated', () => {
    it('allows all ingress and egress', () => {
      const allowed = allowedIn({
        namespaces: [nsA, nsB],
        pods: base,
        policies: [policy('a', 'only-db', { podSelector: { matchLabels: { app: 'db' } } })],
      });
      expect(allowed(B1, A1, 'TCP', 1)).to.equal(true);
      expect(allowed(A1, EXT, 'UDP', 53)).to.equal(true);
      expect(allowed(B1, A2)).to.equal(false);
      const m = model({ namespaces: [nsA, nsB], pods: base, policies: [] });
      expect(m.pods.map((p) => [p.name, p.ingressPolicies.length, p.egressPolicies.length])).to.deep.equal([
        ['db', 0, 0],
        ['web', 0, 0],
        ['web', 0, 0],
      ]);
    });
  });

  describe('2. isolation per direction, independent', () => {
    it('an Ingress policy isolates ingress only', () => {
      const allowed = allowedIn({ pods: base, policies: [policy('a', 'p', { policyTypes: ['Ingress'] })] });
      expect(allowed(B1, A1)).to.equal(false);
      expect(allowed(A1, B1)).to.equal(true);
    });
    it('an Egress policy isolates egress only', () => {
      const allowed = allowedIn({ pods: base, policies: [policy('a', 'p', { policyTypes: ['Egress'] })] });
      expect(allowed(B1, A1)).to.equal(true);
      expect(allowed(A1, B1)).to.equal(false);
      expect(allowed(A1, EXT)).to.equal(false);
    });
  });

  describe('3. policyTypes defaulting', () => {
    it('no policyTypes and only egress rules isolates ingress too (deny all ingress)', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'web' } },
        egress: [{ to: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }],
      });
      const m = model({ pods: base, policies: [p] });
      expect(m.policies[0]).to.include({ isolatesIngress: true, isolatesEgress: true });
      const allowed = allowedIn({ pods: base, policies: [p] });
      expect(allowed(B1, A1)).to.equal(false);
      expect(allowed(A1, EXT)).to.equal(true);
      expect(allowed(A1, B1)).to.equal(false);
    });
    it('no policyTypes and no egress rules is Ingress only; egress: [] does not add Egress', () => {
      for (const spec of [{}, { egress: [] }]) {
        const m = model({ pods: base, policies: [policy('a', 'p', spec)] });
        expect(m.policies[0]).to.include({ isolatesIngress: true, isolatesEgress: false });
      }
    });
    it('explicit policyTypes: [Egress] ignores ingress rules and leaves ingress open', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [
          policy('a', 'p', {
            policyTypes: ['Egress'],
            ingress: [{ from: [{ ipBlock: { cidr: '1.2.3.4/32' } }] }],
          }),
        ],
      });
      expect(allowed(B1, A1)).to.equal(true);
      expect(allowed(A1, B1)).to.equal(false);
    });
  });

  describe('4. policies are additive', () => {
    it('a connection is allowed if any policy selecting the pod allows it', () => {
      const p1 = policy('a', 'from-client', {
        ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'client' } } }] }],
      });
      const p2 = policy('a', 'from-ext', { ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }] });
      const allowed = allowedIn({ namespaces: [nsA, nsB], pods: base, policies: [p1, p2] });
      expect(allowed(B1, A1)).to.equal(true);
      expect(allowed(EXT, A1)).to.equal(true);
      expect(allowed(B2, A1)).to.equal(false);
      const m = model({ namespaces: [nsA, nsB], pods: base, policies: [p2, p1] });
      expect(m.pods.find((p) => p.name === 'db')?.ingressPolicies).to.deep.equal([
        'a/from-client',
        'a/from-ext',
      ]);
    });
  });

  describe('5. both the source egress and the destination ingress must allow', () => {
    const egressToDb = policy('a', 'web-egress', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }] }],
    });
    const dbIngressNone = policy('a', 'db-closed', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
    });
    const dbIngressFromWeb = policy('a', 'db-from-web', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
    });
    it('egress allowed but ingress denied -> denied (same node)', () => {
      expect(allowedIn({ pods: base, policies: [egressToDb, dbIngressNone] })(A1, A2)).to.equal(false);
    });
    it('ingress allowed but egress denied -> denied', () => {
      const webClosed = policy('a', 'web-closed', {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Egress'],
      });
      expect(allowedIn({ pods: base, policies: [webClosed, dbIngressFromWeb] })(A1, A2)).to.equal(false);
    });
    it('both allow -> allowed', () => {
      expect(allowedIn({ pods: base, policies: [egressToDb, dbIngressFromWeb] })(A1, A2)).to.equal(true);
    });
  });

  describe('7. namespaceSelector AND podSelector inside one peer; separate peers OR', () => {
    it('one peer with both selectors needs both to match', () => {
      const p = policy('a', 'p', {
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'y' } },
                podSelector: { matchLabels: { app: 'client' } },
              },
            ],
          },
        ],
      });
      const allowed = allowedIn({ namespaces: [nsA, nsB], pods: base, policies: [p] });
      expect(allowed(B1, A1)).to.equal(true);
      expect(allowed(B2, A1)).to.equal(false); // namespace matches, pod does not
    });
    it('the same selectors as two peers are ORed', () => {
      const p = policy('a', 'p', {
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { team: 'y' } } },
              { podSelector: { matchLabels: { app: 'web' } } },
            ],
          },
        ],
      });
      const allowed = allowedIn({ namespaces: [nsA, nsB], pods: base, policies: [p] });
      expect(allowed(B1, A2)).to.equal(true);
      expect(allowed(B2, A2)).to.equal(true);
      expect(allowed(A1, A2)).to.equal(true); // a/web via the podSelector peer
    });
  });

  describe('8. peer scopes', () => {
    it('podSelector alone selects in the policy namespace only', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
      });
      const allowed = allowedIn({ namespaces: [nsA, nsB], pods: base, policies: [p] });
      expect(allowed(A1, A2)).to.equal(true);
      expect(allowed(B2, A2)).to.equal(false); // b/web has the label but lives in b
    });
    it('namespaceSelector {} selects pods of every namespace, podSelector {} every pod of the namespace', () => {
      const all = allowedIn({
        namespaces: [nsA, nsB],
        pods: base,
        policies: [policy('a', 'p', { ingress: [{ from: [{ namespaceSelector: {} }] }] })],
      });
      expect(all(B1, A1)).to.equal(true);
      expect(all(EXT, A1)).to.equal(false);
      const own = allowedIn({
        namespaces: [nsA, nsB],
        pods: base,
        policies: [policy('a', 'p', { ingress: [{ from: [{ podSelector: {} }] }] })],
      });
      expect(own(A1, A2)).to.equal(true);
      expect(own(B1, A2)).to.equal(false);
    });
  });

  describe('9. empty rules, peers and ports', () => {
    it('ingress: [] allows nothing; ingress: [{}] allows everything', () => {
      expect(allowedIn({ pods: base, policies: [policy('a', 'p', { ingress: [] })] })(B1, A1)).to.equal(
        false,
      );
      const open = allowedIn({ pods: base, policies: [policy('a', 'p', { ingress: [{}] })] });
      expect(open(B1, A1, 'UDP', 9)).to.equal(true);
      expect(open(EXT, A1, 'SCTP', 9)).to.equal(true);
    });
    it('a rule with empty from and ports [80] allows any peer on 80 only', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [policy('a', 'p', { ingress: [{ from: [], ports: [{ port: 80 }] }] })],
      });
      expect(allowed(EXT, A1, 'TCP', 80)).to.equal(true);
      expect(allowed(EXT, A1, 'TCP', 81)).to.equal(false);
    });
    it('a rule with a peer and empty ports allows every port and protocol of that peer', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [
          policy('a', 'p', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.2.0/24' } }], ports: [] }] }),
        ],
      });
      expect(allowed(B1, A1, 'UDP', 5353)).to.equal(true);
      expect(allowed(EXT, A1, 'TCP', 80)).to.equal(false);
    });
  });

  describe('10. ipBlock', () => {
    it('matches cidr minus except', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [
          policy('a', 'p', {
            ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }] }],
          }),
        ],
      });
      expect(allowed('172.17.0.5', A1)).to.equal(true);
      expect(allowed('172.17.2.5', A1)).to.equal(true);
      expect(allowed('172.17.1.5', A1)).to.equal(false);
      expect(allowed('172.18.0.1', A1)).to.equal(false);
    });
    it('an address excepted by one policy is allowed when another policy allows it', () => {
      const p1 = policy('a', 'p1', {
        ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }] }],
      });
      const p2 = policy('a', 'p2', { ingress: [{ from: [{ ipBlock: { cidr: '172.17.1.0/28' } }] }] });
      const allowed = allowedIn({ pods: base, policies: [p1, p2] });
      expect(allowed('172.17.1.5', A1)).to.equal(true);
      expect(allowed('172.17.1.50', A1)).to.equal(false);
    });
    it('0.0.0.0/0 with an except', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [
          policy('a', 'p', {
            policyTypes: ['Egress'],
            egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }],
          }),
        ],
      });
      expect(allowed(A1, '8.8.8.8')).to.equal(true);
      expect(allowed(A1, '200.1.1.1')).to.equal(true);
      expect(allowed(A1, B1)).to.equal(false);
    });
    it('an ipBlock that covers a pod IP matches that pod', () => {
      expect(
        allowedIn({
          pods: base,
          policies: [policy('a', 'p', { ingress: [{ from: [{ ipBlock: { cidr: `${B1}/32` } }] }] })],
        })(B1, A1),
      ).to.equal(true);
    });
    it('keeps canonical cidr and except text in the model', () => {
      const m = model({
        pods: base,
        policies: [
          policy('a', 'p', {
            ingress: [{ from: [{ ipBlock: { cidr: '172.17.3.4/16', except: ['172.17.1.9/24'] } }] }],
          }),
        ],
      });
      expect(m.policies[0]?.ingress[0]?.peers.blocks).to.deep.equal([
        { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] },
      ]);
    });
  });

  describe('11. selectors', () => {
    const pods = [
      pod('a', 'target', { ip: '10.0.1.100', labels: { app: 'db' } }),
      pod('a', 'p1', { ip: '10.0.1.1', labels: { tier: 'fe', env: 'prod' } }),
      pod('a', 'p2', { ip: '10.0.1.2', labels: { tier: 'be', env: 'dev' } }),
      pod('a', 'p3', { ip: '10.0.1.3', labels: { tier: 'fe' } }),
      pod('a', 'p4', { ip: '10.0.1.4', labels: {} }),
    ];
    const peersFor = (exprs: object[]): readonly string[] => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: { matchExpressions: exprs as never } }] }],
      });
      return model({ pods, policies: [p] }).policies[0]?.ingress[0]?.peers.podIPs ?? [];
    };
    it('In, NotIn, Exists, DoesNotExist', () => {
      expect(peersFor([{ key: 'tier', operator: 'In', values: ['fe', 'x'] }])).to.deep.equal([
        '10.0.1.1',
        '10.0.1.3',
      ]);
      expect(peersFor([{ key: 'tier', operator: 'NotIn', values: ['fe'] }])).to.deep.equal([
        '10.0.1.2',
        '10.0.1.4',
        '10.0.1.100',
      ]);
      expect(peersFor([{ key: 'env', operator: 'Exists' }])).to.deep.equal(['10.0.1.1', '10.0.1.2']);
      expect(peersFor([{ key: 'env', operator: 'DoesNotExist' }])).to.deep.equal([
        '10.0.1.3',
        '10.0.1.4',
        '10.0.1.100',
      ]);
    });
    it('matchLabels and matchExpressions are ANDed', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchLabels: { tier: 'fe' },
                  matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }],
                },
              },
            ],
          },
        ],
      });
      expect(model({ pods, policies: [p] }).policies[0]?.ingress[0]?.peers.podIPs).to.deep.equal([
        '10.0.1.1',
      ]);
    });
    it('namespaces match on kubernetes.io/metadata.name even when the Namespace object lacks the label', () => {
      const p = policy('a', 'p', {
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } }] }],
      });
      const allowed = allowedIn({ namespaces: [nsA, nsB], pods: base, policies: [p] });
      expect(allowed(B1, A1)).to.equal(true);
      expect(allowed(A2, A1)).to.equal(false);
      // Also for a namespace that only appears through its pods.
      const withoutNs = allowedIn({ pods: base, policies: [p] });
      expect(withoutNs(B1, A1)).to.equal(true);
    });
  });

  describe('12. protocols', () => {
    it('a missing protocol means TCP; UDP is not opened by it', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [policy('a', 'p', { ingress: [{ ports: [{ port: 53 }] }] })],
      });
      expect(allowed(B1, A1, 'TCP', 53)).to.equal(true);
      expect(allowed(B1, A1, 'UDP', 53)).to.equal(false);
    });
    it('an SCTP-only rule opens SCTP, not TCP, and still isolates', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [policy('a', 'p', { ingress: [{ ports: [{ protocol: 'SCTP', port: 9 }] }] })],
      });
      expect(allowed(B1, A1, 'SCTP', 9)).to.equal(true);
      expect(allowed(B1, A1, 'TCP', 9)).to.equal(false);
      expect(allowed(B1, A1, 'UDP', 9)).to.equal(false);
    });
  });

  describe('13. named ports', () => {
    const pods = [
      pod('a', 'api-1', {
        ip: '10.0.1.1',
        labels: { app: 'api' },
        ports: [{ name: 'http', containerPort: 8080 }],
      }),
      pod('a', 'api-2', {
        ip: '10.0.1.2',
        labels: { app: 'api' },
        ports: [{ name: 'http', containerPort: 9090 }],
      }),
      pod('a', 'api-3', {
        ip: '10.0.1.3',
        labels: { app: 'api' },
        ports: [{ name: 'metrics', containerPort: 8080 }],
      }),
      pod('a', 'dns', {
        ip: '10.0.1.4',
        labels: { app: 'dns' },
        ports: [
          { name: 'dns', containerPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', containerPort: 53 },
        ],
      }),
      pod('b', 'remote-api', {
        ip: '10.0.2.1',
        labels: { app: 'api' },
        node: 'node-b',
        ports: [{ name: 'http', containerPort: 7070 }],
      }),
      pod('a', 'client', { ip: '10.0.1.9', labels: { app: 'client' } }),
    ];
    it('ingress: resolves on each destination pod; a pod without the name matches nothing', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ ports: [{ port: 'http' }] }],
      });
      const allowed = allowedIn({ pods, policies: [p] });
      expect(allowed('10.0.1.9', '10.0.1.1', 'TCP', 8080)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.1.1', 'TCP', 9090)).to.equal(false);
      expect(allowed('10.0.1.9', '10.0.1.2', 'TCP', 9090)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.1.2', 'TCP', 8080)).to.equal(false);
      expect(allowed('10.0.1.9', '10.0.1.3', 'TCP', 8080)).to.equal(false);
      const rule = model({ pods, policies: [p] }).policies[0]?.ingress[0];
      expect(rule?.named).to.deep.equal([
        { protocol: 'TCP', name: 'http', port: 8080, podIPs: ['10.0.1.1'] },
        { protocol: 'TCP', name: 'http', port: 9090, podIPs: ['10.0.1.2'] },
      ]);
    });
    it('egress: resolves on each peer pod, grouped by number, limited to the peers', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'api' } } }],
            ports: [{ port: 'http' }],
          },
        ],
      });
      const allowed = allowedIn({ pods, policies: [p] });
      expect(allowed('10.0.1.9', '10.0.1.1', 'TCP', 8080)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.1.2', 'TCP', 9090)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.2.1', 'TCP', 7070)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.1.2', 'TCP', 8080)).to.equal(false);
      expect(allowed('10.0.1.9', '10.0.1.3', 'TCP', 8080)).to.equal(false);
      expect(allowed('10.0.1.9', '10.0.1.4', 'TCP', 8080)).to.equal(false);
      expect(
        model({ pods, policies: [p] }).policies[0]?.egress[0]?.named.map((g) => [g.port, g.podIPs]),
      ).to.deep.equal([
        [7070, ['10.0.2.1']],
        [8080, ['10.0.1.1']],
        [9090, ['10.0.1.2']],
      ]);
    });
    it('egress to an ipBlock with a named port reaches the pods inside the block that declare it', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.1.0/30' } }], ports: [{ port: 'http' }] }],
      });
      const allowed = allowedIn({ pods, policies: [p] });
      expect(allowed('10.0.1.9', '10.0.1.1', 'TCP', 8080)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.1.2', 'TCP', 9090)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.2.1', 'TCP', 7070)).to.equal(false);
    });
    it('the protocol must match the declared port', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'dns' } },
        ingress: [{ ports: [{ protocol: 'UDP', port: 'dns' }] }],
      });
      const allowed = allowedIn({ pods, policies: [p] });
      expect(allowed('10.0.1.9', '10.0.1.4', 'UDP', 53)).to.equal(true);
      expect(allowed('10.0.1.9', '10.0.1.4', 'TCP', 53)).to.equal(false);
      const wrongProto = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'dns' } },
        ingress: [{ ports: [{ protocol: 'TCP', port: 'dns' }] }],
      });
      expect(allowedIn({ pods, policies: [wrongProto] })('10.0.1.9', '10.0.1.4', 'TCP', 53)).to.equal(false);
    });
    it('ingress named port still requires the peer', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http' }] }],
      });
      const allowed = allowedIn({ pods, policies: [p] });
      expect(allowed('10.0.1.9', '10.0.1.1', 'TCP', 8080)).to.equal(true);
      expect(allowed('10.0.1.4', '10.0.1.1', 'TCP', 8080)).to.equal(false);
    });
  });

  describe('14. endPort ranges', () => {
    it('allows port..endPort inclusive', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [
          policy('a', 'p', { ingress: [{ ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }] }),
        ],
      });
      expect(allowed(B1, A1, 'TCP', 31999)).to.equal(false);
      expect(allowed(B1, A1, 'TCP', 32000)).to.equal(true);
      expect(allowed(B1, A1, 'TCP', 32768)).to.equal(true);
      expect(allowed(B1, A1, 'TCP', 32769)).to.equal(false);
    });
  });

  describe('15. protocol without port', () => {
    it('allows every port of that protocol only', () => {
      const allowed = allowedIn({
        pods: base,
        policies: [policy('a', 'p', { ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
      });
      expect(allowed(B1, A1, 'UDP', 1)).to.equal(true);
      expect(allowed(B1, A1, 'UDP', 65535)).to.equal(true);
      expect(allowed(B1, A1, 'TCP', 1)).to.equal(false);
    });
  });

  describe('16. changes are followed (the model is a function of its input)', () => {
    const p = policy('a', 'p', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'y' } },
              podSelector: { matchLabels: { app: 'client' } },
            },
          ],
        },
      ],
    });
    it('pod relabel', () => {
      expect(allowedIn({ namespaces: [nsA, nsB], pods: base, policies: [p] })(B1, A2)).to.equal(true);
      const relabelled = base.map((x) =>
        x.metadata.name === 'client'
          ? pod('b', 'client', { ip: B1, node: 'node-b', labels: { app: 'other' } })
          : x,
      );
      expect(allowedIn({ namespaces: [nsA, nsB], pods: relabelled, policies: [p] })(B1, A2)).to.equal(false);
    });
    it('namespace relabel', () => {
      expect(
        allowedIn({ namespaces: [nsA, ns('b', { team: 'z' })], pods: base, policies: [p] })(B1, A2),
      ).to.equal(false);
    });
    it('target pod relabel drops isolation', () => {
      const relabelled = base.map((x) =>
        x.metadata.name === 'db' ? pod('a', 'db', { ip: A2, labels: { app: 'cache' } }) : x,
      );
      const m = model({ namespaces: [nsA, nsB], pods: relabelled, policies: [p] });
      expect(m.policies).to.deep.equal([]);
      expect(allowedIn({ namespaces: [nsA, nsB], pods: relabelled, policies: [p] })(EXT, A2)).to.equal(true);
    });
  });

  describe('17. pods without IP, finished and hostNetwork pods', () => {
    const pods = [
      ...base,
      pod('a', 'no-ip', { labels: { app: 'db' } }),
      pod('a', 'done', { ip: '10.0.1.50', labels: { app: 'db' }, phase: 'Succeeded' }),
      pod('a', 'failed', { ip: '10.0.1.51', labels: { app: 'web' }, phase: 'Failed' }),
      pod('a', 'host', { ip: '192.168.0.10', labels: { app: 'web' }, hostNetwork: true }),
    ];
    it('are neither targets nor pod peers', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
      });
      const m = model({ pods, policies: [p] });
      expect(m.pods.map((x) => x.name)).to.deep.equal(['db', 'web', 'web']);
      expect(m.policies[0]?.localPods).to.deep.equal(['a/db']);
      expect(m.policies[0]?.ingress[0]?.peers.podIPs).to.deep.equal([A1]);
    });
    it('a hostNetwork pod is matched through an ipBlock', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/24' } }] }],
      });
      expect(allowedIn({ pods, policies: [p] })('192.168.0.10', A2)).to.equal(true);
    });
  });

  describe('scope and problems', () => {
    it('keeps only policies selecting a pod of this node', () => {
      const remoteOnly = policy('b', 'client-only', { podSelector: { matchLabels: { app: 'client' } } });
      const local = policy('b', 'web', { podSelector: { matchLabels: { app: 'web' } } });
      const m = model({ pods: base, policies: [remoteOnly, local] });
      expect(m.policies.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(['b/web']);
      expect(
        model({ pods: base, policies: [remoteOnly, local], node: 'node-b' }).policies.map((p) => p.name),
      ).to.deep.equal(['client-only']);
      expect(m.node).to.equal(NODE);
    });
    it('an invalid peer or port is reported and allows nothing (the policy still isolates)', () => {
      const p = policy('a', 'p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [
          { from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] },
          { ports: [{ port: 0 }] },
          { from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }] },
        ],
      });
      const m = model({ pods: base, policies: [p] });
      expect(m.problems).to.have.length(1);
      expect(m.problems[0]).to.include({ namespace: 'a', name: 'p', reason: 'InvalidPolicy' });
      expect(m.problems[0]?.message)
        .to.contain('spec.ingress[0].from[0].ipBlock')
        .and.contain('spec.ingress[1].ports[0]')
        .and.contain('not a strict subset');
      const allowed = allowedIn({ pods: base, policies: [p] });
      expect(allowed(B1, A2, 'TCP', 80)).to.equal(false);
      expect(allowed('10.9.9.9', A2, 'TCP', 80)).to.equal(false);
    });
    it('a policy whose podSelector is invalid is reported and not programmed', () => {
      const p = policy('a', 'p', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] },
      });
      const m = model({ pods: base, policies: [p] });
      expect(m.policies).to.deep.equal([]);
      expect(m.problems[0]?.message)
        .to.contain('spec.podSelector.matchExpressions[0]')
        .and.contain('needs values');
    });
    it('the model does not depend on input order', () => {
      const p1 = policy('a', 'p1', { ingress: [{ from: [{ namespaceSelector: {} }] }] });
      const p2 = policy('b', 'p2', {
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'http' }] }],
      });
      const forward = model({ namespaces: [nsA, nsB], pods: base, policies: [p1, p2] });
      const reversed = model({ namespaces: [nsB, nsA], pods: [...base].reverse(), policies: [p2, p1] });
      expect(reversed).to.deep.equal(forward);
    });
  });
});
