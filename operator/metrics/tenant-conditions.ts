// What the operator's metrics know about SoftTenants, kept from the SoftTenant watch: each
// tenant's conditions (for "tenants by condition") and when a tenant newly became enforced
// (for the change-to-enforced histogram). Pure state, fed by events; no I/O.

export interface ConditionLike {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/** The parts of a SoftTenant (as the watch delivers it) this view reads. */
export interface WatchedTenant {
  metadata?: { name?: string };
  status?: {
    observedGeneration?: number;
    conditions?: ConditionLike[];
    enforcement?: { lastEnforcedSeconds?: number };
  };
}

export interface ConditionCount {
  condition: string;
  status: string;
  count: number;
}

interface Entry {
  conditions: { type: string; status: string }[];
  /** Identifies the enforcement last seen, so a replayed event is not counted twice. */
  enforcement: string | undefined;
}

/** Statuses every condition type is reported with, even at zero, so absent means "unknown type". */
const STATUSES = ['True', 'False', 'Unknown'];

export class TenantConditionsView {
  private readonly tenants = new Map<string, Entry>();

  /**
   * Takes one watch event. Returns the tenant's lastEnforcedSeconds when this event shows a new
   * enforcement of a tenant seen before; a tenant's first event (including the replay when a
   * watch starts or restarts, or a new leader starts) records without returning, because that
   * enforcement was already counted by whoever saw it happen.
   */
  observe(type: string, tenant: WatchedTenant): number | undefined {
    const name = tenant.metadata?.name;
    if (!name) return undefined;
    if (type === 'DELETED') {
      this.tenants.delete(name);
      return undefined;
    }
    const status = tenant.status ?? {};
    const seconds = status.enforcement?.lastEnforcedSeconds;
    const enforced = (status.conditions ?? []).find((c) => c.type === 'Enforced');
    const enforcement =
      typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
        ? `${seconds}|${enforced?.lastTransitionTime ?? ''}|${status.observedGeneration ?? ''}`
        : undefined;
    const previous = this.tenants.get(name);
    this.tenants.set(name, {
      conditions: (status.conditions ?? []).map((c) => ({ type: c.type, status: c.status })),
      enforcement,
    });
    if (previous === undefined || enforcement === undefined || enforcement === previous.enforcement) {
      return undefined;
    }
    return seconds;
  }

  get size(): number {
    return this.tenants.size;
  }

  /** Tenants per condition type and status, sorted; each type seen is listed with all three statuses. */
  counts(): ConditionCount[] {
    const counts = new Map<string, Map<string, number>>();
    for (const entry of this.tenants.values()) {
      for (const c of entry.conditions) {
        const byStatus = counts.get(c.type) ?? new Map(STATUSES.map((s) => [s, 0]));
        byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
        counts.set(c.type, byStatus);
      }
    }
    const out: ConditionCount[] = [];
    for (const [condition, byStatus] of counts) {
      for (const [status, count] of byStatus) out.push({ condition, status, count });
    }
    return out.sort((a, b) =>
      a.condition === b.condition ? a.status.localeCompare(b.status) : a.condition.localeCompare(b.condition),
    );
  }
}
