import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ReconcileError, StaleReadError } from '../../operator/controller/errors.js';
import { MeteredReconciler, reconcileErrorReason } from '../../operator/controller/metered-reconciler.js';
import { OperatorMetrics } from '../../operator/metrics/operator-metrics.js';
import { TenantConditionsView, type WatchedTenant } from '../../operator/metrics/tenant-conditions.js';
import { parseExposition } from '../support/endpoints.js';

function tenant(
  name: string,
  conditions: [string, string][],
  enforcement?: { seconds: number; at?: string; generation?: number },
): WatchedTenant {
  return {
    metadata: { name },
    status: {
      ...(enforcement?.generation !== undefined ? { observedGeneration: enforcement.generation } : {}),
      conditions: [
        ...conditions.map(([type, status]) => ({ type, status })),
        ...(enforcement
          ? [{ type: 'Enforced', status: 'True', lastTransitionTime: enforcement.at ?? 't1' }]
          : []),
      ],
      ...(enforcement ? { enforcement: { lastEnforcedSeconds: enforcement.seconds } } : {}),
    },
  };
}

describe('operator metrics: the tenant view', () => {
  it('counts tenants per condition and status, listing every status of a type seen', () => {
    const view = new TenantConditionsView();
    view.observe('ADDED', tenant('a', [['Ready', 'True']]));
    view.observe(
      'ADDED',
      tenant('b', [
        ['Ready', 'False'],
        ['Stalled', 'True'],
      ]),
    );
    view.observe(
      'ADDED',
      tenant('c', [
        ['Ready', 'Unknown'],
        ['Reconciling', 'True'],
      ]),
    );
    view.observe('MODIFIED', tenant('c', [['Ready', 'True']]));
    expect(view.counts()).to.deep.equal([
      { condition: 'Ready', status: 'False', count: 1 },
      { condition: 'Ready', status: 'True', count: 2 },
      { condition: 'Ready', status: 'Unknown', count: 0 },
      { condition: 'Stalled', status: 'False', count: 0 },
      { condition: 'Stalled', status: 'True', count: 1 },
      { condition: 'Stalled', status: 'Unknown', count: 0 },
    ]);
  });

  it('forgets deleted tenants (a relist after a watch gap reports them deleted too)', () => {
    const view = new TenantConditionsView();
    for (const n of ['a', 'b', 'c']) view.observe('ADDED', tenant(n, [['Ready', 'True']]));
    view.observe('DELETED', tenant('a', []));
    expect(view.size).to.equal(2);
    expect(view.counts().find((c) => c.status === 'True')?.count).to.equal(2);
  });

  it('reports a new enforcement once, and not the state found at first sight or on a replay', () => {
    const view = new TenantConditionsView();
    // First sight (start-up, a new leader, a watch restart): already counted by whoever saw it.
    expect(view.observe('ADDED', tenant('a', [], { seconds: 9, at: 't0', generation: 1 }))).to.equal(
      undefined,
    );
    expect(
      view.observe('MODIFIED', tenant('a', [['Ready', 'Unknown']], { seconds: 9, at: 't0', generation: 1 })),
    ).to.equal(undefined);
    expect(view.observe('MODIFIED', tenant('a', [], { seconds: 1.25, at: 't1', generation: 2 }))).to.equal(
      1.25,
    );
    expect(view.observe('ADDED', tenant('a', [], { seconds: 1.25, at: 't1', generation: 2 }))).to.equal(
      undefined,
    );
    // The same figure again for a later change still counts: it is another enforcement.
    expect(view.observe('MODIFIED', tenant('a', [], { seconds: 1.25, at: 't2', generation: 3 }))).to.equal(
      1.25,
    );
  });

  it('ignores tenants without a name and enforcement figures that are not numbers', () => {
    const view = new TenantConditionsView();
    expect(view.observe('ADDED', { metadata: {} })).to.equal(undefined);
    view.observe('ADDED', tenant('a', []));
    const bad = { metadata: { name: 'a' }, status: { enforcement: { lastEnforcedSeconds: -1 } } };
    expect(view.observe('MODIFIED', bad)).to.equal(undefined);
    expect(view.size).to.equal(1);
  });
});

describe('operator metrics: reconciles', () => {
  const failing = (err: Error) => ({ reconcile: () => Promise.reject(err) });

  it('classifies reconcile errors', () => {
    expect(reconcileErrorReason(new StaleReadError('t', 'the SoftTenant'))).to.equal('stale_read');
    expect(reconcileErrorReason(new ReconcileError('t', ['x']))).to.equal('apply_failed');
    expect(reconcileErrorReason(new Error('boom'))).to.equal('unexpected');
  });

  it('counts and times successes and failures, passes results and errors through', async () => {
    const registry = new Registry();
    const metrics = new OperatorMetrics(registry);
    const ok = new MeteredReconciler({ reconcile: () => Promise.resolve({ requeueAfterMs: 5 }) }, metrics);
    expect(await ok.reconcile('a')).to.deep.equal({ requeueAfterMs: 5 });
    const apply = new ReconcileError('a', ['applying NetworkPolicy x: forbidden']);
    await new MeteredReconciler(failing(apply), metrics).reconcile('a').then(
      () => expect.fail('should throw'),
      (err: unknown) => expect(err).to.equal(apply),
    );
    await new MeteredReconciler(failing(new StaleReadError('a', 'x')), metrics)
      .reconcile('a')
      .catch(() => undefined);

    const s = parseExposition(await registry.metrics());
    expect(s.samples.get('softtenant_reconcile_total{result="success"}')).to.equal(1);
    expect(s.samples.get('softtenant_reconcile_total{result="error"}')).to.equal(2);
    expect(s.samples.get('softtenant_reconcile_errors_total{reason="apply_failed"}')).to.equal(1);
    expect(s.samples.get('softtenant_reconcile_errors_total{reason="stale_read"}')).to.equal(1);
    expect(s.samples.get('softtenant_reconcile_errors_total{reason="unexpected"}')).to.equal(0);
    expect(s.samples.get('softtenant_reconcile_duration_seconds_count')).to.equal(3);
  });

  it('reads queue, leadership and tenants at scrape time, and counts writes and enforcements', async () => {
    const registry = new Registry();
    const metrics = new OperatorMetrics(registry);
    let waiting = 4;
    let leader = false;
    metrics.readQueueFrom(() => ({ waiting, inFlight: 1 }));
    metrics.readLeadershipFrom(() => leader);
    metrics.countWrite({ verb: 'apply', kind: 'NetworkPolicy' });
    metrics.countWrite({ verb: 'apply', kind: 'NetworkPolicy' });
    metrics.countWrite({ verb: 'patch', kind: 'Namespace' });
    metrics.observeTenantEvent('ADDED', tenant('a', [['Ready', 'True']]));
    metrics.observeTenantEvent('MODIFIED', tenant('a', [['Ready', 'True']], { seconds: 3, at: 't1' }));

    let s = parseExposition(await registry.metrics());
    expect(s.samples.get('softtenant_workqueue_depth')).to.equal(4);
    expect(s.samples.get('softtenant_workqueue_in_flight')).to.equal(1);
    expect(s.samples.get('softtenant_leader_election_is_leader')).to.equal(0);
    expect(s.samples.get('softtenant_api_writes_total{verb="apply",kind="NetworkPolicy"}')).to.equal(2);
    expect(s.samples.get('softtenant_api_writes_total{verb="patch",kind="Namespace"}')).to.equal(1);
    expect(s.samples.get('softtenant_tenants{condition="Ready",status="True"}')).to.equal(1);
    expect(s.samples.get('softtenant_tenants{condition="Enforced",status="True"}')).to.equal(1);
    expect(s.samples.get('softtenant_tenant_enforcement_seconds_count')).to.equal(1);
    expect(s.samples.get('softtenant_tenant_enforcement_seconds_sum')).to.equal(3);
    expect(s.samples.get('softtenant_tenant_enforcement_seconds_bucket{le="2"}')).to.equal(0);
    expect(s.samples.get('softtenant_tenant_enforcement_seconds_bucket{le="5"}')).to.equal(1);

    waiting = 0;
    leader = true;
    metrics.observeTenantEvent('DELETED', tenant('a', []));
    s = parseExposition(await registry.metrics());
    expect(s.samples.get('softtenant_workqueue_depth')).to.equal(0);
    expect(s.samples.get('softtenant_leader_election_is_leader')).to.equal(1);
    expect([...s.samples.keys()].filter((k) => k.startsWith('softtenant_tenants{'))).to.deep.equal([]);
    for (const [name, help] of s.help)
      if (name.startsWith('softtenant_')) expect(help.length, name).to.be.greaterThan(20);
  });
});
