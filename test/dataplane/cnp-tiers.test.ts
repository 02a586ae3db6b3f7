// ClusterNetworkPolicy tiers on packets: each case programs NetworkPolicies and
// ClusterNetworkPolicies into both lab nodes through the agent's render (the tiers on top of the
// NetworkPolicy render, cnp-render.ts) and the real apply edge, every source probes every
// destination over IPv4 and IPv6, and the matrix must be what the independent oracle
// (test/support/cnp-oracle.ts, written from the API's documentation) says. Each case also names
// cells whose verdict it is about, written out by hand, so a case cannot pass on an oracle that
// drifted with the render. Pods of every namespace sit on both nodes: every case is seen on the
// bridged same-node path and the routed cross-node path.
import { expect } from 'chai';
import type {
  ClusterNetworkPolicy,
  ClusterNetworkPolicySpec,
  ClusterNetworkPolicyTier,
} from '../../operator/api/clusternetworkpolicy.js';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import { cleanupStaleLabs } from '../lab/build.js';
import { ClusterNetworkPolicyOracle } from '../support/cnp-oracle.js';
import type { Lab, LabFlow, LabPort, ProbeCell, ProbeResult } from '../support/lab.js';
import { allCells, expectMatrix, pathsCovered, startLab } from '../support/lab.js';
import type { ClusterState } from '../support/lab-cluster.js';
import { LabDataplanes, netpol } from '../support/lab-cluster.js';
import { claimCell, connOf } from '../support/lab-claims.js';
import {
  allExternals,
  allPods,
  ext,
  fixtureCluster,
  fixtureExternals,
  fixturePorts,
  N1,
  pods,
  ports,
} from '../support/lab-fixture.js';

const { tcp, udp } = ports;

function cnp(
  name: string,
  tier: ClusterNetworkPolicyTier,
  priority: number,
  rest: Partial<ClusterNetworkPolicySpec>,
): ClusterNetworkPolicy {
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name, uid: `uid-${name}`, generation: 1 },
    spec: { tier, priority, subject: { namespaces: {} }, ...rest },
  };
}
const nsNamed = (n: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': n } });
const subjectNs = (n: string) => ({ namespaces: nsNamed(n) });
const peerNs = (n: string) => ({ namespaces: nsNamed(n) });
const allNs = { namespaces: {} };

/** [from, to, port/proto (tcp default), family, allowed] */
type Claim = [string, string, string, 4 | 6, boolean];

interface Case {
  title: string;
  policies?: NetworkPolicy[];
  cnps: ClusterNetworkPolicy[];
  ports: LabPort[];
  destinations?: string[];
  claims: Claim[];
}

const cases: Case[] = [
  {
    title: 'tier order: an Admin Deny beats a NetworkPolicy that allows everything',
    policies: [netpol('prod', 'allow-all', { podSelector: {}, ingress: [{}] })],
    cnps: [
      cnp('deny-dev', 'Admin', 10, {
        subject: subjectNs('prod'),
        ingress: [{ action: 'Deny', from: [peerNs('dev')] }],
      }),
    ],
    ports: [tcp(80), udp(53)],
    claims: [
      [pods.web1, pods.api1, 'tcp/80', 4, false],
      [pods.web2, pods.api1, 'udp/53', 6, false],
      [pods.db, pods.api2, 'tcp/80', 4, true],
    ],
  },
  {
    title:
      'tier order: a NetworkPolicy allow overrides a Baseline Deny; Baseline still denies where no NetworkPolicy isolates',
    policies: [
      netpol('default', 'db-from-dev', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }],
      }),
    ],
    cnps: [
      cnp('baseline-deny', 'Baseline', 10, {
        subject: subjectNs('default'),
        ingress: [{ action: 'Deny', from: [allNs] }],
      }),
    ],
    ports: [tcp(80)],
    claims: [
      [pods.web1, pods.db, 'tcp/80', 4, true],
      [pods.web2, pods.db2, 'tcp/80', 6, true],
      [pods.api1, pods.db, 'tcp/80', 4, false],
      [pods.web1, pods.fe1, 'tcp/80', 4, false],
      [ext.x1, pods.fe2, 'tcp/80', 4, true],
    ],
  },
  {
    title: 'priority order: lower first; the same priority is ordered by name',
    cnps: [
      cnp('z-accept-dev', 'Admin', 10, {
        subject: subjectNs('prod'),
        ingress: [{ action: 'Accept', from: [peerNs('dev')] }],
      }),
      cnp('deny-all', 'Admin', 20, {
        subject: subjectNs('prod'),
        ingress: [{ action: 'Deny', from: [allNs] }],
      }),
      cnp('a-accept-ops', 'Admin', 30, {
        subject: subjectNs('ops'),
        ingress: [{ action: 'Accept', from: [peerNs('default')] }],
      }),
      cnp('b-deny-ops', 'Admin', 30, {
        subject: subjectNs('ops'),
        ingress: [{ action: 'Deny', from: [allNs] }],
      }),
    ],
    ports: [tcp(80)],
    claims: [
      [pods.web1, pods.api2, 'tcp/80', 4, true],
      [pods.db, pods.api1, 'tcp/80', 6, false],
      [pods.fe2, pods.tool1, 'tcp/80', 4, true],
      [pods.web2, pods.tool2, 'tcp/80', 4, false],
    ],
  },
  {
    title: 'Pass: Admin passes to the NetworkPolicies; Baseline passes to the default',
    policies: [
      netpol('default', 'db-from-prod', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }], ports: [{ port: 6379 }] }],
      }),
    ],
    cnps: [
      cnp('pass-prod', 'Admin', 10, {
        subject: subjectNs('default'),
        ingress: [
          { action: 'Pass', from: [peerNs('prod')] },
          { action: 'Deny', from: [peerNs('prod')] },
        ],
      }),
      cnp('deny-into-default', 'Admin', 20, {
        subject: subjectNs('default'),
        ingress: [{ action: 'Deny', from: [allNs] }],
      }),
      cnp('b-pass-dev', 'Baseline', 10, {
        subject: subjectNs('ops'),
        ingress: [{ action: 'Pass', from: [peerNs('dev')] }],
      }),
      cnp('b-deny-ops', 'Baseline', 20, {
        subject: subjectNs('ops'),
        ingress: [{ action: 'Deny', from: [allNs] }],
      }),
    ],
    ports: [tcp(6379), tcp(80)],
    claims: [
      [pods.api1, pods.db, 'tcp/6379', 4, true],
      [pods.api2, pods.db, 'tcp/80', 6, false],
      [pods.api1, pods.fe1, 'tcp/80', 4, true],
      [pods.web1, pods.fe2, 'tcp/80', 4, false],
      [pods.web2, pods.tool1, 'tcp/80', 6, true],
      [pods.api1, pods.tool2, 'tcp/80', 4, false],
    ],
  },
  {
    title: 'Accept: ingress and egress Accept end evaluation before NetworkPolicies that deny',
    policies: [
      netpol('prod', 'deny-in', { podSelector: {}, policyTypes: ['Ingress'] }),
      netpol('dev', 'deny-out', { podSelector: {}, policyTypes: ['Egress'] }),
    ],
    cnps: [
      cnp('accept-ops', 'Admin', 10, {
        subject: subjectNs('prod'),
        ingress: [{ action: 'Accept', from: [peerNs('ops')] }],
      }),
      cnp('dev-out', 'Admin', 10, {
        subject: subjectNs('dev'),
        egress: [{ action: 'Accept', to: [peerNs('ops')] }],
      }),
    ],
    ports: [tcp(80)],
    destinations: [...allPods, ext.x2],
    claims: [
      [pods.tool1, pods.api2, 'tcp/80', 4, true],
      [pods.db, pods.api1, 'tcp/80', 6, false],
      [pods.web1, pods.tool1, 'tcp/80', 4, true],
      [pods.web2, pods.tool1, 'tcp/80', 6, true],
      [pods.web1, pods.db, 'tcp/80', 4, false],
      [pods.web1, ext.x2, 'tcp/80', 4, false],
    ],
  },
  {
    title: 'protocols: a port range is inclusive; other ports and protocols pass',
    cnps: [
      cnp('deny-range', 'Admin', 10, {
        subject: subjectNs('prod'),
        ingress: [
          {
            action: 'Deny',
            from: [allNs],
            protocols: [{ tcp: { destinationPort: { range: { start: 9000, end: 9001 } } } }],
          },
        ],
      }),
    ],
    ports: [tcp(9000), tcp(9001), tcp(9002), udp(53)],
    claims: [
      [pods.db, pods.api1, 'tcp/9000', 4, false],
      [pods.db, pods.api2, 'tcp/9001', 6, false],
      [pods.db, pods.api1, 'tcp/9002', 4, true],
      [pods.db, pods.api2, 'udp/53', 4, true],
    ],
  },
  {
    title: 'protocols: a named port resolves per destination pod (egress) and per subject pod (ingress)',
    cnps: [
      cnp('dev-http-out', 'Admin', 10, {
        subject: subjectNs('dev'),
        egress: [
          { action: 'Accept', to: [peerNs('default')], protocols: [{ destinationNamedPort: 'http' }] },
          { action: 'Deny', to: [peerNs('default')] },
        ],
      }),
      cnp('api-http-in', 'Admin', 10, {
        subject: subjectNs('prod'),
        ingress: [
          { action: 'Accept', from: [peerNs('ops')], protocols: [{ destinationNamedPort: 'http' }] },
          { action: 'Deny', from: [peerNs('ops')] },
        ],
      }),
    ],
    ports: [tcp(80), tcp(8080), tcp(6379)],
    claims: [
      [pods.web1, pods.db, 'tcp/80', 4, true],
      [pods.web2, pods.db2, 'tcp/8080', 6, true],
      [pods.web1, pods.db, 'tcp/8080', 4, false],
      [pods.web1, pods.fe2, 'tcp/80', 4, false],
      [pods.tool1, pods.api1, 'tcp/8080', 4, true],
      [pods.tool2, pods.api2, 'tcp/80', 6, true],
      [pods.tool2, pods.api1, 'tcp/80', 4, false],
    ],
  },
  {
    title: 'networks match in-cluster addresses: a Deny to a node pod range denies those pods',
    cnps: [
      cnp('ops-not-n2', 'Admin', 10, {
        subject: subjectNs('ops'),
        egress: [
          { action: 'Deny', to: [{ networks: ['10.244.2.0/24', 'fd00:10:244:2::/64', '192.168.7.5/32'] }] },
        ],
      }),
    ],
    ports: [tcp(80)],
    destinations: [...allPods, ...allExternals],
    claims: [
      [pods.tool1, pods.db2, 'tcp/80', 4, false],
      [pods.tool1, pods.api2, 'tcp/80', 6, false],
      [pods.tool2, pods.fe2, 'tcp/80', 4, false],
      [pods.tool2, pods.db, 'tcp/80', 4, true],
      [pods.tool1, ext.far, 'tcp/80', 4, false],
      [pods.tool1, ext.far, 'tcp/80', 6, true],
      [pods.tool1, ext.x1, 'tcp/80', 4, true],
    ],
  },
];

describe('dataplane: ClusterNetworkPolicy tiers on packets (nft)', function () {
  this.timeout(180_000);
  let lab: Lab | undefined;
  let planes: LabDataplanes;
  const flows: LabFlow[] = [];

  before(async function () {
    this.timeout(60_000);
    await cleanupStaleLabs();
    lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
    planes = await LabDataplanes.open(lab, 'nft');
  });
  afterEach(async () => {
    for (const f of flows.splice(0)) await f.close().catch(() => undefined);
  });
  after(async () => {
    await lab?.down();
  });

  /** Probes the cells and checks them against the oracle for `state`; returns the results. */
  async function matrix(state: ClusterState, cells: ProbeCell[], label: string): Promise<ProbeResult[]> {
    const l = lab as Lab;
    const oracle = new ClusterNetworkPolicyOracle(state);
    const results = await l.probe(cells);
    expectMatrix(l, results, (c) => oracle.allows(connOf(l, c)), label);
    return results;
  }

  for (const c of cases) {
    it(c.title, async () => {
      const l = lab as Lab;
      const state = fixtureCluster();
      state.policies = c.policies ?? [];
      state.clusterNetworkPolicies = c.cnps;
      await planes.program(state);
      const oracle = new ClusterNetworkPolicyOracle(state);
      for (const claim of c.claims) {
        const cell = claimCell(claim);
        expect(oracle.allows(connOf(l, cell)), `the oracle on ${claim.join(' ')}`).to.equal(claim[4]);
      }
      const cells = allCells([...allPods, ...allExternals], c.destinations ?? allPods, c.ports, [4, 6]);
      const results = await matrix(state, cells, c.title);
      for (const family of [4, 6] as const) {
        const paths = pathsCovered(
          l,
          results.filter((r) => (r.family ?? 4) === family),
        );
        for (const p of ['same-node', 'cross-node'] as const) {
          expect(paths[p].denied, `IPv${family} ${p} denied cells`).to.be.greaterThan(0);
          expect(paths[p].allowed, `IPv${family} ${p} allowed cells`).to.be.greaterThan(0);
        }
      }
    });
  }

  it('selector and label changes move pods in and out of subjects and peers', async () => {
    const l = lab as Lab;
    const state = fixtureCluster();
    state.clusterNetworkPolicies = [
      cnp('guard-db', 'Admin', 10, {
        subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: 'db' } } } },
        ingress: [
          { action: 'Accept', from: [{ namespaces: { matchLabels: { team: 'a' } } }] },
          { action: 'Deny', from: [allNs] },
        ],
      }),
    ];
    const cells = allCells(allPods, allPods, [tcp(80)], [4, 6]);
    await planes.program(state);
    await matrix(state, cells, 'before');
    expect((await l.probe([claimCell([pods.web1, pods.db, 'tcp/80', 4, false])]))[0].allowed).to.equal(false);
    // dev joins team a (a peer change), fe1 becomes a db (a subject change), db2 stops being one.
    state.relabelNamespace('dev', { team: 'a' });
    state.relabelPod(pods.fe1, { role: 'db' });
    state.relabelPod(pods.db2, { role: 'cache' });
    await planes.program(state);
    const after = await matrix(state, cells, 'after the relabels');
    const cell = (from: string, to: string) =>
      after.find((r) => r.from === from && r.to === to && (r.family ?? 4) === 4)?.allowed;
    expect(cell(pods.web1, pods.db), 'dev is a peer now').to.equal(true);
    expect(cell(pods.tool1, pods.fe1), 'fe1 is a subject now').to.equal(false);
    expect(cell(pods.tool1, pods.db2), 'db2 is no subject any more').to.equal(true);
  });

  it('Deny drops (the API: "Drops the selected traffic"): no TCP reset, no ICMP error, in both tiers', async () => {
    // The network-policy-api conformance suite tells a denied probe from a refused one: only
    // a timeout counts as denied. A reject (tcp-reset, port unreachable) would fail it.
    const l = lab as Lab;
    const denied: ProbeCell[] = [];
    for (const family of [4, 6] as const)
      for (const pp of ['tcp/80', 'udp/53'])
        for (const from of [pods.web1, pods.web2]) // db is on n1: same-node and cross-node
          denied.push(claimCell([from, pods.db, pp, family, false]));
    for (const [label, tiered] of [
      [
        'Admin ingress Deny',
        cnp('drop-dev-in', 'Admin', 10, {
          subject: subjectNs('default'),
          ingress: [{ action: 'Deny', from: [peerNs('dev')] }],
        }),
      ],
      [
        'Baseline egress Deny',
        cnp('drop-dev-out', 'Baseline', 10, {
          subject: subjectNs('dev'),
          egress: [{ action: 'Deny', to: [peerNs('default')] }],
        }),
      ],
    ] as const) {
      const state = fixtureCluster();
      state.clusterNetworkPolicies = [tiered];
      await planes.program(state);
      const results = await l.probe(denied);
      expect(
        results.map((r) => `${r.from} -> ${r.to} ${r.protocol}/${r.port} IPv${r.family ?? 4}: ${r.outcome}`),
        label,
      ).to.deep.equal(
        denied.map((c) => `${c.from} -> ${c.to} ${c.protocol}/${c.port} IPv${c.family ?? 4}: timeout`),
      );
      const paths = pathsCovered(l, results);
      expect(paths['same-node'].denied, `${label}: same-node cells`).to.be.greaterThan(0);
      expect(paths['cross-node'].denied, `${label}: cross-node cells`).to.be.greaterThan(0);
    }
  });

  it('revocation: an Admin Deny added under open connections cuts them (both families, both paths); others live on', async () => {
    const l = lab as Lab;
    const state = fixtureCluster();
    await planes.program(state);
    const opened: LabFlow[] = [];
    for (const family of [4, 6] as const)
      opened.push(
        await l.openFlow(pods.web1, pods.db, 6379, 'TCP', 2000, family), // same node (n1)
        await l.openFlow(pods.web2, pods.db, 6379, 'TCP', 2000, family), // cross node
        await l.openFlow(pods.web1, pods.db, 6379, 'UDP', 2000, family),
      );
    const control = await l.openFlow(pods.api2, pods.db, 6379, 'TCP');
    flows.push(...opened, control);
    state.clusterNetworkPolicies = [
      cnp('no-dev-into-default', 'Admin', 10, {
        subject: subjectNs('default'),
        ingress: [{ action: 'Deny', from: [peerNs('dev')] }],
      }),
    ];
    const r = await planes.program(state);
    expect(r.get(N1)?.conntrack?.deleted ?? 0, 'entries deleted on n1').to.be.greaterThanOrEqual(
      opened.length,
    );
    for (const f of opened)
      expect(
        (await f.check(400)).outcome,
        `${f.id} ${f.from} -> ${f.to} ${f.protocol} after the cut`,
      ).not.to.equal('ok');
    expect((await control.check()).outcome, 'the still-allowed connection').to.equal('ok');
    // And a Pass that hands the decision back to a NetworkPolicy that denies cuts too.
    const again = await l.openFlow(pods.api1, pods.db, 6379, 'TCP');
    flows.push(again);
    state.clusterNetworkPolicies = [
      cnp('pass-prod', 'Admin', 10, {
        subject: subjectNs('default'),
        ingress: [{ action: 'Pass', from: [peerNs('prod')] }],
      }),
    ];
    state.policies = [netpol('default', 'deny-in', { podSelector: {}, policyTypes: ['Ingress'] })];
    await planes.program(state);
    expect((await again.check(400)).outcome, 'passed to a NetworkPolicy that denies').not.to.equal('ok');
  });
});
