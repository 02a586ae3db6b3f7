// The controller's view of the ClusterNetworkPolicies it keeps for strict tenants: reads from a
// watch cache of the generated ones (label-selected, operator/kube/clusternetworkpolicies.ts),
// writes by server-side apply with the operator's field manager. A port of its own, next to
// TenantReads/TenantClient, because the CRD is optional: while it is not served (no port, or one
// whose served() is false) strict tenants say so in their status while their NetworkPolicies are
// kept as before.
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import type { Condition } from '../api/conditions.js';

export interface ClusterNetworkPolicyPort {
  /** Whether the CRD is served and watched; absent: always (test ports). */
  served?(): boolean;
  /** Generated (managed-by=softtenant) ClusterNetworkPolicies whose tenant label names this tenant. */
  labelled(tenant: string): ClusterNetworkPolicy[];
  /** A generated ClusterNetworkPolicy by name, as the operator last wrote or watched it. */
  get(name: string): ClusterNetworkPolicy | undefined;
  /** Server-side apply (field manager softtenant-operator, force). */
  apply(policy: ClusterNetworkPolicy): Promise<void>;
  /** Deletes exactly this object (UID precondition); gone already counts as done. */
  delete(policy: ClusterNetworkPolicy): Promise<void>;
  /**
   * Server-side apply of these conditions to the status subresource (same field manager): the
   * operator owns only the condition types it gives, others' conditions stay.
   */
  applyStatus(policy: ClusterNetworkPolicy, conditions: Condition[]): Promise<void>;
}
