// The contract of the expansion engine (SoftTenants + Namespaces -> desired labels and
// NetworkPolicies). Pure: the operator and `softtenant expand` both call expandTenants().
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import type { Namespace, NetworkPolicy } from '../api/networkpolicy.js';
import type { SoftTenant } from '../api/softtenant.js';

export interface ExpansionInput {
  tenants: readonly SoftTenant[];
  namespaces: readonly Namespace[];
}

/** A namespace a tenant claims but another tenant holds. */
export interface NamespaceConflict {
  namespace: string;
  owner: string;
}

/** Something only the operator can detect (the CRD schema cannot), reported as a condition. */
export interface SpecProblem {
  field: string;
  message: string;
}

export interface TenantExpansion {
  tenant: string;
  /** Namespaces this tenant holds after conflicts are resolved, sorted. */
  namespaces: string[];
  /** Desired generated policies, sorted by namespace then name. */
  policies: NetworkPolicy[];
  /** Desired ClusterNetworkPolicies (strict tenants only, else empty), sorted by name. */
  clusterNetworkPolicies: ClusterNetworkPolicy[];
  conflicts: NamespaceConflict[];
  problems: SpecProblem[];
}

export interface NamespaceLabelChange {
  namespace: string;
  /** Desired value of the tenant label; null removes it. */
  tenant: string | null;
}

export interface ExpansionResult {
  /** One entry per input tenant, sorted by name. */
  tenants: TenantExpansion[];
  /** Only namespaces whose tenant label must change, sorted by name. */
  labelChanges: NamespaceLabelChange[];
}
