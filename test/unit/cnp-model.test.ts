// The shape of the per-node ClusterNetworkPolicy model (what the render will consume), and a
// randomized check: on random clusters, the models' rule lists walked in order agree with the
// independent oracle on random connections.
import { expect } from 'chai';
import type {
  ClusterNetworkPolicy,
  ClusterNetworkPolicyEgressPeer,
  ClusterNetworkPolicyProtocol,
} from '../../operator/api/clusternetworkpolicy.js';
import type { LabelSelector, NetworkPolicy, Pod, Protocol } from '../../operator/api/networkpolicy.js';
import { buildCnpNodeModel, orderedRules } from '../../operator/cnp/model.js';
import { buildNodeModel } from '../../operator/netpol/model.js';
import { ClusterNetworkPolicyOracle } from '../support/cnp-oracle.js';
import { baseCluster, cnp, inNs, NODES } from './cnp-fixtures.js';
import { ModelInterpreter, type Cluster } from './cnp-interpreter.js';
import { ns, pod, policy } from './netpol-fixtures.js';

describe('ClusterNetworkPolicy model: shape', () => {
  const cnps = [
    cnp('base-1', 'Baseline', 1, { ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] }),
    cnp('admin-b', 'Admin', 5, { egress: [{ action: 'Pass', to: [{ networks: ['10.0.0.0/8'] }] }] }),
    cnp('admin-a', 'Admin', 5, { ingress: [{ action: 'Accept', from: [inNs('b')] }] }),
    cnp('admin-0', 'Admin', 0, {
      subject: { pods: { podSelector: { matchLabels: { app: 'db' } } } },
      ingress: [{ action: 'Deny', from: [inNs('b')] }],
    }),
  ];
  const model = buildCnpNodeModel({ ...baseCluster([], cnps), node: 'node-a' });

  it('orders policies Admin before Baseline, then by priority, then by name', () => {
    // admin-0 selects only a2 (node-b): not programmed on node-a.
    expect(model.policies.map((p) => p.name)).to.deep.equal(['admin-a', 'admin-b', 'base-1']);
    const b = buildCnpNodeModel({ ...baseCluster([], cnps), node: 'node-b' });
    expect(b.policies.map((p) => p.name)).to.deep.equal(['admin-0', 'admin-a', 'admin-b', 'base-1']);
  });

  it('lists, per local pod, tier and direction, only the policies with rules in that direction', () => {
    expect(model.pods.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(['a/a1', 'b/b1']); // no host-network pod
    const a1 = model.pods[0];
    expect(a1.admin).to.deep.equal({ ingress: ['admin-a'], egress: ['admin-b'] });
    expect(a1.baseline).to.deep.equal({ ingress: ['base-1'], egress: [] });
    expect(
      orderedRules(model, 'a/a1', 'Admin', 'ingress').map((r) => [
        r.policy.name,
        r.rule.index,
        r.rule.action,
      ]),
    ).to.deep.equal([['admin-a', 0, 'Accept']]);
  });

  it('resolves peers to pod IPs (host-network pods excluded) and networks to CIDR blocks', () => {
    const admin = model.policies.find((p) => p.name === 'admin-a');
    expect(admin?.ingress[0].peers.podIPs).to.deep.equal(['10.0.1.1', '10.0.1.2']);
    const all = model.policies.find((p) => p.name === 'base-1');
    expect(all?.ingress[0].peers.podIPs).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.1.1', '10.0.1.2']);
    const nets = model.policies.find((p) => p.name === 'admin-b');
    expect(nets?.egress[0].peers).to.deep.include({
      any: false,
      podIPs: [],
      blocks: [{ cidr: '10.0.0.0/8', except: [] }],
    });
    expect(nets?.localPods).to.deep.equal(['a/a1', 'b/b1']);
    expect(nets?.uid).to.equal('uid-admin-b');
    expect(nets?.generation).to.equal(1);
  });

  it('gives a ClusterNetworkPolicy peer the peer-set key of the equivalent NetworkPolicy peer (one ipset for both)', () => {
    const sel: LabelSelector = { matchLabels: { app: 'web' } };
    const nsSel: LabelSelector = { matchLabels: { tenant: 'b' } };
    const c = baseCluster(
      [policy('a', 'np', { ingress: [{ from: [{ namespaceSelector: nsSel, podSelector: sel }] }] })],
      [
        cnp('c', 'Admin', 1, {
          ingress: [{ action: 'Deny', from: [{ pods: { namespaceSelector: nsSel, podSelector: sel } }] }],
        }),
      ],
    );
    const cm = buildCnpNodeModel({ ...c, node: 'node-a' });
    const nm = buildNodeModel({ ...c, node: 'node-a' });
    const cnpRule = cm.policies[0].ingress[0];
    const npRule = nm.policies[0].ingress[0];
    expect(cnpRule.peers.podPeersKey).to.not.equal('');
    expect(cnpRule.peers.podPeersKey).to.equal(npRule.peers.podPeersKey);
    expect(cnpRule.peers.podIPs).to.deep.equal(['10.0.1.1']);
  });

  it('resolves port numbers, ranges and named ports (per pod, with the declared protocol)', () => {
    const m = buildCnpNodeModel({
      ...baseCluster(
        [],
        [
          cnp('ports', 'Admin', 1, {
            ingress: [
              {
                action: 'Deny',
                from: [{ namespaces: {} }],
                protocols: [
                  { tcp: { destinationPort: { number: 80 } } },
                  { udp: { destinationPort: { range: { start: 5000, end: 5100 } } } },
                  { destinationNamedPort: 'web' },
                ],
              },
            ],
          }),
        ],
      ),
      node: 'node-a',
    });
    const rule = m.policies[0].ingress[0];
    expect(rule.anyPort).to.equal(false);
    expect(rule.ports).to.deep.equal([
      { protocol: 'TCP', port: 80 },
      { protocol: 'UDP', port: 5000, endPort: 5100 },
    ]);
    expect(rule.named).to.deep.equal([
      { protocol: 'TCP', name: 'web', port: 8080, podIPs: ['10.0.0.1'] },
      { protocol: 'UDP', name: 'web', port: 5353, podIPs: ['10.0.1.1'] },
    ]);
  });

  it('keeps unusable rules in fail-closed form and reports the policy as not programmable', () => {
    const m = buildCnpNodeModel({
      ...baseCluster(
        [],
        [
          cnp('exp', 'Admin', 1, {
            egress: [
              { action: 'Accept', to: [{ domainNames: ['kubernetes.io'] }] },
              { action: 'Pass', to: [{ nodes: {} }] },
              { action: 'Deny', to: [{ networks: ['10.0.0.1/8'] }] },
              { action: 'Accept', to: [{ namespaces: {} }] },
            ],
          }),
          cnp('fine', 'Admin', 2, { egress: [{ action: 'Deny', to: [{ namespaces: {} }] }] }),
        ],
      ),
      node: 'node-a',
    });
    const [exp, fine] = m.policies;
    expect(exp.programmable).to.equal(false);
    expect(
      exp.egress.map((r) => [r.action, r.peers.any, r.anyPort, r.failClosed !== undefined]),
    ).to.deep.equal([
      ['Accept', false, false, true],
      ['Deny', true, true, true],
      ['Deny', true, true, true],
      ['Accept', false, true, false],
    ]);
    expect(exp.reasons).to.have.length(3);
    expect(exp.reasons[0]).to.include('domainNames: experimental peer, not supported');
    expect(exp.reasons[1])
      .to.include('nodes: experimental peer')
      .and.include('denies everything (fail closed)');
    expect(exp.reasons[2]).to.include('"10.0.0.1/8"');
    expect(fine.programmable).to.equal(true);
    expect(m.problems.map((p) => [p.name, p.reason])).to.deep.equal([['exp', 'NotProgrammable']]);
  });

  it('leaves out and reports a policy whose subject, tier or priority it cannot read', () => {
    const bad = [
      cnp('no-subject', 'Admin', 1, { subject: {} }),
      cnp('bad-selector', 'Admin', 1, {
        subject: { namespaces: { matchExpressions: [{ key: 'x', operator: 'In' }] } },
      }),
      {
        ...cnp('bad-tier', 'Admin', 1),
        spec: { ...cnp('x', 'Admin', 1).spec, tier: 'Middle' },
      } as unknown as ClusterNetworkPolicy,
      cnp('bad-priority', 'Admin', 1001),
    ];
    const m = buildCnpNodeModel({ ...baseCluster([], bad), node: 'node-a' });
    expect(m.policies).to.deep.equal([]);
    expect(m.problems.map((p) => [p.name, p.reason])).to.deep.equal([
      ['bad-priority', 'InvalidPolicy'],
      ['bad-selector', 'InvalidPolicy'],
      ['bad-tier', 'InvalidPolicy'],
      ['no-subject', 'InvalidPolicy'],
    ]);
  });

  it('is deterministic: input order does not change the model', () => {
    const c = baseCluster([], cnps);
    const reversed = { ...c, pods: [...c.pods].reverse(), clusterNetworkPolicies: [...cnps].reverse() };
    expect(buildCnpNodeModel({ ...reversed, node: 'node-b' })).to.deep.equal(
      buildCnpNodeModel({ ...c, node: 'node-b' }),
    );
  });
});

/** A small deterministic PRNG (mulberry32), so a failure names the seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCluster(seed: number): { cluster: Cluster; ips: string[] } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const apps = ['web', 'db', 'api'];
  const namespaces = ['a', 'b', 'c'].map((n) => ns(n, r() < 0.7 ? { tier: pick(['front', 'back']) } : {}));
  const pods: Pod[] = [];
  let n = 0;
  for (const namespace of ['a', 'b', 'c'])
    for (let i = 0; i < 3; i++) {
      n++;
      const host = r() < 0.12;
      const ip = host ? `10.250.0.${10 + (n % 2)}` : `10.0.${n}.${1 + Math.floor(r() * 3)}`;
      const ports =
        r() < 0.5
          ? [
              {
                name: pick(['web', 'metrics']),
                containerPort: pick([80, 8080, 9090]),
                protocol: pick<Protocol>(['TCP', 'UDP']),
              },
            ]
          : [];
      pods.push(
        pod(namespace, `p${n}`, {
          ip,
          node: pick(NODES),
          labels: { app: pick(apps) },
          ports,
          hostNetwork: host,
          ...(r() < 0.05 ? { phase: 'Succeeded' } : {}),
        }),
      );
    }
  const selector = (): LabelSelector =>
    pick<LabelSelector>([
      {},
      { matchLabels: { app: pick(apps) } },
      { matchExpressions: [{ key: 'app', operator: 'NotIn', values: [pick(apps)] }] },
    ]);
  const nsSelector = (): LabelSelector =>
    pick<LabelSelector>([
      {},
      { matchLabels: { 'kubernetes.io/metadata.name': pick(['a', 'b', 'c']) } },
      { matchLabels: { tier: pick(['front', 'back']) } },
    ]);
  const peer = (egress: boolean): ClusterNetworkPolicyEgressPeer => {
    const k = r();
    if (k < 0.35) return { namespaces: nsSelector() };
    if (k < 0.7) return { pods: { namespaceSelector: nsSelector(), podSelector: selector() } };
    if (egress && k < 0.9)
      return {
        networks: [pick(['10.0.0.0/16', '10.0.4.0/24', '10.250.0.0/24', '0.0.0.0/0', '192.0.2.0/24'])],
      };
    if (egress && k < 0.95)
      return pick<ClusterNetworkPolicyEgressPeer>([{ nodes: {} }, { domainNames: ['example.com'] }]);
    return pick([
      {},
      { namespaces: { matchExpressions: [{ key: 'x', operator: 'In' }] } },
    ]) as ClusterNetworkPolicyEgressPeer;
  };
  const protocols = (): ClusterNetworkPolicyProtocol[] | undefined => {
    if (r() < 0.45) return undefined;
    const out: ClusterNetworkPolicyProtocol[] = [];
    const count = 1 + Math.floor(r() * 2);
    for (let i = 0; i < count; i++) {
      const k = r();
      const proto = pick(['tcp', 'udp'] as const);
      if (k < 0.4) out.push({ [proto]: { destinationPort: { number: pick([80, 8080, 9090]) } } });
      else if (k < 0.75)
        out.push({
          [proto]: {
            destinationPort: { range: { start: pick([79, 80, 8000]), end: pick([81, 8080, 9000]) } },
          },
        });
      else out.push({ destinationNamedPort: pick(['web', 'metrics']) });
    }
    return out;
  };
  const cnps: ClusterNetworkPolicy[] = [];
  const count = Math.floor(r() * 5);
  for (let i = 0; i < count; i++) {
    const rules = (egress: boolean) =>
      Array.from({ length: Math.floor(r() * 3) }, () => {
        const peers = Array.from({ length: 1 + Math.floor(r() * 2) }, () => peer(egress));
        const p = protocols();
        return {
          action: pick(['Accept', 'Deny', 'Pass'] as const),
          ...(egress ? { to: peers } : { from: peers }),
          ...(p ? { protocols: p } : {}),
        };
      });
    const ingress = rules(false);
    const egress = rules(true);
    cnps.push(
      cnp(`cnp-${i}`, pick(['Admin', 'Baseline'] as const), pick([1, 5, 5, 10]), {
        subject:
          r() < 0.5
            ? { namespaces: nsSelector() }
            : { pods: { namespaceSelector: nsSelector(), podSelector: selector() } },
        ...(ingress.length > 0 ? { ingress: ingress as never } : {}),
        ...(egress.length > 0 ? { egress: egress as never } : {}),
      }),
    );
  }
  const policies: NetworkPolicy[] = [];
  for (const namespace of ['a', 'b', 'c']) {
    if (r() < 0.6) continue;
    const k = r();
    policies.push(
      k < 0.3
        ? policy(namespace, 'deny', {
            podSelector: selector(),
            policyTypes: pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]) as never,
          })
        : policy(namespace, 'allow', {
            podSelector: selector(),
            ingress: [
              {
                from: [{ namespaceSelector: nsSelector(), podSelector: selector() }],
                ...(r() < 0.5 ? { ports: [{ port: pick([80, 8080]) }] } : {}),
              },
            ],
            ...(r() < 0.5 ? { egress: [{ to: [{ podSelector: selector() }] }] } : {}),
          }),
    );
  }
  const ips = [...new Set([...pods.map((p) => p.status?.podIP as string), '192.0.2.9', '198.51.100.1'])];
  return { cluster: { namespaces, pods, policies, clusterNetworkPolicies: cnps }, ips };
}

describe('ClusterNetworkPolicy model: random clusters, models walked in order agree with the oracle', () => {
  it('200 clusters x 60 connections', function () {
    // CPU work only (about 12,000 judgements by both sides), no waiting: seconds on a loaded machine.
    this.timeout(60_000);
    let denied = 0;
    let checked = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { cluster, ips } = randomCluster(seed);
      const oracle = new ClusterNetworkPolicyOracle(cluster);
      const models = new ModelInterpreter(cluster, NODES);
      const r = rng(seed * 7919);
      for (let i = 0; i < 60; i++) {
        const src = ips[Math.floor(r() * ips.length)];
        const dst = ips[Math.floor(r() * ips.length)];
        if (src === dst) continue;
        const c = {
          src,
          dst,
          protocol: r() < 0.7 ? 'TCP' : ('UDP' as Protocol),
          port: [79, 80, 81, 8080, 8500, 9090][Math.floor(r() * 6)],
        };
        const want = oracle.allows(c);
        expect(models.allows(c), `seed ${seed}: ${src} -> ${dst} ${c.protocol}/${c.port}`).to.equal(want);
        checked++;
        if (!want) denied++;
      }
    }
    // The generator must exercise both outcomes, or the agreement says little.
    expect(checked).to.be.greaterThan(10_000);
    expect(denied).to.be.greaterThan(checked / 10);
    expect(denied).to.be.lessThan(checked * 0.9);
  });
});
