// Which tenants claim which namespaces, kept up to date as tenants and namespaces change, so
// that a reconcile looks only at its own tenant's corner of the cluster. A tenant claims the
// namespaces it names and those its selector matches; a tenant being deleted claims nothing.
// Who of several claimants holds a namespace stays the expansion's decision
// (tenant/membership.ts, first claim wins): the index only says which tenants and namespaces
// that decision depends on (scopeOf), and which tenants a change concerns (the wake-ups).
// Updating a tenant whose claim changed costs a lookup per namespace it names, plus a pass over
// the namespaces if it has a selector; updating a namespace one pass over the tenants that have
// a selector.
import type { LabelSelector, Namespace } from '../api/networkpolicy.js';
import { TENANT_LABEL, type SoftTenant } from '../api/softtenant.js';
import { namespaceLabels } from '../tenant/membership.js';
import { compileSelector, type Labels } from '../netpol/selector.js';

interface TenantClaim {
  /** Identifies the claim, so that a status-only change costs nothing. */
  signature: string;
  names: ReadonlySet<string>;
  selects?: (labels: Labels) => boolean;
  /** Namespaces the tenant's rules name: their holders appear in its status. */
  ruleNamespaces: ReadonlySet<string>;
}

interface NamespaceEntry {
  labels: Labels;
  tenantLabel: string | undefined;
  claimants: Set<string>;
}

/** The namespaces a reconcile of one tenant reads, and the tenants whose claims decide them. */
export interface TenantScope {
  namespaces: string[];
  tenants: string[];
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function remove(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/** The same compiled selector membership uses; the CRD has refused any it cannot compile. */
function selectsOf(tenant: string, selector: LabelSelector): (labels: Labels) => boolean {
  const compiled = compileSelector(selector, `SoftTenant ${tenant}: spec.namespaces.selector`);
  return (labels) => compiled.matches(labels);
}

function claimOf(tenant: SoftTenant): TenantClaim {
  const deleting = Boolean(tenant.metadata.deletionTimestamp);
  const sel = deleting ? undefined : tenant.spec?.namespaces;
  const ruleNamespaces = new Set((tenant.spec?.rules ?? []).flatMap((r) => r.namespaces ?? []));
  return {
    signature: JSON.stringify([deleting, sel ?? null, [...ruleNamespaces].sort()]),
    names: new Set(sel?.names ?? []),
    ...(sel?.selector ? { selects: selectsOf(tenant.metadata.name, sel.selector) } : {}),
    ruleNamespaces,
  };
}

export class OwnershipIndex {
  private readonly claims = new Map<string, TenantClaim>();
  /** Tenants with a selector (tested against every namespace that changes). */
  private readonly selecting = new Set<string>();
  /** Namespace name -> tenants naming it in spec.namespaces.names (whether it exists or not). */
  private readonly naming = new Map<string, Set<string>>();
  /** Namespace name -> tenants whose rules name it. */
  private readonly referencing = new Map<string, Set<string>>();
  private readonly namespaces = new Map<string, NamespaceEntry>();
  /** Tenant -> existing namespaces it claims. */
  private readonly claimed = new Map<string, Set<string>>();
  /** Tenant label value -> namespaces carrying it. */
  private readonly labelled = new Map<string, Set<string>>();

  /** A tenant was added or changed; returns the tenants whose reconcile this may change. */
  setTenant(tenant: SoftTenant): string[] {
    const name = tenant.metadata.name;
    const next = claimOf(tenant);
    const prev = this.claims.get(name);
    if (prev?.signature === next.signature) return [name];
    const touched = new Set<string>(this.claimed.get(name) ?? []);
    for (const ns of prev?.ruleNamespaces ?? []) touched.add(ns);
    this.unregister(name, prev);
    this.claims.set(name, next);
    for (const ns of next.names) add(this.naming, ns, name);
    for (const ns of next.ruleNamespaces) add(this.referencing, ns, name);
    if (next.selects) this.selecting.add(name);
    // Names are looked up; only a selector needs a pass over every namespace (a pass for each
    // new tenant would make a large cluster's convergence quadratic in its namespaces).
    for (const ns of next.selects ? this.namespaces.keys() : next.names) {
      const entry = this.namespaces.get(ns);
      if (entry && (next.names.has(ns) || next.selects?.(entry.labels))) {
        entry.claimants.add(name);
        add(this.claimed, name, ns);
        touched.add(ns);
      }
    }
    for (const ns of next.ruleNamespaces) touched.add(ns);
    return this.concerned(name, touched);
  }

  /** A tenant is gone; returns the tenants whose reconcile this may change. */
  removeTenant(name: string): string[] {
    const prev = this.claims.get(name);
    const touched = new Set<string>(this.claimed.get(name) ?? []);
    for (const ns of prev?.ruleNamespaces ?? []) touched.add(ns);
    this.unregister(name, prev);
    this.claims.delete(name);
    return this.concerned(name, touched);
  }

  /**
   * A namespace was added or changed; returns the tenants it concerns: those claiming it before
   * or after, the tenant its label names before or after, and those whose rules name it.
   */
  setNamespace(namespace: Namespace): string[] {
    const name = namespace.metadata.name;
    const before = this.namespaces.get(name);
    const wake = new Set<string>(before?.claimants ?? []);
    if (before?.tenantLabel) wake.add(before.tenantLabel);
    if (before) this.dropNamespace(name, before);

    const labels = namespaceLabels(namespace);
    const entry: NamespaceEntry = {
      labels,
      tenantLabel: namespace.metadata.labels?.[TENANT_LABEL],
      claimants: new Set(this.naming.get(name) ?? []),
    };
    for (const tenant of this.selecting) {
      if (this.claims.get(tenant)?.selects?.(labels)) entry.claimants.add(tenant);
    }
    this.namespaces.set(name, entry);
    for (const tenant of entry.claimants) add(this.claimed, tenant, name);
    if (entry.tenantLabel) add(this.labelled, entry.tenantLabel, name);
    for (const tenant of entry.claimants) wake.add(tenant);
    if (entry.tenantLabel) wake.add(entry.tenantLabel);
    for (const tenant of this.referencing.get(name) ?? []) wake.add(tenant);
    return [...wake].sort();
  }

  /** A namespace is gone; returns the tenants it concerned. */
  removeNamespace(name: string): string[] {
    const before = this.namespaces.get(name);
    if (!before) return [];
    const wake = new Set<string>(before.claimants);
    if (before.tenantLabel) wake.add(before.tenantLabel);
    for (const tenant of this.referencing.get(name) ?? []) wake.add(tenant);
    this.dropNamespace(name, before);
    return [...wake].sort();
  }

  /** Tenants claiming an existing namespace, sorted. */
  claimantsOf(namespace: string): string[] {
    return [...(this.namespaces.get(namespace)?.claimants ?? [])].sort();
  }

  /** Existing namespaces a tenant claims, sorted. */
  claimedBy(tenant: string): string[] {
    return [...(this.claimed.get(tenant) ?? [])].sort();
  }

  /** The tenant a namespace's label names (the holder as last written), if any. */
  labelOf(namespace: string): string | undefined {
    return this.namespaces.get(namespace)?.tenantLabel;
  }

  /** Tenant label values in use, including names of tenants that no longer exist. */
  labelValues(): string[] {
    return [...this.labelled.keys()].sort();
  }

  /**
   * What a reconcile of `tenant` must see: the namespaces it claims, those labelled for it and
   * those its rules name, with every tenant that claims one of them. Who holds each of these
   * namespaces depends only on its own claimants, so expanding this subset decides them exactly
   * as expanding the whole cluster would.
   */
  scopeOf(tenant: string): TenantScope {
    const namespaces = new Set<string>([
      ...(this.claimed.get(tenant) ?? []),
      ...(this.labelled.get(tenant) ?? []),
    ]);
    for (const ns of this.claims.get(tenant)?.ruleNamespaces ?? []) {
      if (this.namespaces.has(ns)) namespaces.add(ns);
    }
    const tenants = new Set<string>([tenant]);
    for (const ns of namespaces) for (const t of this.namespaces.get(ns)?.claimants ?? []) tenants.add(t);
    return { namespaces: [...namespaces].sort(), tenants: [...tenants].sort() };
  }

  /** The tenant itself and every tenant claiming, labelled on or naming one of `touched`. */
  private concerned(name: string, touched: ReadonlySet<string>): string[] {
    const wake = new Set<string>([name]);
    for (const ns of touched) {
      const entry = this.namespaces.get(ns);
      for (const t of entry?.claimants ?? []) wake.add(t);
      if (entry?.tenantLabel) wake.add(entry.tenantLabel);
      for (const t of this.referencing.get(ns) ?? []) wake.add(t);
    }
    return [...wake].sort();
  }

  private unregister(name: string, claim: TenantClaim | undefined): void {
    if (!claim) return;
    for (const ns of claim.names) remove(this.naming, ns, name);
    for (const ns of claim.ruleNamespaces) remove(this.referencing, ns, name);
    this.selecting.delete(name);
    for (const ns of this.claimed.get(name) ?? []) this.namespaces.get(ns)?.claimants.delete(name);
    this.claimed.delete(name);
  }

  private dropNamespace(name: string, entry: NamespaceEntry): void {
    for (const tenant of entry.claimants) remove(this.claimed, tenant, name);
    if (entry.tenantLabel) remove(this.labelled, entry.tenantLabel, name);
    this.namespaces.delete(name);
  }
}
