import { expect } from 'chai';
import type { NetworkPolicy, Pod } from '../../operator/api/networkpolicy.js';
import type { NodeEnforcement } from '../../operator/api/nodeenforcement.js';
import { aggregateEnforcement, LagReason } from '../../operator/enforcement/aggregate.js';

const now = new Date('2026-01-01T00:01:00Z');

function policy(name: string, uid: string, generation: number, role?: string): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'a', uid, generation },
    spec: { podSelector: role ? { matchLabels: { role } } : {} },
  };
}
function pod(
  name: string,
  node: string,
  labels: Record<string, string> = {},
  extra: Partial<Pod['status']> = {},
): Pod {
  return {
    metadata: { name, namespace: 'a', labels },
    spec: { nodeName: node, containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: '10.1.0.1', ...extra },
  };
}
function report(
  node: string,
  policies: [string, number][],
  heartbeat = '2026-01-01T00:00:55Z',
  errors: NodeEnforcement['status'] extends infer S
    ? S extends { errors?: infer E }
      ? E
      : never
    : never = [],
): NodeEnforcement {
  return {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'NodeEnforcement',
    metadata: { name: node },
    status: {
      heartbeatTime: heartbeat,
      heartbeatSeconds: 10,
      policies: policies.map(([uid, generation]) => ({ namespace: 'a', name: uid, uid, generation })),
      errors,
    },
  };
}
// Test selector: matchLabels only, enough for these cases.
const selects = (p: NetworkPolicy, pd: Pod) =>
  Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => pd.metadata.labels?.[k] === v);

describe('aggregateEnforcement', () => {
  const pols = [policy('u1', 'u1', 2), policy('u2', 'u2', 1, 'db')];

  it('counts only nodes running selected pods and is enforced when every node programs the current generations', () => {
    const r = aggregateEnforcement({
      policies: pols,
      pods: [pod('w', 'n1'), pod('db', 'n2', { role: 'db' }), pod('done', 'n3', {}, { phase: 'Succeeded' })],
      reports: [
        report('n1', [['u1', 2]]),
        report('n2', [
          ['u1', 2],
          ['u2', 1],
        ]),
      ],
      now,
      selects,
    });
    expect(r.status).to.deep.equal({ nodes: 2, enforced: 2, summary: '2/2' });
    expect(r.condition.status).to.equal('True');
  });

  it('reports an older programmed generation as pending (AwaitingEnforcement)', () => {
    const r = aggregateEnforcement({
      policies: pols,
      pods: [pod('w', 'n1')],
      reports: [report('n1', [['u1', 1]])],
      now,
      selects,
    });
    expect(r.status.summary).to.equal('0/1');
    expect(r.status.lagging?.[0]?.reason).to.equal(LagReason.Pending);
    expect(r.condition).to.include({ status: 'False', reason: 'AwaitingEnforcement' });
    expect(r.condition.message).to.match(/a\/u1 generation 2 not yet programmed \(node has generation 1\)/);
  });

  it('treats a missing or stale report as not enforced, naming the node', () => {
    const missing = aggregateEnforcement({
      policies: pols,
      pods: [pod('w', 'n1')],
      reports: [],
      now,
      selects,
    });
    expect(missing.status.lagging?.[0]).to.include({ node: 'n1', reason: LagReason.NoAgent });
    expect(missing.condition.reason).to.equal('NotEnforced');
    const stale = aggregateEnforcement({
      policies: pols,
      pods: [pod('w', 'n1')],
      reports: [report('n1', [['u1', 2]], '2026-01-01T00:00:20Z')],
      now,
      selects,
    });
    expect(stale.status.lagging?.[0]).to.include({ node: 'n1', reason: LagReason.AgentStale });
    expect(stale.condition.message).to.match(/has not reported since \d{4}-\d\d-\d\dT/);
  });

  it('surfaces a policy the node cannot program', () => {
    const r = aggregateEnforcement({
      policies: pols,
      pods: [pod('w', 'n1')],
      reports: [
        report('n1', [], undefined, [
          { namespace: 'a', name: 'u1', reason: 'InjectedFailure', message: 'boom' },
        ]),
      ],
      now,
      selects,
    });
    expect(r.status.lagging?.[0]).to.include({ reason: LagReason.PolicyError });
    expect(r.condition.message).to.match(/a\/u1 cannot be programmed: InjectedFailure: boom/);
  });

  it('is trivially enforced when no running pod is selected', () => {
    const r = aggregateEnforcement({
      policies: pols,
      pods: [pod('x', 'n1', {}, { podIP: undefined })],
      reports: [],
      now,
      selects,
    });
    expect(r.status).to.deep.equal({ nodes: 0, enforced: 0, summary: '0/0' });
    expect(r.condition.status).to.equal('True');
  });

  it('names the moment the first fresh report of a counted node turns stale', () => {
    const r = aggregateEnforcement({
      policies: pols,
      pods: [pod('w', 'n1'), pod('x', 'n2')],
      // heartbeat every 10s, stale after 3 beats: n1 at 00:01:25, n2 at 00:01:20
      reports: [
        report('n1', [['u1', 2]], '2026-01-01T00:00:55Z'),
        report('n2', [['u1', 2]], '2026-01-01T00:00:50Z'),
      ],
      now,
      selects,
    });
    expect(r.recheckAt?.toISOString()).to.equal('2026-01-01T00:01:20.000Z');
    const none = aggregateEnforcement({ policies: pols, pods: [], reports: [], now, selects });
    expect(none.recheckAt).to.equal(undefined);
  });
});
