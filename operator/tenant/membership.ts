// Which tenant holds which namespace. A tenant claims the existing namespaces it names or its
// selector matches; when two claim one namespace, the one whose label it already carries keeps
// it (so ownership never flaps), otherwise the oldest tenant, ties broken by name.
import type { Namespace } from '../api/networkpolicy.js';
import { TENANT_LABEL, type SoftTenant } from '../api/softtenant.js';
import { compileSelector, type Labels } from '../netpol/selector.js';
import type { NamespaceConflict, NamespaceLabelChange } from './types.js';

/** The label the API server puts on every namespace; offline input may lack it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface Membership {
  /** Namespaces that exist and are not being deleted, by name. */
  active: ReadonlyMap<string, Namespace>;
  /** Namespace name -> the tenant that holds it. */
  holder: ReadonlyMap<string, string>;
  /** Tenant name -> the namespaces it holds, sorted. */
  held: ReadonlyMap<string, string[]>;
  /** Tenant name -> the namespaces it claims but another tenant holds, sorted by namespace. */
  conflicts: ReadonlyMap<string, NamespaceConflict[]>;
  labelChanges: NamespaceLabelChange[];
}

export function isTerminating(ns: Namespace): boolean {
  return Boolean(ns.metadata.deletionTimestamp) || ns.status?.phase === 'Terminating';
}

export function isDeleting(tenant: SoftTenant): boolean {
  return Boolean(tenant.metadata.deletionTimestamp);
}

export function namespaceLabels(ns: Namespace): Labels {
  return { ...(ns.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: ns.metadata.name };
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** What a tenant claims, prepared once per expansion. */
interface Claim {
  tenant: string;
  /** Position in precedence order (older first): the lowest claimant wins. */
  rank: number;
  names: readonly string[];
  selects?: (labels: Labels) => boolean;
}

function claimOf(tenant: SoftTenant, rank: number): Claim | undefined {
  // A deleting tenant claims nothing, so its namespaces are released.
  if (isDeleting(tenant)) return undefined;
  const sel = tenant.spec?.namespaces;
  const claim: Claim = { tenant: tenant.metadata.name, rank, names: sel?.names ?? [] };
  // Validation (the CRD, and validateSoftTenant offline) has refused selectors that cannot be
  // compiled; one that slips through makes expansion fail with the field named, never guess.
  if (sel?.selector) {
    const selector = compileSelector(
      sel.selector,
      `SoftTenant ${tenant.metadata.name}: spec.namespaces.selector`,
    );
    claim.selects = (labels) => selector.matches(labels);
  }
  return claim;
}

/** Finds the claimants of a namespace without testing every tenant's name list against it. */
class ClaimIndex {
  private readonly byName = new Map<string, Claim[]>();
  private readonly bySelector: Claim[] = [];

  constructor(claims: readonly Claim[]) {
    for (const c of claims) {
      for (const name of new Set(c.names)) append(this.byName, name, c);
      if (c.selects) this.bySelector.push(c);
    }
  }

  /** Tenant names claiming the namespace, in precedence order. */
  claimants(name: string, labels: Labels): string[] {
    const found = new Set<Claim>(this.byName.get(name) ?? []);
    for (const c of this.bySelector) if (!found.has(c) && c.selects?.(labels)) found.add(c);
    return [...found].sort((a, b) => a.rank - b.rank).map((c) => c.tenant);
  }
}

function creationMillis(tenant: SoftTenant): number {
  const t = Date.parse(tenant.metadata.creationTimestamp ?? '');
  // Not created yet (offline input): after every tenant that exists.
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Older first, then by name: the order in which tenants win contested namespaces. */
export function comparePrecedence(a: SoftTenant, b: SoftTenant): number {
  const ta = creationMillis(a);
  const tb = creationMillis(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

export function resolveMembership(
  tenants: readonly SoftTenant[],
  namespaces: readonly Namespace[],
): Membership {
  const index = new ClaimIndex(
    [...tenants]
      .sort(comparePrecedence)
      .map((t, rank) => claimOf(t, rank))
      .filter((c): c is Claim => c !== undefined),
  );
  const active = new Map<string, Namespace>();
  for (const ns of namespaces) if (!isTerminating(ns)) active.set(ns.metadata.name, ns);

  const holder = new Map<string, string>();
  const held = new Map<string, string[]>();
  const conflicts = new Map<string, NamespaceConflict[]>();
  const labelChanges: NamespaceLabelChange[] = [];
  for (const name of [...active.keys()].sort()) {
    const ns = active.get(name) as Namespace;
    const current = ns.metadata.labels?.[TENANT_LABEL] ?? null;
    const labels = namespaceLabels(ns);
    const claimants = index.claimants(name, labels);
    const owner = current !== null && claimants.includes(current) ? current : (claimants[0] ?? null);
    if (owner !== null) {
      holder.set(name, owner);
      append(held, owner, name);
    }
    for (const other of claimants) {
      if (other === owner || owner === null) continue;
      append(conflicts, other, { namespace: name, owner });
    }
    if (owner !== current) labelChanges.push({ namespace: name, tenant: owner });
  }
  return { active, holder, held, conflicts, labelChanges };
}
