// Runs reconciles: watch wake-ups and a periodic resync feed tenant names into the work queue;
// workers take one name at a time, reconcile it, and return failures to the queue for backoff.
import { TENANT_LABEL } from '../api/softtenant.js';
import { logger } from '../util/logger.js';
import type { TenantClient } from './client.js';
import { ReconcileError, StaleReadError } from './errors.js';
import { DEFAULT_BACKOFF, WorkQueue, type BackoffOptions } from './queue.js';
import type { ReconcileResult } from './reconciler.js';
import { ReportChanges, type ReportObject } from './report-changes.js';
import { tenantsToWake, type WatchedKind, type WatchedObject } from './wakeups.js';
import { errorMessage } from '../util/errors.js';

/**
 * Pod events come in floods (a rollout, a scale-up); they only move enforcement figures, so
 * they wake their tenant after this window, in which further pod events add nothing.
 */
const POD_WAKE_DELAY_MS = 2_000;

export interface ControllerOptions {
  resyncPeriodMs: number;
  /** Parallel reconciles of different tenants (one per tenant at a time in any case). */
  workers?: number;
  backoff?: BackoffOptions;
  /** Extra fields for the resync log line (e.g. the write count). */
  stats?: () => Record<string, unknown>;
}

export interface TenantReconciler {
  reconcile(name: string): Promise<ReconcileResult>;
}

const log = logger('controller');

export class TenantController {
  private readonly queue: WorkQueue;
  private readonly knownTenants = new Set<string>();
  /** Namespace name to the tenant its label names, from namespace events and resyncs. */
  private readonly namespaceTenants = new Map<string, string>();
  private readonly reportChanges = new ReportChanges();
  private readonly workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly reconciler: TenantReconciler,
    private readonly client: Pick<TenantClient, 'listSoftTenants' | 'listNamespaces'>,
    private readonly options: ControllerOptions,
  ) {
    this.queue = new WorkQueue(options.backoff ?? DEFAULT_BACKOFF);
  }

  start(): void {
    const count = Math.max(1, this.options.workers ?? 1);
    for (let i = 0; i < count; i++) this.workers.push(this.work());
    this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncPeriodMs);
    void this.resync();
  }

  /** A watch event: wake the tenants it concerns. */
  wake(kind: WatchedKind, object: WatchedObject, type?: string): void {
    if (kind === 'SoftTenant' && object.metadata?.name) this.knownTenants.add(object.metadata.name);
    if (kind === 'Namespace' && object.metadata?.name) {
      const label = type === 'DELETED' ? undefined : object.metadata.labels?.[TENANT_LABEL];
      if (label) this.namespaceTenants.set(object.metadata.name, label);
      else this.namespaceTenants.delete(object.metadata.name);
    }
    if (kind === 'NodeEnforcement' && !this.reportChanges.matters(object as ReportObject, type)) return;
    for (const key of tenantsToWake(kind, object, this.knownTenants, this.namespaceTenants)) {
      if (kind === 'Pod') this.queue.addAfter(key, POD_WAKE_DELAY_MS);
      else this.queue.add(key);
    }
  }

  /**
   * Enqueues every tenant and every tenant named by a namespace label, from fresh lists: this is
   * what repairs anything a watch gap hid (a deleted policy, a relabelled namespace).
   */
  async resync(): Promise<void> {
    if (this.stopping) return;
    try {
      const [tenants, namespaces] = await Promise.all([
        this.client.listSoftTenants(),
        this.client.listNamespaces(),
      ]);
      const keys = new Set(tenants.map((t) => t.metadata.name));
      this.namespaceTenants.clear();
      for (const ns of namespaces) {
        const label = ns.metadata.labels?.[TENANT_LABEL];
        if (!label) continue;
        keys.add(label);
        this.namespaceTenants.set(ns.metadata.name, label);
      }
      this.replaceKnown(tenants.map((t) => t.metadata.name));
      for (const key of keys) this.queue.add(key);
      log.info('resync', { tenants: tenants.length, queued: keys.size, ...(this.options.stats?.() ?? {}) });
    } catch (err) {
      log.error('resync failed; next attempt at the next period', {
        error: errorMessage(err),
      });
    }
  }

  /** Stops taking work, lets the reconciles in flight finish, and resolves when they have. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  /** Tenants waiting in the queue and being reconciled now (for metrics). */
  queueStats(): { waiting: number; inFlight: number } {
    return { waiting: this.queue.length, inFlight: this.queue.busy };
  }

  private replaceKnown(names: string[]): void {
    this.knownTenants.clear();
    for (const name of names) this.knownTenants.add(name);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = Date.now();
      try {
        const result = await this.reconciler.reconcile(key);
        this.replaceKnown(result.tenants);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
        log.debug('reconciled', { tenant: key, ms: Date.now() - started });
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
