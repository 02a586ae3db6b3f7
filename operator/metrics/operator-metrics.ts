// The operator's Prometheus metrics. Counters and histograms are updated where the work
// happens (MeteredReconciler, the write meter, the SoftTenant watch); gauges read their
// sources at scrape time. Only the leader reconciles and watches, so on a standby the
// reconcile and tenant series stay at zero or empty: aggregate across replicas with max/sum.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TenantConditionsView, type WatchedTenant } from './tenant-conditions.js';

export const RECONCILE_RESULTS = ['success', 'error'] as const;
export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

/** Why a reconcile failed, as the controller's error classes tell it. */
export const RECONCILE_ERROR_REASONS = ['stale_read', 'apply_failed', 'unexpected'] as const;
/** A write as the metrics count it (the write meter's records carry more). */
export interface CountedWrite {
  verb: string;
  kind: string;
}

export type ReconcileErrorReason = (typeof RECONCILE_ERROR_REASONS)[number];

export interface QueueStats {
  waiting: number;
  inFlight: number;
}

export class OperatorMetrics {
  readonly tenants = new TenantConditionsView();
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly reconcileErrors: Counter<'reason'>;
  readonly apiWrites: Counter<'verb' | 'kind'>;
  readonly enforcementSeconds: Histogram;
  private queue: (() => QueueStats) | undefined;
  private leader: () => boolean = () => false;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconciles = new Counter({
      name: 'softtenant_reconcile_total',
      help: 'SoftTenant reconciles, by result (success, or error: retried with backoff).',
      labelNames: ['result'],
      registers,
    });
    for (const result of RECONCILE_RESULTS) this.reconciles.inc({ result }, 0);
    this.reconcileDuration = new Histogram({
      name: 'softtenant_reconcile_duration_seconds',
      help: 'Time one SoftTenant reconcile takes (reads, expansion, writes, status), successful or not.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'softtenant_reconcile_errors_total',
      help:
        'Failed SoftTenant reconciles, by reason: stale_read (a write met a newer version of an object; retried with ' +
        'fresh reads), apply_failed (the API server refused a write; in the tenant status), unexpected.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of RECONCILE_ERROR_REASONS) this.reconcileErrors.inc({ reason }, 0);
    this.apiWrites = new Counter({
      name: 'softtenant_api_writes_total',
      help: 'Writes the operator sent to the API server, by verb and kind of object (zero at rest).',
      labelNames: ['verb', 'kind'],
      registers,
    });
    this.enforcementSeconds = new Histogram({
      name: 'softtenant_tenant_enforcement_seconds',
      help:
        "Seconds from a SoftTenant change until every node running the tenant's pods enforces it " +
        '(status.enforcement.lastEnforcedSeconds), one observation per change.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    });

    // Scrape-time sources, read through arrows (in collect(), `this` is the metric).
    const queue = (): QueueStats | undefined => this.queue?.();
    const isLeader = (): boolean => this.leader();
    const tenants = this.tenants;
    new Gauge({
      name: 'softtenant_workqueue_depth',
      help: 'SoftTenants waiting in the work queue to be reconciled.',
      registers,
      collect() {
        this.set(queue()?.waiting ?? 0);
      },
    });
    new Gauge({
      name: 'softtenant_workqueue_in_flight',
      help: 'SoftTenant reconciles running now.',
      registers,
      collect() {
        this.set(queue()?.inFlight ?? 0);
      },
    });
    new Gauge({
      name: 'softtenant_tenants',
      help: 'SoftTenants by condition type and status, as last seen on the watch (leader only).',
      labelNames: ['condition', 'status'],
      registers,
      collect() {
        this.reset();
        for (const c of tenants.counts()) this.set({ condition: c.condition, status: c.status }, c.count);
      },
    });
    new Gauge({
      name: 'softtenant_leader_election_is_leader',
      help: 'Whether this operator process leads (1) and reconciles, or stands by (0).',
      registers,
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    });
  }

  /** Where the queue gauges read from (the controller is built after the metrics). */
  readQueueFrom(stats: () => QueueStats): void {
    this.queue = stats;
  }

  readLeadershipFrom(isLeader: () => boolean): void {
    this.leader = isLeader;
  }

  /** For the write meter's listener: one write the operator sent. */
  countWrite(write: CountedWrite): void {
    this.apiWrites.inc({ verb: write.verb, kind: write.kind });
  }

  /** For the SoftTenant watch: keeps the condition counts and observes new enforcements. */
  observeTenantEvent(type: string, tenant: WatchedTenant): void {
    const seconds = this.tenants.observe(type, tenant);
    if (seconds !== undefined) this.enforcementSeconds.observe(seconds);
  }
}
