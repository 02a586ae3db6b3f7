// The controller's view of Kubernetes, as two ports. Reads come from watch caches and are
// synchronous: a reconcile makes no request to read (operator/kube/operator-caches.ts holds
// the informers behind TenantReads). Writes go to the API server (operator/kube/tenant-client.ts)
// and report a lost race as a WriteConflict, so nothing here knows the HTTP client's errors.
// Keeping both this small lets the same controller run against a real kube-apiserver in the
// integration tests and against an in-memory cache in the unit tests.
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { NodeEnforcement } from '../api/nodeenforcement.js';
import type { SoftTenant, SoftTenantStatus } from '../api/softtenant.js';

export type EventType = 'Normal' | 'Warning';

/** A Kubernetes Event about one SoftTenant. */
export interface TenantEvent {
  tenant: SoftTenant;
  type: EventType;
  /** CamelCase, machine-matchable ("PolicyCreated"). */
  reason: string;
  /** What the operator did or tried ("Apply", "Delete", "Label"). */
  action: string;
  /** A sentence for people. */
  note: string;
}

/**
 * An Event as the recorder sends it: about one SoftTenant, named by name and uid (the recorder
 * keeps no whole object while an Event waits to be sent or a series stays open).
 */
export interface EventRecord {
  regarding: { name: string; uid?: string };
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

/** Where a sent Event lives, so that its series can be updated. */
export interface EventRef {
  namespace: string;
  name: string;
}

/** events.k8s.io/v1 EventSeries: the same Event seen `count` times, the last one at `lastObservedTime`. */
export interface EventSeries {
  count: number;
  lastObservedTime: Date;
}

/** The Events' write path, apart from TenantClient: Events have their own budget (recorder.ts). */
export interface EventSink {
  createEvent(event: EventRecord): Promise<EventRef>;
  /** Updates the series of an Event sent before (an identical one was recorded again). */
  updateEventSeries(ref: EventRef, series: EventSeries): Promise<void>;
}

/**
 * A write refused because the object changed since it was read (a resourceVersion or UID
 * precondition, a JSON patch `test`): retried quietly with fresh reads.
 */
export class WriteConflict extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WriteConflict';
  }
}

/** The read path: watch caches, which include the operator's own writes as soon as they return. */
export interface TenantReads {
  tenant(name: string): SoftTenant | undefined;
  tenantNames(): string[];
  namespace(name: string): Namespace | undefined;
  /** A generated (managed-by=softtenant) NetworkPolicy by name. */
  managedPolicy(namespace: string, name: string): NetworkPolicy | undefined;
  /**
   * Any NetworkPolicy by name, generated or not: before a policy is created, so that a user's
   * same-named one is reported as a collision and never taken over.
   */
  policy(namespace: string, name: string): NetworkPolicy | undefined;
  /** Generated NetworkPolicies whose tenant label names this tenant. */
  policiesLabelled(tenant: string): NetworkPolicy[];
  /** Pods of one namespace (trimmed to what enforcement status reads). */
  pods(namespace: string): Pod[];
  /** The node agents' reports; none when the NodeEnforcement CRD is not installed. */
  reports(): NodeEnforcement[];
}

/** The write path. */
export interface TenantClient {
  /** Server-side apply (field manager softtenant-operator, force). */
  applyPolicy(policy: NetworkPolicy): Promise<void>;
  /** Deletes exactly this object (UID precondition); gone already counts as done. */
  deletePolicy(policy: NetworkPolicy): Promise<void>;
  /**
   * Sets (or with null removes) the tenant label on a namespace, touching no other label, and
   * only if the namespace is still at the resourceVersion that was read.
   */
  setNamespaceTenantLabel(namespace: Namespace, tenant: string | null): Promise<void>;
  /** Adds the operator's finalizer; returns the updated object. */
  addFinalizer(tenant: SoftTenant): Promise<SoftTenant>;
  removeFinalizer(tenant: SoftTenant): Promise<void>;
  /**
   * Writes the fields of `status` that are given (others are left as they are), guarded by the
   * tenant's resourceVersion; returns the updated object.
   */
  patchStatus(tenant: SoftTenant, status: SoftTenantStatus): Promise<SoftTenant>;
}
