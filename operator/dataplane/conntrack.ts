// Cutting flows that a new ruleset denies. The rules accept ESTABLISHED/RELATED before any
// policy check, so without this an allowance that was revoked would keep working for every
// connection opened while it held, until conntrack forgot them (days, for TCP).
//
// How: list the node's conntrack entries (IPv4 and IPv6), judge each entry's original direction
// (src -> dst:dport/proto) with the same allow model the ruleset was rendered from, and delete
// exactly the entries it denies. Entries that are still allowed are left alone on purpose:
// deleting them "to be safe" is not harmless — the next packet would be picked up as a new flow
// in whichever direction it travels, and a server speaking first after the deletion would be
// judged as a connection from the server to the client and could be rejected.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Family } from '../net/address.js';
import type { Runner } from './runner.js';
import { runChecked } from './runner.js';

export interface TrackedFlow {
  /** "tcp", "udp", "sctp", "icmp", ... */
  protocol: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** TCP state, when there is one. */
  state?: string;
}

/** Parses `conntrack -L` lines; the first src/dst/sport/dport of a line are the original direction. */
export function parseConntrack(text: string): TrackedFlow[] {
  const out: TrackedFlow[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    // "-o extended" lines start with the l3 protocol ("ipv4 2"); plain ones with the l4.
    const start = words[0] === 'ipv4' || words[0] === 'ipv6' ? 2 : 0;
    const protocol = words[start];
    if (!protocol || !words.some((w) => w.startsWith('src='))) continue;
    const first = (key: string): string | undefined =>
      words.find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
    const src = first('src');
    const dst = first('dst');
    if (!src || !dst) continue;
    const flow: TrackedFlow = { protocol, src, dst };
    const sport = first('sport');
    const dport = first('dport');
    if (sport !== undefined) flow.sport = Number(sport);
    if (dport !== undefined) flow.dport = Number(dport);
    const state = words[start + 3];
    if (state && /^[A-Z_]+$/.test(state)) flow.state = state;
    out.push(flow);
  }
  return out;
}

/** The entries of one address family (conntrack lists one family at a time). */
export async function listFlows(runner: Runner, family: Family = 4): Promise<TrackedFlow[]> {
  const f = family === 4 ? 'ipv4' : 'ipv6';
  return parseConntrack(
    await runChecked(runner, ['conntrack', '-L', '-f', f], `listing ${f} conntrack entries`),
  );
}

function deleteLine(f: TrackedFlow): string {
  const family = f.src.includes(':') ? 'ipv6' : 'ipv4';
  const parts = ['-D', '-f', family, '-p', f.protocol, '--orig-src', f.src, '--orig-dst', f.dst];
  if (f.sport !== undefined) parts.push('--sport', String(f.sport));
  if (f.dport !== undefined) parts.push('--dport', String(f.dport));
  return parts.join(' ');
}

/** Deletes the entries of these exact flows in one `conntrack -R` batch; returns how many went. */
export async function deleteFlows(runner: Runner, flows: readonly TrackedFlow[]): Promise<number> {
  if (flows.length === 0) return 0;
  // `conntrack -R -` reopens /dev/stdin by path, which fails when stdin is a socket (as Node's
  // pipes are), so the batch goes through a private file.
  const dir = await mkdtemp(path.join(tmpdir(), 'softtenant-conntrack-'));
  const file = path.join(dir, 'delete.batch');
  try {
    await writeFile(file, `${flows.map(deleteLine).join('\n')}\n`, { mode: 0o600 });
    const out = await runChecked(
      runner,
      ['conntrack', '-R', file],
      `deleting ${flows.length} conntrack entries`,
    );
    // conntrack prints each entry it deleted; an entry that ended meanwhile is simply not there.
    return parseConntrack(out).length;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface FlowJudge {
  /** Whether this node's rules take a view on the flow at all (it involves a local pod). */
  concerns(flow: TrackedFlow): boolean;
  /** Whether the ruleset now in force allows the flow's original direction. */
  allows(flow: TrackedFlow): boolean;
}

export interface CutResult {
  tracked: number;
  judged: number;
  denied: TrackedFlow[];
  deleted: number;
}

/** Deletes the conntrack entries of every flow the judge now denies, in the given families. */
export async function cutDeniedFlows(
  runner: Runner,
  judge: FlowJudge,
  families: readonly Family[] = [4, 6],
): Promise<CutResult> {
  const flows: TrackedFlow[] = [];
  for (const family of families) for (const f of await listFlows(runner, family)) flows.push(f);
  const judged = flows.filter(
    (f) => (f.protocol === 'tcp' || f.protocol === 'udp' || f.protocol === 'sctp') && judge.concerns(f),
  );
  const denied = judged.filter((f) => !judge.allows(f));
  const deleted = await deleteFlows(runner, denied);
  return { tracked: flows.length, judged: judged.length, denied, deleted };
}
