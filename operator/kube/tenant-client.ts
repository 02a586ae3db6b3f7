// The controller's write port (TenantClient) on the raw request path (raw-request.ts): every
// write is logged and counted by the WriteMeter, a lost race comes back as the port's
// WriteConflict, and each write's response goes into the cache (OperatorCaches) at once, so the
// next reconcile reads what was written even before the watch delivers it.
import type { KubeAccess } from './config.js';
import type { Namespace, NetworkPolicy } from '../api/networkpolicy.js';
import { KIND, type SoftTenant, type SoftTenantStatus } from '../api/softtenant.js';
import {
  WriteConflict,
  type EventRecord,
  type EventRef,
  type EventSeries,
  type EventSink,
  type TenantClient,
} from '../controller/client.js';
import { isConflict } from './errors.js';
import { createEvent, updateEventSeries } from './events.js';
import { setTenantLabel } from './namespaces.js';
import { applyPolicy, deletePolicy } from './networkpolicies.js';
import type { OperatorCaches } from './operator-caches.js';
import { addFinalizer, patchStatus, removeFinalizer } from './softtenants.js';
import { WriteMeter } from './write-meter.js';
import { errorMessage } from '../util/errors.js';

/** Runs a write; a conflict becomes the port's WriteConflict. */
export async function conflictAware<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isConflict(err)) throw new WriteConflict(errorMessage(err), { cause: err });
    throw err;
  }
}

export class KubeTenantClient implements TenantClient, EventSink {
  readonly writes = new WriteMeter();

  constructor(
    private readonly kubeConfig: KubeAccess,
    private readonly caches: OperatorCaches,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async applyPolicy(policy: NetworkPolicy): Promise<void> {
    const { namespace, name } = policy.metadata;
    const stored = await this.writes.record({ verb: 'apply', kind: 'NetworkPolicy', namespace, name }, () =>
      conflictAware(() => applyPolicy(this.kubeConfig, policy)),
    );
    this.caches.informers.policies.noteWritten(stored);
  }

  async deletePolicy(policy: NetworkPolicy): Promise<void> {
    const { namespace, name } = policy.metadata;
    await this.writes.record({ verb: 'delete', kind: 'NetworkPolicy', namespace, name }, () =>
      conflictAware(() => deletePolicy(this.kubeConfig, policy)),
    );
    this.caches.informers.policies.noteDeleted(policy);
  }

  async setNamespaceTenantLabel(namespace: Namespace, tenant: string | null): Promise<void> {
    const stored = await this.writes.record(
      { verb: 'patch', kind: 'Namespace', name: namespace.metadata.name },
      () => conflictAware(() => setTenantLabel(this.kubeConfig, namespace, tenant)),
    );
    if (stored) this.caches.informers.namespaces.noteWritten(stored);
  }

  async addFinalizer(tenant: SoftTenant): Promise<SoftTenant> {
    const stored = await this.writes.record({ verb: 'patch', kind: KIND, name: tenant.metadata.name }, () =>
      conflictAware(() => addFinalizer(this.kubeConfig, tenant)),
    );
    this.caches.informers.tenants.noteWritten(stored);
    return stored;
  }

  async removeFinalizer(tenant: SoftTenant): Promise<void> {
    const stored = await this.writes.record({ verb: 'patch', kind: KIND, name: tenant.metadata.name }, () =>
      conflictAware(() => removeFinalizer(this.kubeConfig, tenant)),
    );
    // The last finalizer of a deleted object: the API server removes the object with this write.
    const gone = !stored || (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length);
    if (gone) this.caches.informers.tenants.noteDeleted(tenant);
    else this.caches.informers.tenants.noteWritten(stored);
  }

  async patchStatus(tenant: SoftTenant, status: SoftTenantStatus): Promise<SoftTenant> {
    const stored = await this.writes.record(
      { verb: 'patch-status', kind: KIND, name: tenant.metadata.name },
      () => conflictAware(() => patchStatus(this.kubeConfig, tenant, status)),
    );
    this.caches.informers.tenants.noteWritten(stored);
    return stored;
  }

  createEvent(event: EventRecord): Promise<EventRef> {
    return this.writes.record({ verb: 'create', kind: 'Event', name: event.regarding.name }, () =>
      createEvent(this.kubeConfig, event, this.clock()),
    );
  }

  updateEventSeries(ref: EventRef, series: EventSeries): Promise<void> {
    return this.writes.record(
      { verb: 'patch', kind: 'Event', namespace: ref.namespace, name: ref.name },
      () => updateEventSeries(this.kubeConfig, ref, series),
    );
  }
}
