// Records Events on SoftTenants. A Warning repeated within a window (a failure retried with
// backoff) is sent once, so a stuck tenant does not flood the API server; Normal events report
// changes that happened and are always sent. Events are sent in the background by a few
// senders, as client-go's broadcaster does: a reconcile never waits for its Events (they were a
// third of a new tenant's round trips), and a failure to record one is logged and never fails
// the reconcile that wanted to report something. The backlog is bounded: past it, new Events are
// dropped and counted in the log, rather than held in memory while the API server is away.
import { logger } from '../util/logger.js';
import type { TenantClient, TenantEvent } from './client.js';
import { errorMessage } from '../util/errors.js';

export const DEFAULT_REPEAT_WINDOW_MS = 10 * 60 * 1000;

export interface RecorderOptions {
  /** Events sent at once. */
  senders?: number;
  /** Events waiting beyond this are dropped. */
  maxBacklog?: number;
}

const log = logger('events');

export class EventRecorder {
  private readonly lastSent = new Map<string, number>();
  private readonly backlog: TenantEvent[] = [];
  private readonly senders: number;
  private readonly maxBacklog: number;
  private sending = 0;
  private dropped = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly client: Pick<TenantClient, 'createEvent'>,
    private readonly now: () => number = Date.now,
    private readonly repeatWindowMs: number = DEFAULT_REPEAT_WINDOW_MS,
    options: RecorderOptions = {},
  ) {
    this.senders = Math.max(1, options.senders ?? 2);
    this.maxBacklog = Math.max(1, options.maxBacklog ?? 1000);
  }

  /** Queues an Event (returns at once; see idle()). */
  record(event: TenantEvent): void {
    const meta = event.tenant.metadata;
    const key = [meta.uid, event.type, event.reason, event.note].join('\u0000');
    const at = this.now();
    if (event.type === 'Warning') {
      const last = this.lastSent.get(key);
      if (last !== undefined && at - last < this.repeatWindowMs) return;
      this.lastSent.set(key, at);
      this.prune(at);
    }
    if (this.backlog.length >= this.maxBacklog) {
      this.dropped += 1;
      if (this.dropped === 1 || this.dropped % 100 === 0) {
        log.warn('event backlog full; dropping events', {
          tenant: meta.name,
          reason: event.reason,
          dropped: this.dropped,
        });
      }
      return;
    }
    this.backlog.push(event);
    this.pump();
  }

  /** Resolves once every queued Event has been sent (or has failed). */
  idle(): Promise<void> {
    if (this.sending === 0 && this.backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.sending < this.senders && this.backlog.length > 0) {
      const event = this.backlog.shift() as TenantEvent;
      this.sending += 1;
      void this.send(event).finally(() => {
        this.sending -= 1;
        this.pump();
        if (this.sending === 0 && this.backlog.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  private async send(event: TenantEvent): Promise<void> {
    try {
      await this.client.createEvent(event);
    } catch (err) {
      log.warn('could not record event', {
        tenant: event.tenant.metadata.name,
        reason: event.reason,
        error: errorMessage(err),
      });
    }
  }

  private prune(at: number): void {
    for (const [key, sent] of this.lastSent) if (at - sent >= this.repeatWindowMs) this.lastSent.delete(key);
  }
}

/** Objects for an Event note, "a/b, c/d", shortened when long (notes are limited to 1 kB). */
export function noteList(keys: readonly string[], limit = 10): string {
  const shown = keys.slice(0, limit).join(', ');
  return keys.length > limit ? `${shown} and ${keys.length - limit} more` : shown;
}
