// Runs reconciles: cache events (through the wake table, wakeups.ts) and a periodic resync feed
// tenant names into the work queue; workers take one name at a time, reconcile it, and return
// failures to the queue for backoff. Workers start once every cache has listed, so that no
// reconcile decides on half a cluster. The resync re-reads the caches, not the API server: a
// watch gap is healed by the informers themselves (they resume, or list again after 410 Gone).
import { logger } from '../util/logger.js';
import type { TenantReads } from './client.js';
import { ReconcileError, StaleReadError } from './errors.js';
import { OwnershipIndex } from './ownership-index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { DEFAULT_BACKOFF, WorkQueue, type BackoffOptions } from './queue.js';
import type { ReconcileResult } from './reconciler.js';
import { ReportEventFilter } from './report-event-filter.js';
import {
  NodePods,
  WATCHES,
  type WakeIndexes,
  type Watched,
  type WatchedKind,
  type WatchEventType,
} from './wakeups.js';
import { errorMessage } from '../util/errors.js';

export interface ControllerOptions {
  resyncPeriodMs: number;
  /** Parallel reconciles of different tenants (one per tenant at a time in any case). */
  workers?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  /** The ownership index the reconciler reads (the controller keeps it up to date). */
  ownership?: OwnershipIndex;
  /** Extra fields for the resync log line (e.g. the write count). */
  stats?: () => Record<string, unknown>;
}

export interface TenantReconciler {
  reconcile(name: string): Promise<ReconcileResult>;
}

const log = logger('controller');

export class TenantController {
  /** Kept by the cache events; the reconciler reads ownership from it. */
  readonly indexes: WakeIndexes;
  private readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly workers: Promise<void>[] = [];
  private resyncTimer: unknown;
  private stopping = false;

  constructor(
    private readonly reconciler: TenantReconciler,
    private readonly reads: Pick<TenantReads, 'tenantNames'>,
    private readonly options: ControllerOptions,
  ) {
    this.indexes = {
      ownership: options.ownership ?? new OwnershipIndex(),
      nodePods: new NodePods(),
      reports: new ReportEventFilter(),
    };
    this.clock = options.clock ?? systemClock;
    this.queue = new WorkQueue(options.backoff ?? DEFAULT_BACKOFF, this.clock);
  }

  /** Starts the workers and the resync; call once the caches have listed. */
  start(): void {
    const count = Math.max(1, this.options.workers ?? 1);
    for (let i = 0; i < count; i++) this.workers.push(this.work());
    this.scheduleResync();
    this.resync();
  }

  /** A cache event: update the indexes and wake the tenants the table names. */
  observe<K extends WatchedKind>(kind: K, type: WatchEventType, object: Watched[K]): void {
    const row = WATCHES[kind];
    const delayMs = row.delayMs;
    for (const tenant of row.wake(type, object, this.indexes)) {
      if (delayMs) this.queue.addAfter(tenant, delayMs);
      else this.queue.add(tenant);
    }
  }

  /**
   * Enqueues every tenant in the cache and every tenant a namespace label still names (a tenant
   * that is gone has its labels cleaned up under its name).
   */
  resync(): void {
    if (this.stopping) return;
    const tenants = this.reads.tenantNames();
    const keys = new Set([...tenants, ...this.indexes.ownership.labelValues()]);
    for (const key of keys) this.queue.add(key);
    log.info('resync', { tenants: tenants.length, queued: keys.size, ...(this.options.stats?.() ?? {}) });
  }

  /** Stops taking work, lets the reconciles in flight finish, and resolves when they have. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  /** Tenants waiting in the queue and being reconciled now (for metrics). */
  queueStats(): { waiting: number; inFlight: number } {
    return { waiting: this.queue.length, inFlight: this.queue.busy };
  }

  private scheduleResync(): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopping) return;
      this.resync();
      this.scheduleResync();
    }, this.options.resyncPeriodMs);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = this.clock.now();
      try {
        const result = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
        log.debug('reconciled', { tenant: key, ms: this.clock.now() - started });
      } catch (err) {
        const delay = this.queue.addRateLimited(key);
        const meta = { tenant: key, retryInMs: delay, failures: this.queue.failuresOf(key) };
        if (err instanceof StaleReadError) log.info(err.message, meta);
        else if (err instanceof ReconcileError) log.warn('reconcile failed', { ...meta, error: err.message });
        else log.error('reconcile failed', { ...meta, error: errorMessage(err) });
      } finally {
        this.queue.done(key);
      }
    }
  }
}
