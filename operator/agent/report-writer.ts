// Keeps this node's NodeEnforcement object current. Writes are skipped when nothing but the
// heartbeat changed and the heartbeat is not yet due, and are spaced by minIntervalMs so pod
// churn cannot turn into a write storm.
import type { KubeConfig } from '@kubernetes/client-node';
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
import type { Logger } from '../util/logger.js';
import { rfc3339 } from '../util/time.js';

export type ReportContent = Omit<NodeEnforcementStatus, 'heartbeatTime' | 'heartbeatSeconds'>;

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
  now?: () => Date;
}

export class ReportWriter {
  private desired: ReportContent | undefined;
  private written: string | undefined;
  private lastWriteAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private exists = false;
  private writtenConditions: Condition[] = [];
  private readonly backoff = new Backoff(500, 30_000);
  /** Count of API writes, exposed for metrics and tests. */
  writes = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly node: string,
    private readonly opts: ReportWriterOptions,
    private readonly log: Logger,
  ) {}

  private get path(): string {
    return `/apis/${GROUP}/${VERSION}/${NODE_ENFORCEMENT_PLURAL}/${encodeURIComponent(this.node)}`;
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
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const sinceLast = Date.now() - this.lastWriteAt;
    const wait = Math.max(delayMs, this.opts.minIntervalMs - sinceLast, 0);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, wait);
  }

  private async tick(): Promise<void> {
    if (this.writing) {
      await this.writing;
    }
    const changed = this.desired !== undefined && significant(this.desired) !== this.written;
    const heartbeatDue = Date.now() - this.lastWriteAt >= this.opts.heartbeatMs;
    if (this.desired && (changed || heartbeatDue)) {
      this.writing = this.write().finally(() => (this.writing = undefined));
      await this.writing;
    }
    if (!this.stopped) this.schedule(Math.max(0, this.opts.heartbeatMs - (Date.now() - this.lastWriteAt)));
  }

  private async write(): Promise<void> {
    const content = this.desired;
    if (!content) return;
    const now = (this.opts.now ?? (() => new Date()))();
    const status: NodeEnforcementStatus = {
      ...content,
      ...(content.conditions ? { conditions: this.withTransitionTimes(content.conditions, now) } : {}),
      heartbeatTime: rfc3339(now),
      heartbeatSeconds: Math.round(this.opts.heartbeatMs / 1000),
    };
    try {
      if (!this.exists) await this.ensureObject();
      await requestJson(this.kc, 'PATCH', `${this.path}/status`, { status }, 'application/merge-patch+json');
      this.writes++;
      this.written = significant(content);
      this.writtenConditions = status.conditions ?? [];
      this.lastWriteAt = Date.now();
      this.backoff.reset();
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) this.exists = false;
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
  private withTransitionTimes(conditions: Condition[], now: Date): Condition[] {
    const stamp = rfc3339(now);
    return conditions.map((c) => {
      const prev = this.writtenConditions.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : stamp };
    });
  }

  private async ensureObject(): Promise<void> {
    try {
      await requestJson(this.kc, 'GET', this.path);
    } catch (err) {
      if (!(err instanceof ApiError) || err.statusCode !== 404) throw err;
      try {
        await requestJson(this.kc, 'POST', `/apis/${GROUP}/${VERSION}/${NODE_ENFORCEMENT_PLURAL}`, {
          apiVersion: NODE_ENFORCEMENT_API_VERSION,
          kind: NODE_ENFORCEMENT_KIND,
          metadata: { name: this.node, labels: { 'app.kubernetes.io/managed-by': 'softtenant-agent' } },
        });
        this.writes++;
        this.log.info('created node report', { node: this.node });
      } catch (createErr) {
        if (!(createErr instanceof ApiError) || createErr.statusCode !== 409) throw createErr;
      }
    }
    this.exists = true;
  }
}
