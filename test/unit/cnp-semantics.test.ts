// ClusterNetworkPolicy semantics, one table row per rule of the API: each row is judged by the
// independent oracle (test/support/cnp-oracle.ts) and by the per-node models walked in order
// (cnp-interpreter.ts), and both must give the expected verdict; so must the rendered rulesets of
// the nodes on the packet's path (render-sim.ts walks their chains) and the conntrack cut's judge
// (operator/cnp/evaluate.ts).
import { expect } from 'chai';
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { NetworkPolicy, Protocol } from '../../operator/api/networkpolicy.js';
import { ClusterNetworkPolicyOracle } from '../support/cnp-oracle.js';
import { IP, NODES, baseCluster, cnp, inNs } from './cnp-fixtures.js';
import { ModelInterpreter } from './cnp-interpreter.js';
import { policy } from './netpol-fixtures.js';
import { TieredEvaluator } from '../../operator/cnp/evaluate.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import { RulesetSimulator } from './render-sim.js';

type Ip = keyof typeof IP;
interface Row {
  what: string;
  policies?: NetworkPolicy[];
  cnps: ClusterNetworkPolicy[];
  /** [src, dst, protocol/port, allowed?] */
  checks: [Ip, Ip, string, boolean][];
}

const deny = 'Deny' as const;
const accept = 'Accept' as const;
const pass = 'Pass' as const;
const fromNs = (n: string) => [inNs(n)];
const subjectNs = (n: string) => ({ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': n } } });
const allIngressNp = (n: string) => policy(n, 'allow-all', { podSelector: {}, ingress: [{}] });
const denyIngressNp = (n: string) => policy(n, 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] });
const tcp = (number: number) => ({ tcp: { destinationPort: { number } } });

const rows: Row[] = [
  { what: 'no policy: the default allows', cnps: [], checks: [['b1', 'a1', 'TCP/80', true]] },
  {
    what: 'Admin Deny ends evaluation: denied from b, others untouched',
    cnps: [
      cnp('deny-b', 'Admin', 10, { subject: subjectNs('a'), ingress: [{ action: deny, from: fromNs('b') }] }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', false],
      ['b2', 'a1', 'UDP/53', false],
      ['a2', 'a1', 'TCP/80', true],
      ['a1', 'b1', 'TCP/80', true],
    ],
  },
  {
    what: 'an Admin Deny beats a NetworkPolicy allow',
    policies: [allIngressNp('a')],
    cnps: [
      cnp('deny-b', 'Admin', 10, { subject: subjectNs('a'), ingress: [{ action: deny, from: fromNs('b') }] }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', false],
      ['a2', 'a1', 'TCP/80', true],
    ],
  },
  {
    what: 'a Baseline Deny applies where no NetworkPolicy isolates',
    cnps: [
      cnp('base-deny', 'Baseline', 10, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: fromNs('b') }],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', false],
      ['a2', 'a1', 'TCP/80', true],
    ],
  },
  {
    what: 'a NetworkPolicy allow overrides a Baseline Deny',
    policies: [allIngressNp('a')],
    cnps: [
      cnp('base-deny', 'Baseline', 10, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: fromNs('b') }],
      }),
    ],
    checks: [['b1', 'a1', 'TCP/80', true]],
  },
  {
    what: 'a NetworkPolicy decides for the pods it isolates: its deny is final, a Baseline Accept cannot reopen',
    policies: [denyIngressNp('a')],
    cnps: [
      cnp('base-accept', 'Baseline', 1, {
        subject: subjectNs('a'),
        ingress: [{ action: accept, from: fromNs('b') }],
      }),
    ],
    checks: [['b1', 'a1', 'TCP/80', false]],
  },
  {
    what: 'Admin Accept ends evaluation: a NetworkPolicy deny-all and a later Admin Deny do not apply',
    policies: [denyIngressNp('a')],
    cnps: [
      cnp('accept-b', 'Admin', 1, {
        subject: subjectNs('a'),
        ingress: [{ action: accept, from: fromNs('b') }],
      }),
      cnp('deny-all', 'Admin', 2, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: [{ namespaces: {} }] }],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', true],
      ['a2', 'a1', 'TCP/80', false],
    ],
  },
  {
    what: 'tier order: a Baseline Accept never overrides an Admin Deny, whatever the priorities',
    cnps: [
      cnp('admin-deny', 'Admin', 1000, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: fromNs('b') }],
      }),
      cnp('base-accept', 'Baseline', 0, {
        subject: subjectNs('a'),
        ingress: [{ action: accept, from: fromNs('b') }],
      }),
    ],
    checks: [['b1', 'a1', 'TCP/80', false]],
  },
  {
    what: 'priority: the lower value is evaluated first',
    cnps: [
      cnp('deny-5', 'Admin', 5, { subject: subjectNs('a'), ingress: [{ action: deny, from: fromNs('b') }] }),
      cnp('accept-3', 'Admin', 3, {
        subject: subjectNs('a'),
        ingress: [{ action: accept, from: [{ pods: { podSelector: { matchLabels: { app: 'web' } } } }] }],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', true],
      ['b2', 'a1', 'TCP/80', false],
    ],
  },
  {
    what: 'rule order inside one policy: the first matching rule decides',
    cnps: [
      cnp('ordered', 'Admin', 5, {
        subject: subjectNs('a'),
        ingress: [
          {
            action: accept,
            from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } } }],
          },
          { action: deny, from: fromNs('b') },
        ],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', true],
      ['b2', 'a1', 'TCP/80', false],
    ],
  },
  {
    what: 'same priority: softtenant orders by name (the API leaves the choice to the implementation)',
    cnps: [
      cnp('z-deny', 'Admin', 10, { subject: subjectNs('a'), ingress: [{ action: deny, from: fromNs('b') }] }),
      cnp('m-accept', 'Admin', 10, {
        subject: subjectNs('a'),
        ingress: [{ action: accept, from: fromNs('b') }],
      }),
    ],
    checks: [['b1', 'a1', 'TCP/80', true]],
  },
  {
    what: 'Pass in Admin skips the rest of the tier (a later Admin Deny), on to the default',
    cnps: [
      cnp('pass-b', 'Admin', 1, { subject: subjectNs('a'), ingress: [{ action: pass, from: fromNs('b') }] }),
      cnp('deny-all', 'Admin', 2, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: [{ namespaces: {} }] }],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', true],
      ['a2', 'a1', 'TCP/80', false],
    ],
  },
  {
    what: 'Pass in Admin hands over to the NetworkPolicies',
    policies: [denyIngressNp('a')],
    cnps: [
      cnp('pass-b', 'Admin', 1, { subject: subjectNs('a'), ingress: [{ action: pass, from: fromNs('b') }] }),
    ],
    checks: [['b1', 'a1', 'TCP/80', false]],
  },
  {
    what: 'Pass in Admin reaches the Baseline tier when no NetworkPolicy isolates',
    cnps: [
      cnp('pass-b', 'Admin', 1, { subject: subjectNs('a'), ingress: [{ action: pass, from: fromNs('b') }] }),
      cnp('base-deny', 'Baseline', 1, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: fromNs('b') }],
      }),
    ],
    checks: [['b1', 'a1', 'TCP/80', false]],
  },
  {
    what: 'Pass in Baseline skips the rest of Baseline, on to the default (allow)',
    cnps: [
      cnp('base-pass', 'Baseline', 1, {
        subject: subjectNs('a'),
        ingress: [{ action: pass, from: fromNs('b') }],
      }),
      cnp('base-deny', 'Baseline', 2, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: [{ namespaces: {} }] }],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', true],
      ['a2', 'a1', 'TCP/80', false],
    ],
  },
  {
    what: 'an egress Accept still needs the destination ingress',
    cnps: [
      cnp('egress-accept', 'Admin', 1, {
        subject: subjectNs('b'),
        egress: [{ action: accept, to: fromNs('a') }],
      }),
      cnp('ingress-deny', 'Admin', 2, {
        subject: subjectNs('a'),
        ingress: [{ action: deny, from: fromNs('b') }],
      }),
    ],
    checks: [['b1', 'a1', 'TCP/80', false]],
  },
  {
    what: 'port ranges: inclusive, one protocol',
    cnps: [
      cnp('range', 'Admin', 1, {
        subject: subjectNs('b'),
        egress: [
          {
            action: deny,
            to: fromNs('a'),
            protocols: [{ tcp: { destinationPort: { range: { start: 8000, end: 8100 } } } }],
          },
        ],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/8000', false],
      ['b1', 'a1', 'TCP/8100', false],
      ['b1', 'a1', 'TCP/8101', true],
      ['b1', 'a1', 'TCP/7999', true],
      ['b1', 'a1', 'UDP/8050', true],
    ],
  },
  {
    what: 'port numbers: several protocols ORed',
    cnps: [
      cnp('ports', 'Admin', 1, {
        subject: subjectNs('a'),
        ingress: [
          {
            action: deny,
            from: fromNs('b'),
            protocols: [tcp(80), { udp: { destinationPort: { number: 53 } } }],
          },
        ],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', false],
      ['b1', 'a1', 'UDP/53', false],
      ['b1', 'a1', 'UDP/80', true],
      ['b1', 'a1', 'TCP/53', true],
    ],
  },
  {
    what: "named ports on ingress: the subject pod's container port, with its protocol",
    cnps: [
      cnp('named-in', 'Admin', 1, {
        subject: { namespaces: {} },
        ingress: [{ action: deny, from: [{ namespaces: {} }], protocols: [{ destinationNamedPort: 'web' }] }],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/8080', false],
      ['b1', 'a1', 'UDP/8080', true],
      ['b1', 'a1', 'TCP/8081', true],
      ['a1', 'b1', 'UDP/5353', false],
      ['a1', 'b1', 'TCP/5353', true],
      ['a1', 'a2', 'TCP/8080', true],
    ],
  },
  {
    what: "named ports on egress: the destination pod's container port",
    cnps: [
      cnp('named-out', 'Admin', 1, {
        subject: subjectNs('b'),
        egress: [{ action: deny, to: [{ namespaces: {} }], protocols: [{ destinationNamedPort: 'web' }] }],
      }),
    ],
    checks: [
      ['b2', 'a1', 'TCP/8080', false],
      ['b2', 'a2', 'TCP/8080', true],
      ['b2', 'b1', 'UDP/5353', false],
    ],
  },
  {
    what: 'networks match in-cluster addresses: pods and host-network pods',
    cnps: [
      cnp('nets', 'Admin', 1, {
        subject: subjectNs('b'),
        egress: [{ action: deny, to: [{ networks: ['10.0.0.0/24', '10.250.0.0/24'] }] }],
      }),
    ],
    checks: [
      ['b1', 'a1', 'TCP/80', false],
      ['b1', 'a2', 'TCP/80', false],
      ['b1', 'host', 'TCP/10250', false],
      ['b1', 'b2', 'TCP/80', true],
      ['b1', 'ext', 'TCP/443', true],
    ],
  },
  {
    what: 'networks: an outside address, and everything but it allowed',
    cnps: [
      cnp('ext', 'Admin', 1, {
        subject: subjectNs('a'),
        egress: [{ action: deny, to: [{ networks: ['192.0.2.0/24'] }] }],
      }),
    ],
    checks: [
      ['a1', 'ext', 'TCP/443', false],
      ['a1', 'b1', 'TCP/443', true],
    ],
  },
  {
    what: 'host-network pods are never subjects',
    cnps: [
      cnp('deny-out', 'Admin', 1, {
        subject: subjectNs('a'),
        egress: [{ action: deny, to: [{ networks: ['0.0.0.0/0'] }] }],
      }),
    ],
    checks: [
      ['a1', 'b1', 'TCP/80', false],
      ['host', 'b1', 'TCP/80', true],
    ],
  },
  {
    what: 'host-network pods are never namespaces/pods peers',
    cnps: [
      cnp('deny-a', 'Admin', 1, { subject: subjectNs('b'), ingress: [{ action: deny, from: fromNs('a') }] }),
      cnp('deny-web', 'Admin', 2, {
        subject: subjectNs('b'),
        ingress: [
          {
            action: deny,
            from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } } }],
          },
        ],
      }),
    ],
    checks: [
      ['a1', 'b2', 'TCP/80', false],
      ['host', 'b2', 'TCP/80', true],
    ],
  },
  {
    what: 'fail closed: a Deny rule with an experimental nodes peer denies everything',
    cnps: [
      cnp('nodes', 'Admin', 1, { subject: subjectNs('a'), egress: [{ action: deny, to: [{ nodes: {} }] }] }),
    ],
    checks: [
      ['a1', 'b1', 'TCP/80', false],
      ['a1', 'ext', 'UDP/53', false],
      ['b1', 'a1', 'TCP/80', true],
    ],
  },
  {
    what: 'fail closed: a Pass rule with an unknown peer type becomes Deny all',
    cnps: [
      cnp('unknown', 'Admin', 1, {
        subject: subjectNs('a'),
        ingress: [{ action: pass, from: [{ future: {} } as never] }],
      }),
    ],
    checks: [['b1', 'a1', 'TCP/80', false]],
  },
  {
    what: 'fail closed: an Accept rule with domainNames matches nothing (the next rules decide)',
    cnps: [
      cnp('dns', 'Admin', 1, {
        subject: subjectNs('a'),
        egress: [
          { action: accept, to: [{ namespaces: {} }, { domainNames: ['kubernetes.io'] }] },
          { action: deny, to: fromNs('b') },
        ],
      }),
    ],
    checks: [
      ['a1', 'b1', 'TCP/80', false],
      ['a1', 'a2', 'TCP/80', true],
    ],
  },
];

function conn(src: Ip, dst: Ip, pp: string) {
  const [protocol, port] = pp.split('/');
  return { src: IP[src], dst: IP[dst], protocol: protocol as Protocol, port: Number(port) };
}

const nodeOf: Partial<Record<Ip, string>> = {
  a1: 'node-a',
  b1: 'node-a',
  host: 'node-a',
  a2: 'node-b',
  b2: 'node-b',
};

describe('ClusterNetworkPolicy semantics: oracle, per-node models, render and judge agree with the API', () => {
  for (const row of rows) {
    it(row.what, () => {
      const cluster = baseCluster(row.policies ?? [], row.cnps);
      const oracle = new ClusterNetworkPolicyOracle(cluster);
      const models = new ModelInterpreter(cluster, NODES);
      const renders = new Map(NODES.map((n) => [n, renderNode(cluster, n)]));
      const sims = new Map(NODES.map((n) => [n, new RulesetSimulator(renders.get(n)!.ruleset)]));
      const judges = new Map(
        NODES.map((n) => {
          const r = renders.get(n)!;
          return [n, r.cnp ? new TieredEvaluator(r.model, r.cnp) : undefined];
        }),
      );
      for (const [src, dst, pp, allowed] of row.checks) {
        const c = conn(src, dst, pp);
        const what = `${src} -> ${dst} ${pp}`;
        expect(oracle.allows(c), `oracle: ${what}`).to.equal(allowed);
        expect(models.allows(c), `models: ${what}`).to.equal(allowed);
        // Each node on the path judges the ends that are its pods (the host-network pod's own
        // traffic leaves through OUTPUT, and traffic to it on its own node arrives through INPUT).
        const path = [...new Set([nodeOf[src], nodeOf[dst]].filter((n): n is string => n !== undefined))];
        if (row.cnps.length > 0)
          expect(
            path.every((n) => judges.get(n as (typeof NODES)[number])!.allows(c)),
            `judge: ${what}`,
          ).to.equal(allowed);
        const hostPath = (src === 'host' || dst === 'host') && path.length === 1;
        if (hostPath) continue;
        const onPath = path.filter((n) => !(src === 'host' && n === nodeOf.host));
        const verdicts = onPath.map(
          (n) => sims.get(n as (typeof NODES)[number])!.forward({ ...c, state: 'NEW' }).verdict,
        );
        expect(
          verdicts.every((v) => v === 'ACCEPT'),
          `render: ${what} (${onPath.join(', ')}: ${verdicts.join(', ')})`,
        ).to.equal(allowed);
      }
    });
  }
});
