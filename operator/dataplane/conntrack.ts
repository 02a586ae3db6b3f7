// Cutting flows that a new ruleset denies. The rules accept ESTABLISHED/RELATED before any
// policy check, so without this an allowance that was revoked would keep working for every
// connection opened while it held, until conntrack forgot them (days, for TCP).
//
// How: list the node's conntrack entries (IPv4 and IPv6), judge each entry as the FORWARD chain
// saw it (see forwardView), and delete the entries it denies. Entries that are still allowed are
// left alone on purpose: deleting them "to be safe" is not harmless — the next packet would be
// picked up as a new flow in whichever direction it travels, and a server speaking first after
// the deletion would be judged as a connection from the server to the client and could be
// rejected.
//
// Cost. conntrack-tools (1.4.7 in the image, Debian bookworm; master is no different) deletes
// by dumping the whole table of the family and filtering it in user space, for every `-D`, also
// inside one `-R` batch; the kernel filters a dump by mark only. A delete line costs a table
// dump (87 ms for a 5,000-entry table on this machine), so one line per flow was O(flows x
// table): tens of seconds after an agent restart. So the deletes are grouped: a verdict depends
// only on (protocol, source, destination and port as forwarded), never on the source port, so
// one `-D` line per such key removes exactly the denied entries of that key, and a key whose
// entries are all closed (TCP TIME_WAIT or CLOSE, which a new SYN replaces anyway) needs none.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Family } from '../net/address.js';
import type { Runner } from './runner.js';
import { runChecked } from './runner.js';

export interface TrackedFlow {
  /** "tcp", "udp", "sctp", "icmp", ... */
  protocol: string;
  /** Original direction. */
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** Reply direction's source and source port: where the flow really goes after a DNAT. */
  replySrc?: string;
  replySport?: number;
  /** TCP state, when there is one. */
  state?: string;
}

/**
 * Parses `conntrack -L` lines: the first src/dst/sport/dport of a line are the original
 * direction, the second src/sport the reply's source.
 */
export function parseConntrack(text: string): TrackedFlow[] {
  const out: TrackedFlow[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    // "-o extended" lines start with the l3 protocol ("ipv4 2"); plain ones with the l4.
    const start = words[0] === 'ipv4' || words[0] === 'ipv6' ? 2 : 0;
    const protocol = words[start];
    if (!protocol || !words.some((w) => w.startsWith('src='))) continue;
    const values = (key: string): string[] =>
      words.filter((w) => w.startsWith(`${key}=`)).map((w) => w.slice(key.length + 1));
    const [src, replySrc] = values('src');
    const [dst] = values('dst');
    if (!src || !dst) continue;
    const flow: TrackedFlow = { protocol, src, dst };
    const [sport, replySport] = values('sport');
    const [dport] = values('dport');
    if (sport !== undefined) flow.sport = Number(sport);
    if (dport !== undefined) flow.dport = Number(dport);
    if (replySrc !== undefined) flow.replySrc = replySrc;
    if (replySport !== undefined) flow.replySport = Number(replySport);
    const state = words[start + 3];
    if (state && /^[A-Z_]+$/.test(state)) flow.state = state;
    out.push(flow);
  }
  return out;
}

/**
 * The flow as the FORWARD chain saw its first packet: kube-proxy's DNAT (PREROUTING) has already
 * replaced a Service address by the backend's, which is the reply's source; SNAT comes after
 * FORWARD (POSTROUTING), so the source is the original one.
 */
export function forwardView(f: TrackedFlow): TrackedFlow {
  if (f.replySrc === undefined || (f.replySrc === f.dst && f.replySport === f.dport)) return f;
  return {
    ...f,
    dst: f.replySrc,
    ...(f.replySport !== undefined ? { dport: f.replySport } : {}),
  };
}

/** The entries of one address family (conntrack lists one family at a time). */
export async function listFlows(runner: Runner, family: Family = 4): Promise<TrackedFlow[]> {
  const f = family === 4 ? 'ipv4' : 'ipv6';
  return parseConntrack(
    await runChecked(runner, ['conntrack', '-L', '-f', f], `listing ${f} conntrack entries`),
  );
}

/** A closed TCP connection's entry: a new SYN replaces it, so there is nothing left to cut. */
export function isClosed(f: TrackedFlow): boolean {
  return f.protocol === 'tcp' && (f.state === 'TIME_WAIT' || f.state === 'CLOSE');
}

/**
 * One `conntrack -D` line per verdict key: protocol, original source, forwarded destination and
 * port (the reply's source and source port). Every entry it matches has the same verdict.
 */
export function deleteLines(denied: readonly TrackedFlow[]): string[] {
  const lines = new Set<string>();
  for (const f of denied) {
    const family = f.src.includes(':') ? 'ipv6' : 'ipv4';
    const parts = ['-D', '-f', family, '-p', f.protocol, '--orig-src', f.src];
    if (f.replySrc !== undefined) parts.push('--reply-src', f.replySrc);
    else parts.push('--orig-dst', f.dst);
    if (f.replySport !== undefined) parts.push('--reply-port-src', String(f.replySport));
    else if (f.dport !== undefined) parts.push('--dport', String(f.dport));
    lines.add(parts.join(' '));
  }
  return [...lines].sort();
}

/** conntrack-tools 1.4.7 aborts a delete when an entry ended between its dump and its delete. */
function isStaleEntry(err: unknown): boolean {
  return err instanceof Error && /such conntrack doesn't exist|No such file or directory/.test(err.message);
}

/** Runs these `-D` lines in one `conntrack -R` batch; returns how many entries went. */
export async function runDeleteLines(runner: Runner, lines: readonly string[]): Promise<number> {
  if (lines.length === 0) return 0;
  // `conntrack -R -` reopens /dev/stdin by path, which fails when stdin is a socket (as Node's
  // pipes are), so the batch goes through a private file.
  const dir = await mkdtemp(path.join(tmpdir(), 'softtenant-conntrack-'));
  const file = path.join(dir, 'delete.batch');
  try {
    await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    const out = await runChecked(
      runner,
      ['conntrack', '-R', file],
      `deleting conntrack entries (${lines.length} filters)`,
    );
    // conntrack prints each entry it deleted; an entry that ended meanwhile is simply not there.
    return parseConntrack(out).length;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deletes the entries of these flows (and every other entry of their verdict keys). */
export function deleteFlows(runner: Runner, flows: readonly TrackedFlow[]): Promise<number> {
  return runDeleteLines(runner, deleteLines(flows));
}

export interface FlowJudge {
  /** Whether this node's rules take a view on the flow at all (it involves a local pod). */
  concerns(flow: TrackedFlow): boolean;
  /** Whether the ruleset now in force allows the flow (as FORWARD saw it). */
  allows(flow: TrackedFlow): boolean;
}

export interface CutResult {
  tracked: number;
  judged: number;
  /** The entries judged denied that were still open (the ones the cut is for). */
  denied: TrackedFlow[];
  /** `conntrack -D` lines run (one per verdict key). */
  deleteLines: number;
  deleted: number;
  durationMs: number;
}

const judgedProtocols = new Set(['tcp', 'udp', 'sctp']);

/** The open entries the judge denies, seen as FORWARD saw them. Pure. */
export function deniedFlows(
  flows: readonly TrackedFlow[],
  judge: FlowJudge,
): {
  judged: number;
  denied: TrackedFlow[];
} {
  let judged = 0;
  const denied: TrackedFlow[] = [];
  for (const raw of flows) {
    if (!judgedProtocols.has(raw.protocol) || isClosed(raw)) continue;
    const f = forwardView(raw);
    if (!judge.concerns(f)) continue;
    judged++;
    if (!judge.allows(f)) denied.push(raw);
  }
  return { judged, denied };
}

/**
 * Deletes the conntrack entries of every flow the judge now denies, in the given families.
 * `judge` is asked for after the listing, so a caller that keeps it current judges with the
 * newest rules.
 */
export async function cutDeniedFlows(
  runner: Runner,
  judge: FlowJudge | (() => FlowJudge | Promise<FlowJudge>),
  families: readonly Family[] = [4, 6],
): Promise<CutResult> {
  const started = Date.now();
  let result: CutResult | undefined;
  // An entry that ends between conntrack's dump and its delete aborts the batch (1.4.7): list
  // and judge again, a few times.
  for (let attempt = 1; ; attempt++) {
    const flows: TrackedFlow[] = [];
    for (const family of families) for (const f of await listFlows(runner, family)) flows.push(f);
    const current = typeof judge === 'function' ? await judge() : judge;
    const { judged, denied } = deniedFlows(flows, current);
    const lines = deleteLines(denied);
    try {
      const deleted = await runDeleteLines(runner, lines);
      result = {
        tracked: flows.length,
        judged,
        denied,
        deleteLines: lines.length,
        deleted,
        durationMs: 0,
      };
      break;
    } catch (err) {
      if (!isStaleEntry(err) || attempt >= 3) throw err;
    }
  }
  return { ...result, durationMs: Date.now() - started };
}
