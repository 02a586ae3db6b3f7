// The SoftTenant API (tenancy.softtenant.io/v1alpha1) as TypeScript types. The schema
// (operator/tenant/crd.ts, dumped into crds/) is the source of validation and defaults; a
// compile-time test checks that these types have exactly its fields.
import type { Condition } from './conditions.js';
import type {
  IPBlock,
  LabelSelector,
  NetworkPolicyPort,
  NetworkPolicySpec,
  ObjectMeta,
} from './networkpolicy.js';

export const GROUP = 'tenancy.softtenant.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'SoftTenant';
export const PLURAL = 'softtenants';

/** Label on every tenant namespace (and on generated policies): the owning tenant's name. */
export const TENANT_LABEL = `${GROUP}/tenant`;
/** Finalizer that lets the operator remove labels and policies before the tenant goes. */
export const FINALIZER = `${GROUP}/finalizer`;
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'softtenant';
/** Field manager for server-side apply and the source of Events. */
export const FIELD_MANAGER = 'softtenant-operator';

export type IngressIsolation = 'Tenant' | 'Open';
export type EgressIsolation = 'Tenant' | 'Open';

// The defaults the CRD schema declares (operator/tenant/crd.ts writes these into it; the API
// server and `softtenant expand` apply them from there).
export const DEFAULT_INGRESS: IngressIsolation = 'Tenant';
export const DEFAULT_EGRESS: EgressIsolation = 'Open';
export const DEFAULT_ALLOW_DNS = true;
export const DEFAULT_STRICT = false;

export interface TenantPeer {
  ipBlock?: IPBlock;
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  /** Shorthand: all pods of these tenants' namespaces. */
  tenants?: string[];
  ports?: NetworkPolicyPort[];
}

export interface TenantRule {
  name: string;
  namespaces?: string[];
  spec: NetworkPolicySpec;
}

export interface SoftTenantSpec {
  namespaces?: { names?: string[]; selector?: LabelSelector };
  isolation?: {
    ingress?: IngressIsolation;
    egress?: EgressIsolation;
    allowDNS?: boolean;
    /**
     * Also write Admin-tier ClusterNetworkPolicies (operator/tenant/strict.ts), so that the
     * tenant's own NetworkPolicies cannot open its namespaces to pods outside the tenant.
     */
    strict?: boolean;
  };
  allowFrom?: TenantPeer[];
  allowTo?: TenantPeer[];
  rules?: TenantRule[];
}

export interface NodeLag {
  node: string;
  reason: string;
  message?: string;
}

export interface EnforcementStatus {
  nodes: number;
  enforced: number;
  summary?: string;
  lagging?: NodeLag[];
  lastEnforcedSeconds?: number;
}

export interface SoftTenantStatus {
  observedGeneration?: number;
  namespaces?: string[];
  /** len(namespaces), for the NAMESPACES printer column. */
  namespaceCount?: number;
  policies?: number;
  /** ClusterNetworkPolicies in place for a strict tenant (0 or absent otherwise). */
  clusterNetworkPolicies?: number;
  enforcement?: EnforcementStatus;
  conditions?: Condition[];
}

export interface SoftTenant {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: SoftTenantSpec;
  status?: SoftTenantStatus;
}
