// The Reconciler and the TenantController through their ports: the reconciler against the
// in-memory cache port (what it writes, what it reads, what it leaves alone), the controller
// with a manual clock (which events wake which tenants, and when), never the real clock.
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import { TENANT_LABEL, type SoftTenant } from '../../operator/api/softtenant.js';
import { TenantController } from '../../operator/controller/controller.js';
import { OwnershipIndex } from '../../operator/controller/ownership-index.js';
import { ManualClock } from '../support/manual-clock.js';
import { Reconciler } from '../../operator/controller/reconciler.js';
import { EventRecorder } from '../../operator/controller/recorder.js';
import { systemClock } from '../../operator/util/clock.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import type { ExpansionInput } from '../../operator/tenant/types.js';
import { MemoryPort } from './operator-memory-port.js';
import { ns, tenant } from './tenant-fixtures.js';

const NOW = new Date('2026-12-01T10:00:00Z');

function world(): {
  port: MemoryPort;
  index: OwnershipIndex;
  expanded: ExpansionInput[];
  reconciler: Reconciler;
} {
  const port = new MemoryPort();
  const index = new OwnershipIndex();
  const expanded: ExpansionInput[] = [];
  const reconciler = new Reconciler({
    reads: port,
    client: port,
    scopeOf: (t) => index.scopeOf(t),
    expand: (input) => {
      expanded.push(input);
      return expandTenants(input);
    },
    recorder: new EventRecorder(port, { clock: { ...systemClock, now: () => NOW.getTime() } }),
    now: () => NOW,
  });
  const created = { creationTimestamp: '2026-01-01T00:00:00Z' };
  for (const t of [
    tenant('a', { namespaces: { names: ['a1', 'a2'] } }, created),
    tenant('b', { namespaces: { names: ['b1'] }, allowFrom: [{ tenants: ['a'] }] }, created),
  ]) {
    index.setTenant(port.putTenant(t));
  }
  for (const n of ['a1', 'a2', 'b1', 'elsewhere']) index.setNamespace(port.putNamespace(ns(n)));
  return { port, index, expanded, reconciler };
}

/** Feeds the port's current namespaces back into the index, as their watch events would. */
function catchUp(port: MemoryPort, index: OwnershipIndex): void {
  for (const n of port.namespaces.values()) index.setNamespace(n);
  for (const t of port.tenants.values()) index.setTenant(t);
}

/** The world after tenant a's first reconcile, with the index caught up on its writes. */
async function convergedWorld(): Promise<ReturnType<typeof world>> {
  const w = world();
  await w.reconciler.reconcile('a');
  catchUp(w.port, w.index);
  return w;
}

/** The writes of the port other than status writes. */
const nonStatusWrites = (port: MemoryPort): string[] => port.writes.filter((w) => !w.startsWith('status'));

/** A reconcile expected to fail (to be retried): its error, as text. */
async function failedReconcile(reconciler: Reconciler, tenant: string): Promise<string> {
  const failure = await reconciler.reconcile(tenant).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failure, 'the reconcile fails, to be retried').to.be.instanceOf(Error);
  return String(failure);
}

describe('operator: the reconciler against an in-memory cache port', function () {
  it('converges one tenant from its own scope in one write per object, then writes nothing', async function () {
    const { port, index, expanded, reconciler } = world();
    await reconciler.reconcile('a');
    expect(
      expanded.map((e) => [e.tenants.map((t) => t.metadata.name), e.namespaces.map((n) => n.metadata.name)]),
    ).to.deep.equal([[['a'], ['a1', 'a2']]]);
    // No progress status before the writes: finalizer, labels, applies, the final status.
    expect(port.writes).to.deep.equal([
      'finalize SoftTenant a',
      'label Namespace a1=a',
      'label Namespace a2=a',
      'apply NetworkPolicy a1/stn-a-isolation',
      'apply NetworkPolicy a2/stn-a-isolation',
      'status SoftTenant a',
    ]);
    const ready = port.tenant('a')?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).to.equal('True');

    catchUp(port, index);
    port.writes.length = 0;
    await reconciler.reconcile('a');
    expect(port.writes, 'nothing changed: no write').to.deep.equal([]);
  });

  it('reverts a hand edit with one apply, and prunes what is no longer desired', async function () {
    const { port, index, reconciler } = await convergedWorld();
    const edited = port.policies.get('a1/stn-a-isolation');
    if (!edited) throw new Error('policy missing');
    edited.spec = { podSelector: {}, ingress: [{}] };
    port.putTenant({ ...(port.tenant('a') as SoftTenant), spec: { namespaces: { names: ['a1'] } } });
    catchUp(port, index);
    port.writes.length = 0;
    await reconciler.reconcile('a');
    expect(nonStatusWrites(port)).to.deep.equal([
      'label Namespace a2=-',
      'apply NetworkPolicy a1/stn-a-isolation',
      'delete NetworkPolicy a2/stn-a-isolation',
    ]);
  });

  it('replaces an earlier version\u2019s policies only where their successor is in place', async function () {
    const { port, reconciler } = await convergedWorld();
    // What a version with one policy per direction left: stn-a-ingress and stn-a-egress,
    // generated for the same tenant, in each of its namespaces.
    for (const n of ['a1', 'a2']) {
      const isolation = port.policies.get(`${n}/stn-a-isolation`);
      if (!isolation) throw new Error('policy missing');
      port.policies.delete(`${n}/stn-a-isolation`);
      for (const old of ['stn-a-ingress', 'stn-a-egress'])
        port.policies.set(`${n}/${old}`, { ...isolation, metadata: { ...isolation.metadata, name: old } });
    }
    // a2 refuses every apply (a webhook, say).
    port.refuseApplies.add('a2');
    port.writes.length = 0;
    expect(await failedReconcile(reconciler, 'a')).to.include('admission refused');
    expect(nonStatusWrites(port), 'a2 keeps its old policies').to.deep.equal([
      'apply NetworkPolicy a1/stn-a-isolation',
      'apply NetworkPolicy a2/stn-a-isolation (refused)',
      'delete NetworkPolicy a1/stn-a-egress',
      'delete NetworkPolicy a1/stn-a-ingress',
    ]);
    expect(port.policies.has('a2/stn-a-ingress')).to.equal(true);

    port.refuseApplies.clear();
    port.writes.length = 0;
    await reconciler.reconcile('a');
    expect(nonStatusWrites(port)).to.deep.equal([
      'apply NetworkPolicy a2/stn-a-isolation',
      'delete NetworkPolicy a2/stn-a-egress',
      'delete NetworkPolicy a2/stn-a-ingress',
    ]);
  });

  it('keeps what it generated in a namespace where a user\u2019s policy holds the new name', async function () {
    const { port, reconciler } = await convergedWorld();
    const isolation = port.policies.get('a1/stn-a-isolation');
    if (!isolation) throw new Error('policy missing');
    // The tenant's old policy under another name, and a user's policy under the generated one.
    port.policies.set('a1/stn-a-ingress', {
      ...isolation,
      metadata: { ...isolation.metadata, name: 'stn-a-ingress' },
    });
    port.policies.set('a1/stn-a-isolation', {
      ...isolation,
      metadata: { name: 'stn-a-isolation', namespace: 'a1', labels: { owner: 'user' }, resourceVersion: '1' },
    });
    port.writes.length = 0;
    expect(await failedReconcile(reconciler, 'a')).to.include(
      'a1/stn-a-isolation already exists and was not generated for this tenant',
    );
    expect(nonStatusWrites(port), 'nothing deleted in a1').to.deep.equal([]);
    expect(port.policies.has('a1/stn-a-ingress')).to.equal(true);
    const ready = port.tenant('a')?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.message).to.include('a1/stn-a-isolation already exists');
  });

  it('a tenant being deleted loses its policies and labels, then its finalizer', async function () {
    const { port, index, reconciler } = await convergedWorld();
    const live = port.tenant('a') as SoftTenant;
    index.setTenant(
      port.putTenant({ ...live, metadata: { ...live.metadata, deletionTimestamp: NOW.toISOString() } }),
    );
    port.writes.length = 0;
    await reconciler.reconcile('a');
    expect(port.writes).to.deep.equal([
      'delete NetworkPolicy a1/stn-a-isolation',
      'delete NetworkPolicy a2/stn-a-isolation',
      'label Namespace a1=-',
      'label Namespace a2=-',
      'unfinalize SoftTenant a',
    ]);
    expect(port.namespace('a1')?.metadata.labels?.[TENANT_LABEL]).to.equal(undefined);
  });
});

/** Lets the queue hand keys to the workers and the workers finish (no clock involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

function pod(namespace: string, name: string, node: string): Pod {
  return {
    metadata: { name, namespace },
    spec: { nodeName: node, containers: [] },
    status: { phase: 'Running' },
  };
}

describe('operator: the controller with a manual clock', function () {
  async function started(): Promise<{
    controller: TenantController;
    clock: ManualClock;
    reconciled: string[];
  }> {
    const clock = new ManualClock();
    const reconciled: string[] = [];
    const tenants = ['a', 'b', 'c'];
    const controller = new TenantController(
      { reconcile: (name) => Promise.resolve(void reconciled.push(name)).then(() => ({})) },
      { tenantNames: () => tenants },
      { resyncPeriodMs: 60_000, clock },
    );
    controller.observe(
      'SoftTenant',
      'ADDED',
      tenant('a', { namespaces: { selector: { matchLabels: { team: 'x' } } } }),
    );
    controller.observe(
      'SoftTenant',
      'ADDED',
      tenant('b', { namespaces: { selector: { matchLabels: { team: 'y' } } } }),
    );
    controller.observe('SoftTenant', 'ADDED', tenant('c', { namespaces: { names: ['c1'] } }));
    controller.observe('Namespace', 'ADDED', ns('n', { team: 'x', [TENANT_LABEL]: 'a' }));
    controller.observe('Namespace', 'ADDED', ns('c1', { [TENANT_LABEL]: 'c' }));
    controller.start();
    await settle();
    reconciled.length = 0;
    return { controller, clock, reconciled };
  }

  it('a relabelled namespace wakes the tenants selecting it before and after, no other', async function () {
    const { controller, reconciled } = await started();
    controller.observe('Namespace', 'MODIFIED', ns('n', { team: 'y', [TENANT_LABEL]: 'a' }));
    await settle();
    expect(reconciled.sort()).to.deep.equal(['a', 'b']);
    await controller.stop();
  });

  it('merges a flood of pod events into one reconcile of their tenant, two seconds later', async function () {
    const { controller, clock, reconciled } = await started();
    for (let i = 0; i < 5; i++) controller.observe('Pod', 'ADDED', pod('c1', `p${i}`, 'node-1'));
    await clock.advance(1_999);
    expect(reconciled).to.deep.equal([]);
    await clock.advance(1);
    expect(reconciled).to.deep.equal(['c']);
    await controller.stop();
  });

  it('a node report wakes only the tenants with pods on that node, and a heartbeat none', async function () {
    const { controller, clock, reconciled } = await started();
    controller.observe('Pod', 'ADDED', pod('c1', 'p', 'node-1'));
    await clock.advance(2_000);
    reconciled.length = 0;
    const report = (node: string, heartbeatTime: string) => ({
      apiVersion: 'tenancy.softtenant.io/v1alpha1' as const,
      kind: 'NodeEnforcement' as const,
      metadata: { name: node },
      status: { heartbeatSeconds: 10, heartbeatTime, policies: [] },
    });
    controller.observe('NodeEnforcement', 'ADDED', report('node-1', '2026-12-01T10:00:00Z'));
    controller.observe('NodeEnforcement', 'ADDED', report('node-2', '2026-12-01T10:00:00Z'));
    await settle();
    expect(reconciled).to.deep.equal(['c']);
    controller.observe('NodeEnforcement', 'MODIFIED', report('node-1', '2026-12-01T10:00:10Z'));
    await settle();
    expect(reconciled).to.deep.equal(['c']);
    await controller.stop();
  });

  it('resyncs every tenant from the cache each period, and backs a failure off', async function () {
    const clock = new ManualClock();
    const reconciled: string[] = [];
    let fail = true;
    const controller = new TenantController(
      {
        reconcile: (name) => {
          reconciled.push(name);
          return fail ? Promise.reject(new Error('boom')) : Promise.resolve({});
        },
      },
      { tenantNames: () => ['a'] },
      {
        resyncPeriodMs: 60_000,
        clock,
        backoff: { baseDelayMs: 1_000, maxDelayMs: 10_000, random: () => 0.5 },
      },
    );
    controller.start();
    await settle();
    expect(reconciled).to.deep.equal(['a']);
    fail = false;
    await clock.advance(999);
    expect(reconciled).to.deep.equal(['a']);
    await clock.advance(1);
    expect(reconciled).to.deep.equal(['a', 'a']);
    await clock.advance(60_000);
    expect(reconciled).to.deep.equal(['a', 'a', 'a']);
    await controller.stop();
  });
});
