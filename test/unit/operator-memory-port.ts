// The controller's two ports over plain maps, for unit tests of the reconciler and the
// controller: reads are the "cache", writes change it the way the API server would (new
// resourceVersion, generation on spec changes) and are recorded in order. Not a stand-in for the
// API server's behaviour (the integration tests run the real one): only the contract of the
// ports, which is what the reconciler is written against.
import type { Namespace, NetworkPolicy, Pod } from '../../operator/api/networkpolicy.js';
import type { NodeEnforcement } from '../../operator/api/nodeenforcement.js';
import {
  FINALIZER,
  TENANT_LABEL,
  type SoftTenant,
  type SoftTenantStatus,
} from '../../operator/api/softtenant.js';
import {
  WriteConflict,
  type EventRecord,
  type EventRef,
  type EventSeries,
  type EventSink,
  type TenantClient,
  type TenantReads,
} from '../../operator/controller/client.js';

const key = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export class MemoryPort implements TenantReads, TenantClient, EventSink {
  readonly tenants = new Map<string, SoftTenant>();
  readonly namespaces = new Map<string, Namespace>();
  readonly policies = new Map<string, NetworkPolicy>();
  /** Namespaces where every apply fails (an admission webhook refusing NetworkPolicies, say). */
  readonly refuseApplies = new Set<string>();
  readonly podList: Pod[] = [];
  readonly reportList: NodeEnforcement[] = [];
  /** "verb kind name", in order. */
  readonly writes: string[] = [];
  readonly events: EventRecord[] = [];
  readonly seriesUpdates: { ref: EventRef; series: EventSeries }[] = [];
  private rv = 100;

  private nextVersion(): string {
    this.rv += 1;
    return String(this.rv);
  }

  putTenant(t: SoftTenant): SoftTenant {
    const stored = structuredClone(t);
    stored.metadata.resourceVersion = this.nextVersion();
    stored.metadata.uid ??= `uid-${t.metadata.name}`;
    this.tenants.set(t.metadata.name, stored);
    return stored;
  }

  putNamespace(n: Namespace): Namespace {
    const stored = structuredClone(n);
    stored.metadata.resourceVersion = this.nextVersion();
    this.namespaces.set(n.metadata.name, stored);
    return stored;
  }

  // TenantReads
  tenant(name: string): SoftTenant | undefined {
    return this.tenants.get(name);
  }
  tenantNames(): string[] {
    return [...this.tenants.keys()];
  }
  namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name);
  }
  managedPolicy(namespace: string, name: string): NetworkPolicy | undefined {
    const p = this.policies.get(key(namespace, name));
    return p?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'softtenant' ? p : undefined;
  }
  policy(namespace: string, name: string): NetworkPolicy | undefined {
    return this.policies.get(key(namespace, name));
  }
  policiesLabelled(tenant: string): NetworkPolicy[] {
    return [...this.policies.values()].filter(
      (p) =>
        p.metadata.labels?.['app.kubernetes.io/managed-by'] === 'softtenant' &&
        p.metadata.labels?.[TENANT_LABEL] === tenant,
    );
  }
  pods(namespace: string): Pod[] {
    return this.podList.filter((p) => p.metadata.namespace === namespace);
  }
  reports(): NodeEnforcement[] {
    return this.reportList;
  }

  // TenantClient
  applyPolicy(policy: NetworkPolicy): Promise<void> {
    const k = key(policy.metadata.namespace, policy.metadata.name);
    if (this.refuseApplies.has(policy.metadata.namespace ?? '')) {
      this.writes.push(`apply NetworkPolicy ${k} (refused)`);
      return Promise.reject(new Error(`admission refused NetworkPolicy ${k}`));
    }
    this.writes.push(`apply NetworkPolicy ${k}`);
    const before = this.policies.get(k);
    const changed = JSON.stringify(before?.spec) !== JSON.stringify(policy.spec);
    this.policies.set(k, {
      ...structuredClone(policy),
      metadata: {
        ...structuredClone(policy.metadata),
        uid: before?.metadata.uid ?? `uid-${k}`,
        resourceVersion: this.nextVersion(),
        generation: (before?.metadata.generation ?? 0) + (changed ? 1 : 0),
      },
    });
    return Promise.resolve();
  }
  deletePolicy(policy: NetworkPolicy): Promise<void> {
    const k = key(policy.metadata.namespace, policy.metadata.name);
    this.writes.push(`delete NetworkPolicy ${k}`);
    this.policies.delete(k);
    return Promise.resolve();
  }
  setNamespaceTenantLabel(namespace: Namespace, tenant: string | null): Promise<void> {
    const live = this.namespaces.get(namespace.metadata.name);
    if (!live || live.metadata.resourceVersion !== namespace.metadata.resourceVersion) {
      return Promise.reject(new WriteConflict(`namespace ${namespace.metadata.name} changed`));
    }
    this.writes.push(`label Namespace ${namespace.metadata.name}=${tenant ?? '-'}`);
    const labels = { ...(live.metadata.labels ?? {}) };
    if (tenant === null) delete labels[TENANT_LABEL];
    else labels[TENANT_LABEL] = tenant;
    this.putNamespace({ ...live, metadata: { ...live.metadata, labels } });
    return Promise.resolve();
  }
  addFinalizer(tenant: SoftTenant): Promise<SoftTenant> {
    this.writes.push(`finalize SoftTenant ${tenant.metadata.name}`);
    const live = this.guard(tenant);
    return Promise.resolve(
      this.putTenant({
        ...live,
        metadata: { ...live.metadata, finalizers: [...(live.metadata.finalizers ?? []), FINALIZER] },
      }),
    );
  }
  removeFinalizer(tenant: SoftTenant): Promise<void> {
    this.writes.push(`unfinalize SoftTenant ${tenant.metadata.name}`);
    this.tenants.delete(tenant.metadata.name);
    return Promise.resolve();
  }
  patchStatus(tenant: SoftTenant, status: SoftTenantStatus): Promise<SoftTenant> {
    this.writes.push(`status SoftTenant ${tenant.metadata.name}`);
    const live = this.guard(tenant);
    return Promise.resolve(this.putTenant({ ...live, status: { ...(live.status ?? {}), ...status } }));
  }
  createEvent(event: EventRecord): Promise<EventRef> {
    this.events.push(event);
    return Promise.resolve({ namespace: 'default', name: `event-${this.events.length}` });
  }
  updateEventSeries(ref: EventRef, series: EventSeries): Promise<void> {
    this.seriesUpdates.push({ ref, series });
    return Promise.resolve();
  }

  private guard(tenant: SoftTenant): SoftTenant {
    const live = this.tenants.get(tenant.metadata.name);
    if (!live || live.metadata.resourceVersion !== tenant.metadata.resourceVersion) {
      throw new WriteConflict(`SoftTenant ${tenant.metadata.name} changed`);
    }
    return live;
  }
}
