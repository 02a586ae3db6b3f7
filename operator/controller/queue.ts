// A deduplicating, rate-limited work queue of tenant names, in the manner of client-go's
// workqueue: a key waits at most once; a key being processed is never handed out twice (an
// add while it runs marks it dirty and it runs again afterwards, so no change is lost); failed
// keys come back after a per-key exponential backoff. Bursts of watch events thus merge into
// one reconcile per tenant.

import { Backoff } from '../util/backoff.js';
import { systemClock, type Clock } from '../util/clock.js';

export interface BackoffOptions {
  /** Delay after the first failure (before jitter). */
  baseDelayMs: number;
  /** Upper bound of the doubling delay (before jitter). */
  maxDelayMs: number;
  /** Source of jitter; tests pin it. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 250, maxDelayMs: 120_000 };

export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly timers = new Map<string, { timer: unknown; due: number }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Queues a key now (a no-op if it already waits; deferred if it is being processed). */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.processing.add(key);
      getter(key);
      return;
    }
    this.queued.add(key);
    this.waiting.push(key);
  }

  /** Queues a key after a delay; of two pending delays for the same key, the earlier wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    const due = this.clock.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending) {
      if (pending.due <= due) return;
      this.clock.clearTimeout(pending.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    this.timers.set(key, { timer, due });
  }

  /** Queues a key after its backoff and counts the failure; returns the delay chosen. */
  addRateLimited(key: string): number {
    let backoff = this.backoffs.get(key);
    if (!backoff) {
      backoff = new Backoff(this.backoff.baseDelayMs, this.backoff.maxDelayMs, this.backoff.random);
      this.backoffs.set(key, backoff);
    }
    const delay = backoff.next();
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets a key's backoff after a success. */
  forget(key: string): void {
    this.backoffs.delete(key);
  }

  failuresOf(key: string): number {
    return this.backoffs.get(key)?.attempts ?? 0;
  }

  /** The next key to process, or undefined once the queue shuts down. Call done(key) after. */
  get(): Promise<string | undefined> {
    const key = this.waiting.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks a key's processing finished; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Stops accepting keys, cancels pending delays and releases idle getters. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    this.queued.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }

  get length(): number {
    return this.waiting.length;
  }

  get busy(): number {
    return this.processing.size;
  }
}
