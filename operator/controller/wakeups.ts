// Which tenants a watch event should wake. Events carry no work themselves; they only name the
// tenants whose whole state is recomputed. Ownership of a namespace depends on every tenant (a
// conflict is decided between them), hence the broad fan-out for tenants and namespaces.
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL } from '../api/softtenant.js';

export type WatchedKind = 'SoftTenant' | 'Namespace' | 'NetworkPolicy' | 'NodeEnforcement' | 'Pod';

export interface WatchedObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

/**
 * Tenant names to reconcile for an event on `object` of `kind`, given the tenants known so far
 * and the tenant each namespace is labelled for.
 */
export function tenantsToWake(
  kind: WatchedKind,
  object: WatchedObject,
  knownTenants: Iterable<string>,
  namespaceTenants: ReadonlyMap<string, string> = new Map(),
): string[] {
  const keys = new Set<string>();
  const labels = object.metadata?.labels ?? {};
  switch (kind) {
    case 'SoftTenant':
      if (object.metadata?.name) keys.add(object.metadata.name);
      for (const t of knownTenants) keys.add(t);
      break;
    case 'Namespace':
      for (const t of knownTenants) keys.add(t);
      // A label naming a tenant that no longer exists is cleaned up under that name.
      if (labels[TENANT_LABEL]) keys.add(labels[TENANT_LABEL]);
      break;
    case 'NetworkPolicy':
      // Only generated policies matter; users' own policies are never the operator's business.
      if (labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && labels[TENANT_LABEL])
        keys.add(labels[TENANT_LABEL]);
      break;
    case 'NodeEnforcement':
      // A node's report can change the enforcement of any tenant with pods there.
      for (const t of knownTenants) keys.add(t);
      break;
    case 'Pod': {
      // A pod landing on or leaving a node changes which nodes must enforce its tenant.
      const tenant = object.metadata?.namespace ? namespaceTenants.get(object.metadata.namespace) : undefined;
      if (tenant) keys.add(tenant);
      break;
    }
  }
  return [...keys].sort();
}
