// Strict tenants' ClusterNetworkPolicies in the status, pure: a strict tenant counts as enforced
// on a node only when the node's report lists its ClusterNetworkPolicies (UID, generation) as
// well as its NetworkPolicies; each ClusterNetworkPolicy's Programmed condition comes from the
// same reports, over the nodes that run pods its subject selects, and stays the same object
// (no write) while nothing changes.
import { expect } from 'chai';
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { Namespace, NetworkPolicy, Pod } from '../../operator/api/networkpolicy.js';
import type { NodeEnforcement, PolicyError } from '../../operator/api/nodeenforcement.js';
import { subjectSelection } from '../../operator/cnp/subject.js';
import { clusterPolicyConditions, CNP_PROGRAMMED } from '../../operator/controller/cnp-status.js';
import { aggregateEnforcement } from '../../operator/enforcement/aggregate.js';
import { withRemovals } from '../../operator/kube/softtenants.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { ns, tenant } from './tenant-fixtures.js';

const now = new Date('2026-12-01T18:00:30Z');
const NOW = '2026-12-01T18:00:30Z';
const strictTenant = tenant(
  'team-a',
  { namespaces: { names: ['a'] }, isolation: { ingress: 'Tenant', egress: 'Tenant', strict: true } },
  { uid: 'uid-a', generation: 3 },
);
const namespaces: Namespace[] = [ns('a', { 'tenancy.softtenant.io/tenant': 'team-a' }), ns('b')];
const expansion = expandTenants({ tenants: [strictTenant], namespaces }).tenants[0];

/** The expansion's objects as the API server stores them: uid and generation set. */
const cnps: ClusterNetworkPolicy[] = (expansion?.clusterNetworkPolicies ?? []).map((p, i) => ({
  ...p,
  metadata: { ...p.metadata, uid: `cnp-${i}`, generation: 2 },
}));
const policies: NetworkPolicy[] = (expansion?.policies ?? []).map((p, i) => ({
  ...p,
  metadata: { ...p.metadata, uid: `np-${i}`, generation: 1 },
}));

function pod(name: string, namespace: string, node: string, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name, namespace, labels: { app: name } },
    spec: { nodeName: node, containers: [{ name: 'c' }], ...extra },
    status: { phase: 'Running', podIP: `10.1.0.${name.length}` },
  };
}

function report(
  node: string,
  listed: { policies?: NetworkPolicy[]; cnps?: ClusterNetworkPolicy[]; generation?: number },
  errors: PolicyError[] = [],
): NodeEnforcement {
  return {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'NodeEnforcement',
    metadata: { name: node },
    status: {
      heartbeatTime: '2026-12-01T18:00:25Z',
      heartbeatSeconds: 10,
      policies: (listed.policies ?? []).map((p) => ({
        namespace: p.metadata.namespace ?? '',
        name: p.metadata.name,
        uid: p.metadata.uid ?? '',
        generation: p.metadata.generation ?? 0,
      })),
      clusterNetworkPolicies: (listed.cnps ?? []).map((p) => ({
        name: p.metadata.name,
        uid: p.metadata.uid ?? '',
        generation: listed.generation ?? p.metadata.generation ?? 0,
      })),
      errors,
    },
  };
}

const byName = new Map(namespaces.map((n) => [n.metadata.name, n]));
const cnpSelects = subjectSelection((n) => byName.get(n));
// Every generated NetworkPolicy selects every pod of its namespace (podSelector {}).
const selects = (p: NetworkPolicy, pd: Pod) => p.metadata.namespace === pd.metadata.namespace;
const pods = [pod('web', 'a', 'n1'), pod('db', 'a', 'n2'), pod('other', 'b', 'n3')];

function tenantEnforcement(reports: NodeEnforcement[]) {
  return aggregateEnforcement({
    policies,
    pods,
    reports,
    now,
    selects,
    clusterNetworkPolicies: cnps,
    cnpSelects,
  });
}

function programmed(policy: ClusterNetworkPolicy, reports: NodeEnforcement[], podList = pods) {
  const result = aggregateEnforcement({
    policies: [],
    selects: () => false,
    clusterNetworkPolicies: [policy],
    cnpSelects,
    pods: podList,
    reports,
    now,
  });
  return clusterPolicyConditions(policy, result, NOW);
}

describe('strict tenants: ClusterNetworkPolicies in the enforcement status', () => {
  it('the expansion gives two ClusterNetworkPolicies whose subject is the tenant namespaces', () => {
    expect(cnps.map((p) => p.metadata.name)).to.deep.equal([
      'softtenant-team-a-allow',
      'softtenant-team-a-deny',
    ]);
    const [allow] = cnps as [ClusterNetworkPolicy];
    expect(cnpSelects(allow, pod('web', 'a', 'n1'))).to.equal(true);
    expect(cnpSelects(allow, pod('other', 'b', 'n1'))).to.equal(false);
    // A namespace the cache does not hold: its labels are unknown, so it is not a subject.
    expect(cnpSelects(allow, pod('x', 'gone', 'n1'))).to.equal(false);
  });

  it('a node that programs the NetworkPolicies but not the ClusterNetworkPolicies does not count as enforced', () => {
    const r = tenantEnforcement([report('n1', { policies, cnps }), report('n2', { policies })]);
    expect(r.status).to.include({ nodes: 2, enforced: 1, summary: '1/2' });
    expect(r.condition).to.include({ status: 'False', reason: 'AwaitingEnforcement' });
    expect(r.condition.message).to.include(
      'n2: ClusterNetworkPolicy softtenant-team-a-allow generation 2 not yet programmed (node has nothing)',
    );
  });

  it('an older generation of a ClusterNetworkPolicy is pending too; both kinds at the current generation are enforced', () => {
    const old = tenantEnforcement([
      report('n1', { policies, cnps }),
      report('n2', { policies, cnps, generation: 1 }),
    ]);
    expect(old.status.summary).to.equal('1/2');
    expect(old.condition.message).to.include('(node has generation 1)');
    const r = tenantEnforcement([report('n1', { policies, cnps }), report('n2', { policies, cnps })]);
    expect(r.status).to.deep.equal({ nodes: 2, enforced: 2, summary: '2/2' });
    expect(r.condition.status).to.equal('True');
  });

  it('a ClusterNetworkPolicy the node refuses is a policy error, not a pending one', () => {
    const refused: PolicyError = {
      kind: 'ClusterNetworkPolicy',
      namespace: '',
      name: 'softtenant-team-a-deny',
      reason: 'NotProgrammable',
      message: 'ClusterNetworkPolicy softtenant-team-a-deny: egress[0].to[0]: nodes is not supported',
    };
    const r = tenantEnforcement([report('n1', { policies, cnps }), report('n2', { policies }, [refused])]);
    expect(r.status.lagging?.[0]).to.include({ node: 'n2', reason: 'PolicyError' });
    expect(r.condition).to.include({ status: 'False', reason: 'NotEnforced' });
    // A NetworkPolicy error of the same name in another namespace is not this policy's.
    const np: PolicyError = { namespace: 'a', name: 'softtenant-team-a-deny', reason: 'X', message: 'x' };
    const other = tenantEnforcement([
      report('n1', { policies, cnps }),
      report('n2', { policies, cnps }, [np]),
    ]);
    expect(other.condition.status).to.equal('True');
  });
});

describe("strict tenants: the ClusterNetworkPolicies' Programmed condition", () => {
  const [allow] = cnps as [ClusterNetworkPolicy];

  it('is False/Pending while a node that runs a subject pod has not programmed it, naming the node', () => {
    const conditions = programmed(allow, [report('n1', { cnps }), report('n2', { policies })]);
    expect(conditions).to.have.length(1);
    expect(conditions[0]).to.deep.include({
      type: CNP_PROGRAMMED,
      status: 'False',
      reason: 'Pending',
      observedGeneration: 2,
      lastTransitionTime: NOW,
    });
    expect(conditions[0]?.message).to.match(/^programmed \(generation 2\) on 1\/2 nodes .*; n2: /);
  });

  it('is True/Programmed when every such node lists it at its generation (the node without subject pods does not count)', () => {
    const conditions = programmed(allow, [report('n1', { cnps }), report('n2', { cnps })]);
    expect(conditions[0]).to.deep.include({ status: 'True', reason: 'Programmed' });
    expect(conditions[0]?.message).to.equal(
      'programmed (generation 2) on 2/2 nodes running pods its subject selects',
    );
  });

  it('is False/NotProgrammed when a node has no agent, and True/NoSelectedPods without subject pods', () => {
    expect(
      programmed(allow, [report('n1', { cnps })], [pod('web', 'a', 'n1'), pod('db', 'a', 'n9')])[0],
    ).to.include({
      status: 'False',
      reason: 'NotProgrammed',
    });
    const hostOnly = [pod('h', 'a', 'n1', { hostNetwork: true }), pod('other', 'b', 'n3')];
    expect(programmed(allow, [], hostOnly)[0]).to.include({ status: 'True', reason: 'NoSelectedPods' });
  });

  it('names ten lagging nodes at most and counts the rest (the CRD caps the message)', () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      pod(`p${i}`, 'a', `node-${String(i).padStart(3, '0')}`),
    );
    const c = programmed(allow, [], many)[0];
    expect(c).to.include({ status: 'False', reason: 'NotProgrammed' });
    expect(c?.message).to.match(/on 0\/400 nodes .*; node-009: .*; and 390 more nodes$/);
    expect(c?.message).not.to.include('node-010');
    expect(c?.message.length).to.be.lessThan(2000);
  });

  it('keeps the stored list (and so writes nothing) while the state holds, and keeps conditions of others', () => {
    const first = programmed(allow, [report('n1', { cnps }), report('n2', { cnps })]);
    const other = {
      type: 'example.com/Audited',
      status: 'True' as const,
      reason: 'Seen',
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const stored: ClusterNetworkPolicy = { ...allow, status: { conditions: [...first, other] } };
    const later = aggregateEnforcement({
      policies: [],
      selects: () => false,
      clusterNetworkPolicies: [stored],
      cnpSelects,
      pods,
      reports: [report('n1', { cnps }), report('n2', { cnps })],
      now: new Date('2026-12-01T18:00:40Z'),
    });
    const again = clusterPolicyConditions(stored, later, '2026-12-01T18:00:40Z');
    expect(again).to.deep.equal(
      stored.status?.conditions?.slice().sort((a, b) => a.type.localeCompare(b.type)),
    );
    // A transition moves lastTransitionTime.
    const pending = clusterPolicyConditions(
      stored,
      aggregateEnforcement({
        policies: [],
        selects: () => false,
        clusterNetworkPolicies: [stored],
        cnpSelects,
        pods,
        reports: [report('n1', { cnps })],
        now: new Date('2026-12-01T18:00:40Z'),
      }),
      '2026-12-01T18:00:40Z',
    );
    expect(pending.find((c) => c.type === CNP_PROGRAMMED)).to.include({
      status: 'False',
      lastTransitionTime: '2026-12-01T18:00:40Z',
    });
    expect(pending.find((c) => c.type === other.type)).to.deep.equal(other);
  });
});

// Found by the integration test of strict tenants (a tenant whose node report arrived after its
// first reconcile kept status.enforcement.lagging, so its status was written on every resync).
describe('the SoftTenant status merge patch', () => {
  it('sends null for a key an object field no longer has, and leaves the rest as given', () => {
    const stored = {
      policies: 2,
      enforcement: {
        nodes: 1,
        enforced: 0,
        summary: '0/1',
        lagging: [{ node: 'n1', reason: 'NoAgent' }],
      },
    };
    const next = {
      policies: 2,
      enforcement: { nodes: 1, enforced: 1, summary: '1/1', lastEnforcedSeconds: 3 },
    };
    expect(withRemovals(next, stored)).to.deep.equal({
      policies: 2,
      enforcement: { nodes: 1, enforced: 1, summary: '1/1', lastEnforcedSeconds: 3, lagging: null },
    });
    expect(withRemovals(next, undefined)).to.deep.equal(next);
    expect(withRemovals(stored, stored)).to.deep.equal(stored);
  });
});
