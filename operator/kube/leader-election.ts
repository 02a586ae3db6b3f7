// Leader election on a coordination.k8s.io/v1 Lease, with the timings and behaviour of
// client-go / controller-runtime: a candidate tries every retry period to acquire the Lease (it
// may when the Lease is free or has expired; writes are conditional on the resourceVersion read,
// so two candidates cannot both win); the leader renews every retry period; a leader that has
// not renewed within the renew deadline stops leading (the caller exits, the Deployment restarts
// it). The renew deadline is shorter than the lease duration, so a leader always gives up before
// anyone else may take over. On shutdown the leader releases the Lease so a standby takes it at
// its next attempt instead of waiting for expiry.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../util/logger.js';
import { withTimeout } from '../util/timeout.js';
import { decideLease, heldLeaseSpec, releasedLeaseSpec } from './lease-decision.js';
import type { Lease, LeaseClient } from './leases.js';

export const DEFAULT_LEASE_NAME = 'softtenant-operator';
export const DEFAULT_LEASE_NAMESPACE = 'softtenant-system';

export interface LeaderElectionTimings {
  /** How long a Lease stays valid after its last renewal (written as whole seconds). */
  leaseDurationMs: number;
  /** How long a leader keeps trying to renew before it gives up leading. */
  renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. */
  retryPeriodMs: number;
}

/** controller-runtime's defaults. */
export const DEFAULT_TIMINGS: LeaderElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** Standby attempts are spread by up to this fraction of the retry period. */
const JITTER = 0.2;

/** Throws when the timings could let a leader keep working after another one took over. */
export function validateTimings(t: LeaderElectionTimings): void {
  if (t.leaseDurationMs < 1000 || t.leaseDurationMs % 1000 !== 0) {
    throw new Error('the lease duration must be a whole number of seconds, at least 1s');
  }
  if (t.renewDeadlineMs >= t.leaseDurationMs) {
    throw new Error('the renew deadline must be shorter than the lease duration');
  }
  if (t.retryPeriodMs <= 0 || t.retryPeriodMs * (1 + JITTER) >= t.renewDeadlineMs) {
    throw new Error(
      'the retry period (plus 20% jitter) must be positive and shorter than the renew deadline',
    );
  }
}

/** POD_NAME when the downward API gives it (so `kubectl get lease` names the pod), else host_random. */
export function defaultIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const pod = env.POD_NAME;
  if (pod) return pod;
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

export interface LeaderElectorOptions extends LeaderElectionTimings {
  identity: string;
  now?: () => Date;
  random?: () => number;
}

type Attempt = 'held' | 'held-by-other' | 'conflict';

export class LeaderElector {
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly durationSeconds: number;
  private leading = false;
  private stopped = false;
  /** The Lease as last read or written. */
  private record: Lease | undefined;
  /** When this candidate first saw the Lease's current version (expiry by the local clock). */
  private firstSeen: { version: string; at: Date } | undefined;
  private lastRenewAt = 0;
  private reachedApiServer = false;
  private loggedHolder: string | undefined;
  private interruptSleep: (() => void) | undefined;
  private attempt: Promise<unknown> | undefined;
  private onLost: ((reason: string) => void) | undefined;

  constructor(
    private readonly client: LeaseClient,
    private readonly opts: LeaderElectorOptions,
    private readonly log: Logger,
  ) {
    validateTimings(opts);
    this.now = opts.now ?? (() => new Date());
    this.random = opts.random ?? Math.random;
    this.durationSeconds = opts.leaseDurationMs / 1000;
  }

  get identity(): string {
    return this.opts.identity;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** When this leader last renewed (or acquired) the Lease; undefined if it never led. */
  get lastRenewal(): Date | undefined {
    return this.lastRenewAt > 0 ? new Date(this.lastRenewAt) : undefined;
  }

  /** True once any call to the API server succeeded: a standby that can take over. */
  get hasReachedApiServer(): boolean {
    return this.reachedApiServer;
  }

  /**
   * For /healthz: a leader whose renewals stopped well past the renew deadline has a stuck
   * loop (it should have given up by then). Undefined when healthy, else why not.
   */
  renewalProblem(): string | undefined {
    if (!this.leading || this.stopped) return undefined;
    const since = this.now().getTime() - this.lastRenewAt;
    if (since <= this.opts.leaseDurationMs) return undefined;
    return `the Lease was last renewed ${Math.round(since / 1000)}s ago`;
  }

  /**
   * Tries until this candidate leads (resolves true) or stop()/release() is called (false;
   * call release() then, in case the attempt in flight at that moment won).
   * While leading, renewals run in the background; `onLost` is called once if leadership is
   * lost (renew deadline passed, or another holder found in the Lease).
   */
  async acquire(onLost: (reason: string) => void): Promise<boolean> {
    this.onLost = onLost;
    this.log.info('waiting to lead', { lease: this.client.where, identity: this.identity });
    while (!this.stopped) {
      const started = this.now();
      const outcome = await this.track(this.tryAcquireOrRenew(started)).catch((err: unknown) => {
        this.log.warn('leader election attempt failed', { lease: this.client.where, error: describe(err) });
        return 'conflict' as const;
      });
      if (outcome === 'held') {
        this.leading = true;
        this.lastRenewAt = started.getTime();
        // Stopped while this attempt won: hold nothing back, release() frees the Lease.
        if (this.stopped) return false;
        this.log.info('became leader', { lease: this.client.where, identity: this.identity });
        void this.renewLoop();
        return true;
      }
      await this.sleep(this.opts.retryPeriodMs * (1 + JITTER * this.random()));
    }
    return false;
  }

  /** Stops acquiring or renewing, without touching the Lease. */
  stop(): void {
    this.stopped = true;
    this.interruptSleep?.();
  }

  /**
   * Stops, then, if this candidate still holds the Lease, writes it free so that a standby
   * takes over at once. Resolves true when it released the Lease.
   */
  async release(): Promise<boolean> {
    this.stop();
    await this.attempt?.catch(() => undefined);
    let current = this.record;
    if (!this.leading || !current) return false;
    this.leading = false;
    for (let tries = 0; tries < 2 && current; tries++) {
      const written = await this.client.update(current, releasedLeaseSpec(current.spec, this.now()));
      if (written !== 'conflict') {
        this.record = written;
        this.log.info('released the Lease', { lease: this.client.where, identity: this.identity });
        return true;
      }
      // Someone wrote since our last renewal: release only if it is still ours.
      const fresh = await this.client.get();
      if (!fresh || (fresh.spec.holderIdentity ?? '') !== this.identity) return false;
      current = fresh;
    }
    return false;
  }

  private async renewLoop(): Promise<void> {
    while (this.leading && !this.stopped) {
      await this.sleep(this.opts.retryPeriodMs);
      if (this.stopped) return;
      const started = this.now();
      const deadline = this.lastRenewAt + this.opts.renewDeadlineMs;
      let outcome: Attempt | 'timeout';
      let error: string | undefined;
      try {
        outcome = await withTimeout(
          this.track(this.tryAcquireOrRenew(started)),
          deadline - this.now().getTime(),
        );
      } catch (err) {
        outcome = 'conflict';
        error = describe(err);
      }
      // stop() during the attempt: the caller is shutting down and will release.
      if (this.stopped) return;
      if (outcome === 'held') {
        this.lastRenewAt = started.getTime();
        continue;
      }
      if (outcome === 'held-by-other') {
        this.lose(`the Lease is now held by ${this.record?.spec.holderIdentity ?? 'another candidate'}`);
        return;
      }
      if (this.now().getTime() >= deadline) {
        const ago = ((this.now().getTime() - this.lastRenewAt) / 1000).toFixed(1);
        this.lose(
          `could not renew the Lease within the renew deadline (last renewed ${ago}s ago)${error ? `: ${error}` : ''}`,
        );
        return;
      }
      this.log.warn('renewing the Lease failed; retrying', {
        lease: this.client.where,
        outcome,
        ...(error ? { error } : {}),
      });
    }
  }

  private lose(reason: string): void {
    this.leading = false;
    this.stopped = true;
    this.log.error('lost leadership', { lease: this.client.where, identity: this.identity, reason });
    this.onLost?.(reason);
  }

  /**
   * One attempt. A leader first updates the version it last wrote (one request per renewal;
   * success proves nobody wrote in between); otherwise, or on conflict, read and decide.
   */
  private async tryAcquireOrRenew(now: Date): Promise<Attempt> {
    if (this.leading && this.record) {
      const renewed = await this.client.update(
        this.record,
        heldLeaseSpec(this.record.spec, this.identity, now, this.durationSeconds),
      );
      this.reachedApiServer = true;
      if (renewed !== 'conflict') {
        this.observe(renewed, now);
        return 'held';
      }
    }
    const lease = await this.client.get();
    this.reachedApiServer = true;
    if (lease) this.observe(lease, now);
    const decision = decideLease({
      lease: lease?.spec,
      identity: this.identity,
      now,
      firstSeenAt: this.firstSeen?.at,
      defaultDurationSeconds: this.durationSeconds,
    });
    if (decision.action === 'wait') {
      if (this.loggedHolder !== decision.holder) {
        this.loggedHolder = decision.holder;
        this.log.info('standing by; the Lease is held by another candidate', {
          lease: this.client.where,
          holder: decision.holder,
        });
      }
      return 'held-by-other';
    }
    const spec = heldLeaseSpec(lease?.spec, this.identity, now, this.durationSeconds);
    const written = lease ? await this.client.update(lease, spec) : await this.client.create(spec);
    if (written === 'conflict') return 'conflict';
    this.observe(written, now);
    if (decision.action === 'create') this.log.info('created the Lease', { lease: this.client.where });
    if (decision.action === 'acquire') {
      this.log.info('acquired the Lease', {
        lease: this.client.where,
        reason: decision.reason,
        ...(decision.previousHolder ? { previousHolder: decision.previousHolder } : {}),
      });
    }
    return 'held';
  }

  private observe(lease: Lease, now: Date): void {
    this.record = lease;
    const version = lease.metadata.resourceVersion ?? '';
    if (this.firstSeen?.version !== version) this.firstSeen = { version, at: now };
  }

  /** Remembers the attempt in flight, so release() can wait for it. */
  private track<T>(attempt: Promise<T>): Promise<T> {
    this.attempt = attempt;
    return attempt;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.interruptSleep = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}
