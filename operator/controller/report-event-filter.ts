// Which NodeEnforcement events can change a tenant's enforcement. Every agent renews its report
// each heartbeat period, and its counts move with every pod on the node; waking every tenant for
// each of those would cost (nodes / period) x tenants reconciles per second, each reading pods
// and reports, for nothing. A tenant's status reads only three things from a report: which
// policy generations it programs (NetworkPolicies and ClusterNetworkPolicies), its errors, and
// whether its heartbeat is fresh. A fresh heartbeat needs no wake-up (each reconcile asks to be
// requeued when a report would turn stale); a heartbeat after a silence does, since a tenant may
// show that node as stale.
import type { NodeEnforcement } from '../api/nodeenforcement.js';

/** Silence, in heartbeat periods, after which a report's return wakes the tenants. */
const GAP_PERIODS = 2;

/** The parts of a report event this looks at. */
export type ReportObject = Pick<NodeEnforcement, 'metadata' | 'status'>;

interface Seen {
  fingerprint: string;
  heartbeatMs: number;
}

export class ReportEventFilter {
  private readonly seen = new Map<string, Seen>();

  /** Whether this event can change some tenant's enforcement (and remembers it). */
  changesEnforcement(report: ReportObject, type: string | undefined): boolean {
    const name = report.metadata.name;
    if (type === 'DELETED') {
      this.seen.delete(name);
      return true;
    }
    const st = report.status ?? {};
    const fingerprint = JSON.stringify([
      st.policies ?? [],
      st.clusterNetworkPolicies ?? [],
      st.errors ?? [],
      st.heartbeatSeconds ?? null,
    ]);
    const heartbeatMs = st.heartbeatTime ? Date.parse(st.heartbeatTime) : NaN;
    const prev = this.seen.get(name);
    this.seen.set(name, { fingerprint, heartbeatMs });
    if (!prev || prev.fingerprint !== fingerprint) return true;
    if (Number.isNaN(heartbeatMs) || Number.isNaN(prev.heartbeatMs)) return true;
    const periodMs = (st.heartbeatSeconds ?? 30) * 1000;
    return heartbeatMs - prev.heartbeatMs > GAP_PERIODS * periodMs;
  }
}
