import { expect } from 'chai';
import type { Namespace, NetworkPolicy } from '../../operator/api/networkpolicy.js';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { withOwnership } from '../../operator/controller/ownership.js';
import { labelMovesFor, planIsEmpty, planTenant } from '../../operator/controller/plan.js';
import { specWithDefaults } from '../../operator/api/networkpolicy-defaults.js';
import type { ExpansionResult, TenantExpansion } from '../../operator/tenant/types.js';

const LABEL = 'tenancy.softtenant.io/tenant';

function tenant(name: string, uid = `uid-${name}`): SoftTenant {
  return {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'SoftTenant',
    metadata: { name, uid },
    spec: {},
  };
}
function ns(name: string, holder?: string, extra: Partial<Namespace['metadata']> = {}): Namespace {
  return { metadata: { name, resourceVersion: '1', labels: holder ? { [LABEL]: holder } : {}, ...extra } };
}
function policy(
  namespace: string,
  name: string,
  spec: NetworkPolicy['spec'] = { podSelector: {} },
): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}
/** As the API server would return the policy after the operator applied it. */
function live(p: NetworkPolicy, owner: SoftTenant): NetworkPolicy {
  const w = withOwnership(p, owner);
  return { ...w, metadata: { ...w.metadata, uid: `uid-${p.metadata.name}` }, spec: specWithDefaults(w.spec) };
}

const t = tenant('t');
const exp = (policies: NetworkPolicy[], namespaces = ['a']): TenantExpansion => ({
  tenant: 't',
  namespaces,
  policies,
  clusterNetworkPolicies: [],
  conflicts: [],
  problems: [],
});

/** Live objects by policyKey, as the reconciler hands them to the plan. */
function byKey(policies: NetworkPolicy[]): Map<string, NetworkPolicy> {
  return new Map(policies.map((p) => [`${p.metadata.namespace ?? ''}/${p.metadata.name}`, p]));
}

describe('reconcile plan', () => {
  it('moves only labels that concern this tenant', () => {
    const namespaces = [ns('join'), ns('leave', 't'), ns('other', 'x'), ns('handover', 't')];
    const result: ExpansionResult = {
      tenants: [],
      labelChanges: [
        { namespace: 'join', tenant: 't' },
        { namespace: 'leave', tenant: null },
        { namespace: 'other', tenant: 'y' },
        { namespace: 'handover', tenant: 'y' },
        { namespace: 'missing', tenant: 't' },
      ],
    };
    const moves = labelMovesFor('t', result, namespaces).map((m) => [m.namespace.metadata.name, m.tenant]);
    expect(moves).to.deep.equal([
      ['join', 't'],
      ['leave', null],
      ['handover', 'y'],
    ]);
  });

  it('applies what is missing or differs, and nothing when all is in place', () => {
    const p1 = policy('a', 'p1', { podSelector: {}, ingress: [{}] });
    const p2 = policy('a', 'p2');
    const inPlace = planTenant({
      tenant: t,
      expansion: exp([p1, p2]),
      result: { tenants: [], labelChanges: [] },
      namespaces: [ns('a', 't')],
      owned: [live(p1, t), live(p2, t)],
      live: byKey([live(p1, t), live(p2, t)]),
    });
    expect(planIsEmpty(inPlace)).to.equal(true);
    expect(inPlace.desired).to.have.length(2);

    const edited = live(p1, t);
    edited.spec = { podSelector: { matchLabels: { x: 'y' } } };
    const plan = planTenant({
      tenant: t,
      expansion: exp([p1, p2]),
      result: { tenants: [], labelChanges: [] },
      namespaces: [ns('a', 't')],
      owned: [edited],
      live: byKey([edited]),
    });
    expect(plan.apply.map((a) => [a.policy.metadata.name, a.differences])).to.deep.equal([
      ['p1', ['spec']],
      ['p2', ['missing']],
    ]);
  });

  it('prunes only this tenant\u2019s generated policies that are no longer desired, never in terminating namespaces', () => {
    const other = tenant('o');
    const stale = live(policy('a', 'stale'), t);
    const oldIncarnation = live(policy('a', 'old'), tenant('t', 'uid-previous'));
    const othersPolicy = live(policy('a', 'theirs'), other);
    const dying = live(policy('gone', 'stale'), t);
    const plan = planTenant({
      tenant: t,
      expansion: exp([]),
      result: { tenants: [], labelChanges: [] },
      namespaces: [ns('a', 't'), ns('gone', 't', { deletionTimestamp: '2030-01-01T00:00:00Z' })],
      owned: [stale, oldIncarnation, othersPolicy, dying],
      live: new Map(),
    });
    expect(plan.prune.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).to.deep.equal(['a/stale']);
  });

  it('refuses to take over a same-named policy it did not generate, but adopts its own hand-stripped one', () => {
    const wanted = policy('a', 'p');
    const users = {
      ...policy('a', 'p'),
      metadata: { name: 'p', namespace: 'a', uid: 'u1', labels: { owner: 'me' } },
    };
    const refused = planTenant({
      tenant: t,
      expansion: exp([wanted]),
      result: { tenants: [], labelChanges: [] },
      namespaces: [ns('a', 't')],
      owned: [],
      live: new Map([['a/p', users]]),
    });
    expect(refused.apply).to.deep.equal([]);
    expect(refused.collisions[0]).to.match(
      /NetworkPolicy a\/p already exists and was not generated for this tenant/,
    );

    const stripped = live(wanted, t);
    stripped.metadata.labels = {};
    const adopted = planTenant({
      tenant: t,
      expansion: exp([wanted]),
      result: { tenants: [], labelChanges: [] },
      namespaces: [ns('a', 't')],
      owned: [],
      live: new Map([['a/p', stripped]]),
    });
    expect(adopted.collisions).to.deep.equal([]);
    expect(adopted.apply.map((a) => a.differences)).to.deep.equal([['labels']]);
  });
});
