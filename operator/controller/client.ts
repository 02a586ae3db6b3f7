// The controller's view of Kubernetes: the few reads and writes reconciliation needs. The real
// implementation (operator/kube/tenant-client.ts) talks to the API server through
// @kubernetes/client-node 1.x; keeping the port this small lets the same controller code run
// in the integration tests against a real kube-apiserver.
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

export interface TenantClient {
  listSoftTenants(): Promise<SoftTenant[]>;
  listNamespaces(): Promise<Namespace[]>;
  /** NetworkPolicies in all namespaces labelled app.kubernetes.io/managed-by=softtenant. */
  listManagedPolicies(): Promise<NetworkPolicy[]>;
  /** Pods of these namespaces (to know which nodes must enforce a tenant). */
  listPods(namespaces: readonly string[]): Promise<Pod[]>;
  /** The node agents' reports; none when the NodeEnforcement CRD is not installed. */
  listNodeEnforcements(): Promise<NodeEnforcement[]>;
  /** Any NetworkPolicy by name (also unmanaged ones); undefined when there is none. */
  getPolicy(namespace: string, name: string): Promise<NetworkPolicy | undefined>;
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
  createEvent(event: TenantEvent): Promise<void>;
}
