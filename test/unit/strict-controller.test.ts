// The strict part of the controller, pure: which ClusterNetworkPolicy writes a reconcile plans
// (none when the live objects are what the API server stores for the desired ones; the owned
// fields that differ after a hand edit; prunes only of this tenant's generated ones) and the
// status it reports (Strict condition, count, Ready/Stalled when the CRD is missing).
import { expect } from 'chai';
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { OwnedStatus } from '../../operator/controller/status.js';
import { planClusterPolicies, withClusterOwnership } from '../../operator/controller/cnp-plan.js';
import { withStrictStatus } from '../../operator/controller/cnp-status.js';
import { unavailableMessage, type StrictOutcome } from '../../operator/controller/cnp-sync.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { ns, tenant } from './tenant-fixtures.js';

const NOW = '2026-12-01T18:00:00Z';
const strictTenant = tenant(
  'team-a',
  { namespaces: { names: ['a'] }, isolation: { egress: 'Tenant', strict: true } },
  { uid: 'uid-a', generation: 3 },
);
const wanted =
  expandTenants({ tenants: [strictTenant], namespaces: [ns('a')] }).tenants[0]?.clusterNetworkPolicies ?? [];

/** The object as the API server returns it after the apply: server fields added, nothing else. */
function stored(p: ClusterNetworkPolicy): ClusterNetworkPolicy {
  const o = structuredClone(withClusterOwnership(p, strictTenant));
  o.metadata = { ...o.metadata, uid: `uid-${p.metadata.name}`, resourceVersion: '7', generation: 1 };
  o.metadata.labels = { ...o.metadata.labels, 'someone.else/label': 'theirs' };
  return o;
}

function plan(live: ClusterNetworkPolicy[], owned = live, desired = wanted) {
  const byName = new Map(live.map((p) => [p.metadata.name, p]));
  return planClusterPolicies({ tenant: strictTenant, wanted: desired, live: (n) => byName.get(n), owned });
}

describe('strict tenants: the ClusterNetworkPolicy plan', () => {
  it('creates what is missing', () => {
    expect(plan([]).apply.map((a) => [a.policy.metadata.name, a.differences])).to.deep.equal([
      ['softtenant-team-a-allow', ['missing']],
      ['softtenant-team-a-deny', ['missing']],
    ]);
  });

  it("writes nothing when the live objects are the stored form of the desired ones (others' labels included)", () => {
    const p = plan(wanted.map(stored));
    expect(p.apply).to.deep.equal([]);
    expect(p.prune).to.deep.equal([]);
  });

  it('names the owned fields a hand edit changed', () => {
    const live = wanted.map(stored);
    const [allow, deny] = live;
    if (!allow || !deny) throw new Error('two policies expected');
    deny.spec.priority = 999;
    delete allow.metadata.labels?.['app.kubernetes.io/managed-by'];
    allow.metadata.ownerReferences = [];
    expect(plan(live).apply.map((a) => [a.policy.metadata.name, a.differences])).to.deep.equal([
      ['softtenant-team-a-allow', ['labels', 'ownerReferences']],
      ['softtenant-team-a-deny', ['spec']],
    ]);
  });

  it('prunes only the generated policies of this tenant (its UID) that are no longer wanted', () => {
    const live = wanted.map(stored);
    const foreign = structuredClone(live[0]);
    foreign.metadata.name = 'softtenant-team-a-old';
    foreign.metadata.ownerReferences = (foreign.metadata.ownerReferences ?? []).map((r) => ({
      ...r,
      uid: 'uid-other',
    }));
    const p = plan(live, [...live, foreign], []);
    expect(p.apply).to.deep.equal([]);
    expect(p.prune.map((x) => x.metadata.name)).to.deep.equal([
      'softtenant-team-a-allow',
      'softtenant-team-a-deny',
    ]);
  });
});

describe('strict tenants: status', () => {
  const applied: OwnedStatus = {
    observedGeneration: 3,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Applied',
        message: 'ok',
        observedGeneration: 3,
        lastTransitionTime: NOW,
      },
    ],
  };
  const outcome = (over: Partial<StrictOutcome>): StrictOutcome => ({
    wanted,
    inPlace: 2,
    failures: [],
    ...over,
  });
  const find = (s: OwnedStatus, type: string) => s.conditions?.find((c) => c.type === type);

  it('in place: Strict=True naming the policies and priorities, count 2, Ready untouched', () => {
    const s = withStrictStatus(strictTenant, applied, outcome({}), NOW);
    expect(find(s, 'Strict')).to.include({ status: 'True', reason: 'Applied' });
    expect(find(s, 'Strict')?.message).to.contain('softtenant-team-a-allow (Admin 700)');
    expect(find(s, 'Strict')?.message).to.contain('softtenant-team-a-deny (Admin 750)');
    expect(s.clusterNetworkPolicies).to.equal(2);
    expect(find(s, 'Ready')).to.include({ status: 'True', reason: 'Applied' });
  });

  it('CRD missing: Strict=False, Ready=False and Stalled with reason ClusterNetworkPolicyUnavailable', () => {
    const s = withStrictStatus(
      strictTenant,
      applied,
      outcome({ inPlace: 0, unavailable: unavailableMessage() }),
      NOW,
    );
    for (const type of ['Strict', 'Ready']) {
      expect(find(s, type), type).to.include({ status: 'False', reason: 'ClusterNetworkPolicyUnavailable' });
    }
    expect(find(s, 'Stalled')).to.include({ status: 'True', reason: 'ClusterNetworkPolicyUnavailable' });
    expect(find(s, 'Strict')?.message).to.contain('clusternetworkpolicies.policy.networking.k8s.io');
    expect(s.clusterNetworkPolicies).to.equal(0);
  });

  it('a failed write: Strict=False/ApplyFailed', () => {
    const s = withStrictStatus(strictTenant, applied, outcome({ inPlace: 1, failures: ['forbidden'] }), NOW);
    expect(find(s, 'Strict')).to.include({ status: 'False', reason: 'ApplyFailed' });
    expect(s.clusterNetworkPolicies).to.equal(1);
  });

  it('not strict: no Strict condition; the count is written only if it was there before', () => {
    const before = {
      ...applied,
      conditions: [...(applied.conditions ?? []), { ...applied.conditions?.[0], type: 'Strict' } as never],
    };
    const never = withStrictStatus(tenant('b', {}), before, { wanted: [], inPlace: 0, failures: [] }, NOW);
    expect(find(never, 'Strict')).to.equal(undefined);
    expect(never.clusterNetworkPolicies).to.equal(undefined);
    const was = tenant('b', {});
    was.status = { clusterNetworkPolicies: 2 };
    expect(
      withStrictStatus(was, applied, { wanted: [], inPlace: 0, failures: [] }, NOW).clusterNetworkPolicies,
    ).to.equal(0);
  });
});
