// Records Events on SoftTenants with the semantics of client-go's event broadcaster (the rules
// below; the code is ours):
// - In the background. record() returns at once and a few senders send; a reconcile never waits
//   for its Events, and a failure to send one is logged, never a failure of the reconcile.
// - On a budget of their own. Senders take a token of the Events' bucket (`budget`) before each
//   request, and Event requests are outside the process's request limit (kube/raw-request.ts):
//   a burst of Events neither delays a reconcile's writes nor waits behind them.
// - Bounded. Past `maxBacklog` waiting requests, a new Event is dropped (a Warning takes the place
//   of the newest waiting Normal one), counted and logged, rather than held in memory while the
//   API server is slow or away.
// - Series, not repeats. An Event identical to one recorded less than `seriesWindowMs` ago (same
//   tenant, type, reason, action and note) is not created again: it is counted, and the Event
//   sent first gets `series` (count, lastObservedTime) by PATCH on the first repeat, then at
//   most every `seriesRefreshMs` while the repeats go on, and once more when they stop (client-go:
//   6 and 30 minutes). Unlike client-go, the note is part of what makes two Events the same: ours
//   name the objects, and a different object is news.
// - A spam filter per tenant. New Events of one tenant pass a token bucket of `spamBurst` tokens,
//   one more every `spamRefillMs` (client-go's per-object filter: 25, one per 5 minutes); what it
//   holds back is dropped and counted.
import { logger } from '../util/logger.js';
import { systemClock, type Clock } from '../util/clock.js';
import { TokenBucket } from '../util/token-bucket.js';
import type { EventRecord, EventRef, EventSink, TenantEvent } from './client.js';
import { errorMessage } from '../util/errors.js';

/** What a sender waits for before each request (the Events' budget). */
export interface RateLimiter {
  take(): Promise<void>;
}

export interface RecorderOptions {
  /** Requests in flight at once. */
  senders?: number;
  /** Requests waiting beyond this are dropped. */
  maxBacklog?: number;
  /** The Events' own budget; none: send as fast as the senders go. */
  budget?: RateLimiter;
  seriesWindowMs?: number;
  seriesRefreshMs?: number;
  spamBurst?: number;
  spamRefillMs?: number;
  clock?: Clock;
}

export const EVENT_DEFAULTS = {
  /**
   * Enough to reach the default budget (50/s) at the API latency measured under load (about
   * 300 ms a request at 5,000 tenants on 2 shared cores); with 4, Events went out at about 18/s
   * and of the 10,000 of a 5,000-tenant sync at least 3,500 were dropped (5,477 were sent by the
   * end of the bench's minute at rest, at most 1,000 can wait). Their connections are their own
   * (kube/raw-request.ts), so they take none of the reconciles'.
   */
  senders: 16,
  maxBacklog: 1000,
  seriesWindowMs: 6 * 60_000,
  seriesRefreshMs: 30 * 60_000,
  spamBurst: 25,
  spamRefillMs: 5 * 60_000,
};

/** How often open series are looked at (final and refresh updates, expiry). */
const TICK_MS = 30_000;

/** Counters, for the log, the tests and the benches. */
export interface RecorderStats {
  /** Events recorded (record() calls). */
  recorded: number;
  /** Events created on the API server. */
  created: number;
  /** Series updates sent. */
  seriesUpdates: number;
  /** Repeats folded into an open series. */
  folded: number;
  /** New Events held back by the per-tenant spam filter. */
  spam: number;
  /** Requests dropped because the backlog was full. */
  dropped: number;
  /** Requests that failed (logged). */
  failed: number;
}

interface Series {
  key: string;
  event: EventRecord;
  /** Times recorded within the window. */
  count: number;
  /** The count the API server has (0 before the create succeeded). */
  sentCount: number;
  lastObservedAt: number;
  lastSentAt: number;
  ref?: EventRef;
  /** A request for this series waits or is in flight. */
  queued: boolean;
  /** Still in the map (a repeat now folds into it). */
  open: boolean;
}

interface Job {
  kind: 'create' | 'update';
  series: Series;
}

const log = logger('events');

export class EventRecorder {
  private readonly options: typeof EVENT_DEFAULTS;
  private readonly budget: RateLimiter | undefined;
  private readonly clock: Clock;
  private readonly series = new Map<string, Series>();
  private readonly spamFilter = new Map<string, TokenBucket>();
  private readonly backlog: Job[] = [];
  private sending = 0;
  private timer: unknown;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly counts: RecorderStats = {
    recorded: 0,
    created: 0,
    seriesUpdates: 0,
    folded: 0,
    spam: 0,
    dropped: 0,
    failed: 0,
  };

  constructor(
    private readonly sink: EventSink,
    options: RecorderOptions = {},
  ) {
    this.options = {
      senders: Math.max(1, options.senders ?? EVENT_DEFAULTS.senders),
      maxBacklog: Math.max(1, options.maxBacklog ?? EVENT_DEFAULTS.maxBacklog),
      seriesWindowMs: options.seriesWindowMs ?? EVENT_DEFAULTS.seriesWindowMs,
      seriesRefreshMs: options.seriesRefreshMs ?? EVENT_DEFAULTS.seriesRefreshMs,
      spamBurst: options.spamBurst ?? EVENT_DEFAULTS.spamBurst,
      spamRefillMs: options.spamRefillMs ?? EVENT_DEFAULTS.spamRefillMs,
    };
    this.budget = options.budget;
    this.clock = options.clock ?? systemClock;
  }

  /** Queues an Event, folds it into its series, or drops it (returns at once; see idle()). */
  record(event: TenantEvent): void {
    if (this.closed) return;
    this.counts.recorded += 1;
    const meta = event.tenant.metadata;
    const record: EventRecord = {
      regarding: { name: meta.name, ...(meta.uid !== undefined ? { uid: meta.uid } : {}) },
      type: event.type,
      reason: event.reason,
      action: event.action,
      note: event.note,
    };
    const key = [meta.uid ?? meta.name, record.type, record.reason, record.action, record.note].join(
      '\u0000',
    );
    const at = this.clock.now();
    const open = this.series.get(key);
    if (open && at - open.lastObservedAt < this.options.seriesWindowMs) {
      open.count += 1;
      open.lastObservedAt = at;
      this.counts.folded += 1;
      // The first repeat turns the Event into a series at once; later ones wait for a tick.
      if (open.count === 2 && open.ref && !open.queued) this.enqueue({ kind: 'update', series: open });
      return;
    }
    if (!this.spamAllows(meta.uid ?? meta.name)) {
      this.counts.spam += 1;
      log.info('too many events for this tenant; dropping', { tenant: meta.name, reason: record.reason });
      return;
    }
    const series: Series = {
      key,
      event: record,
      count: 1,
      sentCount: 0,
      lastObservedAt: at,
      lastSentAt: at,
      queued: false,
      open: true,
    };
    this.series.set(key, series);
    this.ensureTimer();
    this.enqueue({ kind: 'create', series });
  }

  /** Resolves once nothing waits and nothing is in flight. */
  idle(): Promise<void> {
    if (this.sending === 0 && this.backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops recording: sends the counts of open series that the API server does not have yet, and
   * resolves when everything queued is sent (bound it with a timeout).
   */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const series of this.series.values()) this.closeSeries(series);
    return this.idle();
  }

  stats(): RecorderStats & { waiting: number; inFlight: number; openSeries: number } {
    return {
      ...this.counts,
      waiting: this.backlog.length,
      inFlight: this.sending,
      openSeries: this.series.size,
    };
  }

  /**
   * Final and refresh updates of open series, expiry of old ones and of spam-filter buckets that
   * are full again. Runs every TICK_MS while a series is open.
   */
  tick(): void {
    const at = this.clock.now();
    for (const series of this.series.values()) {
      if (at - series.lastObservedAt >= this.options.seriesWindowMs) this.closeSeries(series);
      else if (
        series.count > series.sentCount &&
        series.ref &&
        !series.queued &&
        at - series.lastSentAt >= this.options.seriesRefreshMs
      ) {
        this.enqueue({ kind: 'update', series });
      }
    }
    for (const [key, bucket] of this.spamFilter) if (bucket.isFull()) this.spamFilter.delete(key);
  }

  private closeSeries(series: Series): void {
    this.series.delete(series.key);
    series.open = false;
    if (series.count > series.sentCount && series.ref && !series.queued) {
      this.enqueue({ kind: 'update', series });
    }
  }

  private spamAllows(tenant: string): boolean {
    let bucket = this.spamFilter.get(tenant);
    if (!bucket) {
      bucket = new TokenBucket(1000 / this.options.spamRefillMs, this.options.spamBurst, () =>
        this.clock.now(),
      );
      this.spamFilter.set(tenant, bucket);
    }
    return bucket.tryTake();
  }

  private ensureTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.tick();
      if (this.series.size > 0 || this.spamFilter.size > 0) this.ensureTimer();
    }, TICK_MS);
    // The timer alone never keeps a process alive.
    (this.timer as { unref?: () => void } | undefined)?.unref?.();
  }

  private enqueue(job: Job): void {
    if (this.backlog.length >= this.options.maxBacklog && !this.makeRoomFor(job)) {
      this.drop(job);
      return;
    }
    job.series.queued = true;
    this.backlog.push(job);
    this.pump();
  }

  /** A Warning's create takes the place of the newest waiting create of a Normal Event. */
  private makeRoomFor(job: Job): boolean {
    if (job.kind !== 'create' || job.series.event.type !== 'Warning') return false;
    for (let i = this.backlog.length - 1; i >= 0; i--) {
      const waiting = this.backlog[i];
      if (waiting.kind === 'create' && waiting.series.event.type === 'Normal') {
        this.backlog.splice(i, 1);
        this.drop(waiting);
        return true;
      }
    }
    return false;
  }

  private drop(job: Job): void {
    this.counts.dropped += 1;
    job.series.queued = false;
    // A dropped create leaves nothing to fold into: the next identical Event is new again.
    if (job.kind === 'create' && job.series.open) {
      this.series.delete(job.series.key);
      job.series.open = false;
    }
    if (this.counts.dropped === 1 || this.counts.dropped % 100 === 0) {
      log.warn('event backlog full; dropping events', {
        tenant: job.series.event.regarding.name,
        reason: job.series.event.reason,
        dropped: this.counts.dropped,
      });
    }
  }

  private pump(): void {
    while (this.sending < this.options.senders && this.backlog.length > 0) {
      const job = this.backlog.shift() as Job;
      this.sending += 1;
      void this.send(job).finally(() => {
        this.sending -= 1;
        this.pump();
        if (this.sending === 0 && this.backlog.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  private async send(job: Job): Promise<void> {
    const { series } = job;
    const event = series.event;
    try {
      if (this.budget) await this.budget.take();
      if (job.kind === 'create') {
        series.ref = await this.sink.createEvent(event);
        series.sentCount = 1;
        this.counts.created += 1;
      } else {
        const count = series.count;
        await this.sink.updateEventSeries(series.ref as EventRef, {
          count,
          lastObservedTime: new Date(series.lastObservedAt),
        });
        series.sentCount = count;
        this.counts.seriesUpdates += 1;
      }
      series.lastSentAt = this.clock.now();
      series.queued = false;
      // Repeats while the create was in flight: the first repeat's update, now that there is an Event.
      if (job.kind === 'create' && series.count > 1) this.enqueue({ kind: 'update', series });
      else if (!series.open && series.count > series.sentCount) this.enqueue({ kind: 'update', series });
    } catch (err) {
      series.queued = false;
      this.counts.failed += 1;
      // Nothing to update when the create failed, or the Event is gone (its TTL): start afresh.
      if (series.open) this.series.delete(series.key);
      series.open = false;
      log.warn(job.kind === 'create' ? 'could not record event' : 'could not update event series', {
        tenant: event.regarding.name,
        reason: event.reason,
        error: errorMessage(err),
      });
    }
  }
}

/** Objects for an Event note, "a/b, c/d", shortened when long (notes are limited to 1 kB). */
export function noteList(keys: readonly string[], limit = 10): string {
  const shown = keys.slice(0, limit).join(', ');
  return keys.length > limit ? `${shown} and ${keys.length - limit} more` : shown;
}

/** Sentences for one Event note, "a; b; c", shortened when many (notes are limited to 1 kB). */
export function clauseList(clauses: readonly string[], limit = 5): string {
  const shown = clauses.slice(0, limit).join('; ');
  return clauses.length > limit ? `${shown}; and ${clauses.length - limit} more` : shown;
}
