import { microTime } from '../util/time.js';
// Pure leader-election decisions on a coordination.k8s.io/v1 Lease: given what the Lease says,
// who I am and the time, may I acquire it, renew it, or must I wait? And what do I write?
//
// A lease held by someone else counts as expired only when both clocks say so:
// - by the local clock alone, its record has not changed for leaseDurationSeconds since this
//   candidate first saw that version (client-go's rule: clock skew between machines cannot make
//   two leaders, because a live holder changes the record at every renewal);
// - renewTime + leaseDurationSeconds, as the Lease itself states it, is past by the local clock
//   (the API's documented meaning; it only ever makes a candidate wait longer, e.g. when the
//   holder's clock runs ahead).
// A newly started candidate therefore waits one lease duration before taking over an abandoned
// lease: it cannot tell "abandoned" from "renewed a moment ago by a holder with a slow clock".

/** The Lease spec fields leader election uses (times as the API server serves them). */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export type LeaseDecision =
  /** No Lease object exists: create it, holding it. */
  | { action: 'create' }
  /** I hold it: write a fresh renewTime. */
  | { action: 'renew' }
  /** Nobody holds it (released or never held), or the holder let it expire: take it. */
  | { action: 'acquire'; reason: 'free' | 'expired'; previousHolder?: string }
  /** Someone else holds it until at least `expiresAt`. */
  | { action: 'wait'; holder: string; expiresAt: Date };

export interface LeaseDecisionInput {
  /** The Lease's spec, or undefined when the object does not exist. */
  lease: LeaseSpec | undefined;
  identity: string;
  now: Date;
  /**
   * When this candidate first saw the Lease record in its current version (resourceVersion);
   * undefined counts as now.
   */
  firstSeenAt?: Date;
  /** Used when the Lease does not say its own duration. */
  defaultDurationSeconds: number;
}

function parseTime(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function decideLease(input: LeaseDecisionInput): LeaseDecision {
  const { lease, identity, now } = input;
  if (!lease) return { action: 'create' };
  const holder = lease.holderIdentity ?? '';
  if (holder === identity) return { action: 'renew' };
  if (holder === '') return { action: 'acquire', reason: 'free' };

  const durationMs = (lease.leaseDurationSeconds ?? input.defaultDurationSeconds) * 1000;
  const firstSeen = (input.firstSeenAt ?? now).getTime();
  const renewed = parseTime(lease.renewTime) ?? parseTime(lease.acquireTime);
  const expiresAt = Math.max(firstSeen + durationMs, renewed === undefined ? 0 : renewed + durationMs);
  if (now.getTime() >= expiresAt) return { action: 'acquire', reason: 'expired', previousHolder: holder };
  return { action: 'wait', holder, expiresAt: new Date(expiresAt) };
}

/** The spec to write for a renew, an acquisition or a creation. */
export function heldLeaseSpec(
  prev: LeaseSpec | undefined,
  identity: string,
  now: Date,
  durationSeconds: number,
): LeaseSpec {
  const stamp = microTime(now);
  if (prev && (prev.holderIdentity ?? '') === identity) {
    return { ...prev, leaseDurationSeconds: durationSeconds, renewTime: stamp };
  }
  return {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: stamp,
    renewTime: stamp,
    // A change of holder is a transition (also from "nobody"), as client-go counts them.
    leaseTransitions: prev ? (prev.leaseTransitions ?? 0) + 1 : 0,
  };
}

/**
 * The spec a leader writes when it steps down: no holder, so a standby takes the Lease on its
 * next attempt instead of waiting for it to expire.
 */
export function releasedLeaseSpec(prev: LeaseSpec, now: Date): LeaseSpec {
  return {
    leaseDurationSeconds: 1,
    renewTime: microTime(now),
    leaseTransitions: prev.leaseTransitions ?? 0,
  };
}
