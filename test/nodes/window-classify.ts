// What became of each probe of a new pod's address (window-probe.ts), told from two observers:
// the prober's socket (connected, ECONNREFUSED, EHOSTUNREACH, timeout) and the conntrack events
// of the target pod's node. The node confirms a flow (a NEW event) only when the SYN has passed
// its filter and leaves towards the pod; a SYN that a REJECT rule refuses on the way never
// confirms one (the RST the rule sends is attached to the unconfirmed flow as RELATED and does
// not confirm it either). So:
//   ECONNREFUSED + NEW event  -> pod-reset: the SYN reached the pod, whose kernel answered RST
//                                (the address is up, nothing listens on the port yet);
//   ECONNREFUSED, no event    -> rejected: refused before the pod (the agent's REJECT, which is
//                                the only tcp-reset REJECT for pod addresses on these nodes);
//   connected                 -> the window: a connection got through;
//   EHOSTUNREACH/ENETUNREACH  -> unreachable (e.g. no neighbour answered for the address yet);
//   timeout + NEW event       -> delivered-timeout: reached the pod, no answer in time;
//   timeout, no event         -> timeout.
// Such a flow lives for microseconds (the RST destroys it at once), so it is invisible to a
// `conntrack -L` poll: only the event stream sees it. Pure: no I/O here.

export type AttemptClass =
  | 'connected'
  | 'pod-reset'
  | 'rejected'
  | 'unreachable'
  | 'delivered-timeout'
  | 'timeout'
  | 'error';

/** One probe as the prober reports it ("IP SPORT START END OUTCOME"). */
export interface Attempt {
  ip: string;
  sport: number;
  start: number;
  end: number;
  /** "connected", "refused", "timeout" or an errno code in lower case. */
  outcome: string;
}

export function parseAttempt(line: string): Attempt | undefined {
  const m = /^(\S+) (\d+) (\d+) (\d+) (\S+)$/.exec(line.trim());
  if (!m) return undefined;
  return { ip: m[1], sport: Number(m[2]), start: Number(m[3]), end: Number(m[4]), outcome: m[5] };
}

/** A NEW event of `conntrack -E -o timestamp`: when the node forwarded a SYN to dst from sport. */
export interface Delivery {
  t: number;
  dst: string;
  sport: number;
}

export function parseConntrackEvent(line: string): Delivery | undefined {
  const m = /^\[(\d+)\.(\d+)\]\s+\[NEW\] tcp .*?src=\S+ dst=(\S+) sport=(\d+) dport=\d+/.exec(line);
  if (!m) return undefined;
  const ms = Number(m[1]) * 1000 + Math.floor(Number(`0.${m[2]}`) * 1000);
  return { t: ms, dst: m[3], sport: Number(m[4]) };
}

export function classify(a: Attempt, delivered: boolean): AttemptClass {
  switch (a.outcome) {
    case 'connected':
      return 'connected';
    case 'refused':
      return delivered ? 'pod-reset' : 'rejected';
    case 'timeout':
      return delivered ? 'delivered-timeout' : 'timeout';
    case 'ehostunreach':
    case 'enetunreach':
      return 'unreachable';
    default:
      return 'error';
  }
}

export interface AddressRecord {
  ip: string;
  /** The CNI handed the address out on the node. */
  addressAt: number;
  /** When the `ipset save` that first showed it in one of the agent's sets on the node returned. */
  programmedAt?: number;
  /** When the last `ipset save` that did not show it started: it was programmed after this. */
  programmedNotBefore?: number;
  /** Connections from the prober that got through. */
  connections: number;
  firstConnectedAt?: number;
  lastConnectedAt?: number;
  /** Attempts whose SYN the node forwarded to the pod (connected, pod-reset, delivered-timeout). */
  delivered: number;
  firstDeliveredAt?: number;
  lastDeliveredAt?: number;
  /** Start of the first attempt refused before the pod after the last one that reached it. */
  refusedAt?: number;
  /** Class of the latest attempt classified. */
  last?: AttemptClass;
  /** The probe's resolution on this address: the longest time between two attempts' starts. */
  maxGapMs: number;
  /** Start of the first attempt: before it the address was not watched (the probe's blind time). */
  firstStart?: number;
  /**
   * Start of the first attempt that got as far as the filters deciding it (refused by a rule, or
   * delivered to the pod): before it, attempts tested nothing (no neighbour yet, timeouts). An
   * address so tested before it was programmed was watched during its window.
   */
  firstDecidedAt?: number;
  lastStart?: number;
  outcomes: Partial<Record<AttemptClass, number>>;
}

export function newRecord(ip: string, addressAt: number): AddressRecord {
  return { ip, addressAt, connections: 0, delivered: 0, maxGapMs: 0, outcomes: {} };
}

/** Folds one classified attempt into its address's record (attempts of one address arrive in order). */
export function record(r: AddressRecord, a: Attempt, c: AttemptClass): void {
  r.outcomes[c] = (r.outcomes[c] ?? 0) + 1;
  r.last = c;
  if (r.lastStart !== undefined) r.maxGapMs = Math.max(r.maxGapMs, a.start - r.lastStart);
  r.firstStart ??= a.start;
  r.lastStart = a.start;
  if (c === 'connected') {
    r.connections++;
    r.firstConnectedAt ??= a.start;
    r.lastConnectedAt = a.start;
  }
  if (c === 'connected' || c === 'pod-reset' || c === 'delivered-timeout' || c === 'rejected')
    r.firstDecidedAt ??= a.start;
  if (c === 'connected' || c === 'pod-reset' || c === 'delivered-timeout') {
    r.delivered++;
    r.firstDeliveredAt ??= a.start;
    r.lastDeliveredAt = a.start;
    delete r.refusedAt;
  } else if (c === 'rejected') {
    r.refusedAt ??= a.start;
  }
}

/**
 * How long after an attempt ended its conntrack event may still arrive. `conntrack -o timestamp`
 * stamps an event when conntrack reads it, not when the kernel made it, so under load the stamp
 * can lag the attempt's end; source ports are unique over a turn of the prober's range (20,000
 * attempts), so a loose window does not match the wrong attempt.
 */
export const EVENT_GRACE_MS = 2_000;
/** The prober's clock reading at the start may be a little after the SYN left. */
const SLACK_MS = 5;

/**
 * Matches attempts with the node's conntrack events and folds them into records. Attempts wait
 * EVENT_GRACE_MS for their event; `flush(now)` classifies those old enough (all with Infinity).
 */
export class Matcher {
  private readonly pending: Attempt[] = [];
  private readonly events = new Map<string, number[]>();
  /** Connections that got through without a NEW event: events the kernel or the pipe lost. */
  missedEvents = 0;

  constructor(private readonly records: Map<string, AddressRecord>) {}

  attempt(a: Attempt): void {
    if (this.records.has(a.ip)) this.pending.push(a);
  }

  delivery(d: Delivery): void {
    const key = `${d.dst} ${d.sport}`;
    const list = this.events.get(key);
    if (list) list.push(d.t);
    else this.events.set(key, [d.t]);
  }

  flush(now: number): void {
    let i = 0;
    for (; i < this.pending.length; i++) {
      const a = this.pending[i];
      if (now - a.end < EVENT_GRACE_MS) break;
      const delivered = this.take(a);
      const c = classify(a, delivered);
      if (c === 'connected' && !delivered) this.missedEvents++;
      record(this.records.get(a.ip) as AddressRecord, a, c);
    }
    this.pending.splice(0, i);
    // Events no attempt claimed (source ports are reused after a full turn of the range).
    for (const [key, times] of this.events) {
      const kept = times.filter((t) => now - t < 30_000);
      if (kept.length === 0) this.events.delete(key);
      else if (kept.length !== times.length) this.events.set(key, kept);
    }
  }

  private take(a: Attempt): boolean {
    const key = `${a.ip} ${a.sport}`;
    const times = this.events.get(key);
    if (!times) return false;
    const i = times.findIndex((t) => t >= a.start - SLACK_MS && t <= a.end + EVENT_GRACE_MS);
    if (i < 0) return false;
    times.splice(i, 1);
    if (times.length === 0) this.events.delete(key);
    return true;
  }
}
