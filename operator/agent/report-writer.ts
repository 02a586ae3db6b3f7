// Keeps this node's NodeEnforcement object current. Writes are skipped when nothing but the
// heartbeat changed and the heartbeat is not yet due, and are spaced by minIntervalMs so pod
// churn cannot turn into a write storm. The API server is behind a small port (NodeReportApi;
// kubeNodeReports is the real one) and time behind a Clock, so the writer is tested directly.
import type { KubeAccess } from '../kube/config.js';
import {
  NODE_ENFORCEMENT_API_VERSION,
  NODE_ENFORCEMENT_KIND,
  NODE_ENFORCEMENT_PLURAL,
  type NodeEnforcementStatus,
} from '../api/nodeenforcement.js';
import { GROUP, VERSION } from '../api/softtenant.js';
import type { Condition } from '../api/conditions.js';
import { ApiError, requestJson } from '../kube/raw-request.js';
import { Backoff } from '../util/backoff.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { rfc3339 } from '../util/time.js';
import type { ReportContent, ReportSink } from './ports.js';

/** The NodeEnforcement calls the writer makes. */
export interface NodeReportApi {
  /** Whether the node's object exists. */
  exists(node: string): Promise<boolean>;
  /** Creates the (empty) object; 'exists' when someone else created it first. */
  create(node: string): Promise<'created' | 'exists'>;
  /** Merge-patches the status; 'missing' when the object is gone. */
  patchStatus(node: string, status: NodeEnforcementStatus): Promise<'patched' | 'missing'>;
}

/** NodeReportApi on the API server. */
export function kubeNodeReports(kc: KubeAccess): NodeReportApi {
  const collection = `/apis/${GROUP}/${VERSION}/${NODE_ENFORCEMENT_PLURAL}`;
  const path = (node: string): string => `${collection}/${encodeURIComponent(node)}`;
  const status = (err: unknown): number | undefined => (err instanceof ApiError ? err.statusCode : undefined);
  return {
    async exists(node) {
      try {
        await requestJson(kc, 'GET', path(node));
        return true;
      } catch (err) {
        if (status(err) === 404) return false;
        throw err;
      }
    },
    async create(node) {
      try {
        await requestJson(kc, 'POST', collection, {
          apiVersion: NODE_ENFORCEMENT_API_VERSION,
          kind: NODE_ENFORCEMENT_KIND,
          metadata: { name: node, labels: { 'app.kubernetes.io/managed-by': 'softtenant-agent' } },
        });
        return 'created';
      } catch (err) {
        if (status(err) === 409) return 'exists';
        throw err;
      }
    },
    async patchStatus(node, body) {
      try {
        await requestJson(
          kc,
          'PATCH',
          `${path(node)}/status`,
          { status: body },
          'application/merge-patch+json',
        );
        return 'patched';
      } catch (err) {
        if (status(err) === 404) return 'missing';
        throw err;
      }
    },
  };
}

/** Fields that change on every sync; alone they do not justify a write (the heartbeat carries them). */
const VOLATILE = new Set(['lastSyncTime', 'lastSyncDurationMs']);

function significant(content: ReportContent): string {
  return JSON.stringify(content, (key, value: unknown) =>
    VOLATILE.has(key) || key === 'lastTransitionTime' ? undefined : value,
  );
}

export interface ReportWriterOptions {
  heartbeatMs: number;
  minIntervalMs: number;
  clock?: Clock;
  /** Random source of the retry jitter (tests make it fixed). */
  random?: () => number;
}

export class ReportWriter implements ReportSink {
  private desired: ReportContent | undefined;
  private written: string | undefined;
  private lastWriteAt = 0;
  private timer: unknown;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private exists = false;
  private writtenConditions: Condition[] = [];
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  /** Count of API writes, exposed for metrics and tests. */
  writes = 0;

  constructor(
    private readonly api: NodeReportApi,
    private readonly node: string,
    private readonly opts: ReportWriterOptions,
    private readonly log: Logger,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff(500, 30_000, opts.random);
  }

  update(content: ReportContent): void {
    this.desired = content;
    this.schedule(0);
  }

  /** Writes whatever is pending now (used on shutdown). */
  async flush(): Promise<void> {
    await this.writing;
    if (this.desired && significant(this.desired) !== this.written) await this.write();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const sinceLast = this.clock.now() - this.lastWriteAt;
    const wait = Math.max(delayMs, this.opts.minIntervalMs - sinceLast, 0);
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, wait);
  }

  private async tick(): Promise<void> {
    if (this.writing) {
      await this.writing;
    }
    const changed = this.desired !== undefined && significant(this.desired) !== this.written;
    const heartbeatDue = this.clock.now() - this.lastWriteAt >= this.opts.heartbeatMs;
    if (this.desired && (changed || heartbeatDue)) {
      this.writing = this.write().finally(() => (this.writing = undefined));
      await this.writing;
    }
    if (!this.stopped && !this.timer)
      this.schedule(Math.max(0, this.opts.heartbeatMs - (this.clock.now() - this.lastWriteAt)));
  }

  private async write(): Promise<void> {
    const content = this.desired;
    if (!content) return;
    const now = this.clock.now();
    const status: NodeEnforcementStatus = {
      ...content,
      ...(content.conditions ? { conditions: this.withTransitionTimes(content.conditions, now) } : {}),
      heartbeatTime: rfc3339(new Date(now)),
      heartbeatSeconds: Math.round(this.opts.heartbeatMs / 1000),
    };
    try {
      if (!this.exists) await this.ensureObject();
      if ((await this.api.patchStatus(this.node, status)) === 'missing') {
        this.exists = false;
        throw new Error(`NodeEnforcement ${this.node} is gone`);
      }
      this.writes++;
      this.written = significant(content);
      this.writtenConditions = status.conditions ?? [];
      this.lastWriteAt = this.clock.now();
      this.backoff.reset();
    } catch (err) {
      const delay = this.backoff.next();
      this.log.warn('writing node report failed; will retry', {
        node: this.node,
        delayMs: delay,
        error: (err as Error).message,
      });
      this.schedule(delay);
    }
  }

  /** Keeps a condition's lastTransitionTime while its status stays the same. */
  private withTransitionTimes(conditions: Condition[], now: number): Condition[] {
    const stamp = rfc3339(new Date(now));
    return conditions.map((c) => {
      const prev = this.writtenConditions.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : stamp };
    });
  }

  private async ensureObject(): Promise<void> {
    if (!(await this.api.exists(this.node)) && (await this.api.create(this.node)) === 'created') {
      this.writes++;
      this.log.info('created node report', { node: this.node });
    }
    this.exists = true;
  }
}
