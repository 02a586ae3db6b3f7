// Probing: every source host tries its destinations in parallel (bounded inside the host), all
// sources at once. A cell is allowed only when the expected host answered. Anything else that
// was not a definite refusal is tried once more with a longer timeout, so a busy machine does
// not turn an allowed cell into a denied one.
import { hostRequest } from './control.js';
import type { LabHostPlan, LabPlan } from './plan.js';
import type { LabProtocol, Outcome, ProbeOutcome, ProbeTarget } from './protocol.js';

export interface ProbeCell {
  from: string;
  to: string;
  port: number;
  protocol: LabProtocol;
  /** The address family the probe uses (default 4): the destination's IPv4 or IPv6 address. */
  family?: 4 | 6;
}

/** The address a cell's probe aims at: the destination's address of the cell's family. */
export function targetAddress(h: LabHostPlan, family: 4 | 6 | undefined): string {
  if (family !== 6) {
    if (h.ip === undefined) throw new Error(`lab host ${h.name} is IPv6-only`);
    return h.ip;
  }
  if (h.ip6 === undefined) throw new Error(`lab host ${h.name} has no IPv6 address`);
  return h.ip6;
}

export interface ProbeResult extends ProbeCell {
  allowed: boolean;
  outcome: Outcome;
  ms: number;
}

export interface ProbeOptions {
  /** First attempt; default 300 ms. */
  timeoutMs?: number;
  /** Second attempt for cells that timed out or failed oddly; default 1000 ms; 0 disables it. */
  confirmTimeoutMs?: number;
  /** Sockets in flight per source host; default 64. */
  concurrency?: number;
}

export function hostByName(plan: LabPlan, name: string): LabHostPlan {
  const h = plan.hosts.find((x) => x.name === name);
  if (!h)
    throw new Error(
      `lab ${plan.id} has no host ${name} (hosts: ${plan.hosts.map((x) => x.name).join(', ')})`,
    );
  return h;
}

function checkServed(h: LabHostPlan, c: ProbeCell): void {
  if (c.protocol === 'SCTP') return;
  const ports = c.protocol === 'TCP' ? h.tcp : h.udp;
  if (!ports.includes(c.port)) {
    // A closed port would read as "refused" and look exactly like a firewall verdict.
    throw new Error(
      `lab host ${h.name} does not serve ${c.protocol}/${c.port}; add it to servePorts or the pod's ports`,
    );
  }
}

async function attempt(
  plan: LabPlan,
  cells: ProbeCell[],
  timeoutMs: number,
  concurrency: number,
): Promise<ProbeOutcome[]> {
  const bySource = new Map<string, number[]>();
  cells.forEach((c, i) => bySource.set(c.from, [...(bySource.get(c.from) ?? []), i]));
  const out = new Array<ProbeOutcome>(cells.length);
  await Promise.all(
    [...bySource].map(async ([from, idx]) => {
      const src = hostByName(plan, from);
      const targets: ProbeTarget[] = idx.map((i) => {
        const c = cells[i];
        const dst = hostByName(plan, c.to);
        return { ip: targetAddress(dst, c.family), port: c.port, protocol: c.protocol };
      });
      // Enough time for every batch of `concurrency` sockets to time out, plus slack.
      const budget = (Math.ceil(targets.length / concurrency) + 2) * timeoutMs + 10_000;
      const reply = await hostRequest(src.socket, { op: 'probe', targets, timeoutMs, concurrency }, budget);
      const results = reply.results ?? [];
      idx.forEach((cellIndex, k) => {
        const r = results[k] ?? { outcome: 'error', ms: 0 };
        const expected = cells[cellIndex]?.to;
        out[cellIndex] =
          r.outcome === 'ok' && r.responder !== expected ? { ...r, outcome: 'wrong-responder' } : r;
      });
    }),
  );
  return out;
}

const definite: Outcome[] = ['ok', 'refused', 'unreachable', 'unsupported'];

export async function probeCells(
  plan: LabPlan,
  cells: ProbeCell[],
  options: ProbeOptions = {},
): Promise<ProbeResult[]> {
  const timeoutMs = options.timeoutMs ?? 300;
  const confirmMs = options.confirmTimeoutMs ?? 1000;
  const concurrency = options.concurrency ?? 64;
  for (const c of cells) {
    hostByName(plan, c.from);
    checkServed(hostByName(plan, c.to), c);
  }
  const first = await attempt(plan, cells, timeoutMs, concurrency);
  const retry =
    confirmMs > 0 ? cells.map((_, i) => i).filter((i) => !definite.includes(first[i].outcome)) : [];
  if (retry.length > 0) {
    const second = await attempt(
      plan,
      retry.map((i) => cells[i]),
      confirmMs,
      concurrency,
    );
    retry.forEach((cellIndex, k) => {
      first[cellIndex] = second[k];
    });
  }
  return cells.map((c, i) => {
    const r = first[i];
    return { ...c, allowed: r.outcome === 'ok', outcome: r.outcome, ms: r.ms };
  });
}

/**
 * Every source to every destination on every port (a source never probes itself), over each of
 * `families` (default IPv4 only).
 */
export function allCells(
  sources: string[],
  destinations: string[],
  ports: { port: number; protocol: LabProtocol }[],
  families: readonly (4 | 6)[] = [4],
): ProbeCell[] {
  const cells: ProbeCell[] = [];
  for (const family of families) {
    for (const from of sources) {
      for (const to of destinations) {
        if (from === to) continue;
        for (const p of ports)
          cells.push({ from, to, port: p.port, protocol: p.protocol, ...(family === 6 ? { family } : {}) });
      }
    }
  }
  return cells;
}

/** A readable matrix: one row per source, one column per destination:port/proto; "+" allowed, "." denied. */
export function formatMatrix(results: ProbeResult[]): string {
  const rows = [...new Set(results.map((r) => r.from))];
  const col = (r: ProbeResult): string =>
    `${r.to}:${r.port}/${r.protocol.toLowerCase()}${r.family === 6 ? '/v6' : ''}`;
  const cols = [...new Set(results.map(col))];
  const cell = new Map(results.map((r) => [`${r.from}|${col(r)}`, r]));
  const w = Math.max(4, ...rows.map((r) => r.length));
  const lines = [`${''.padEnd(w)}  ${cols.map((_, i) => String(i + 1).padStart(3)).join('')}`];
  for (const r of rows) {
    const marks = cols.map((c) => {
      const x = cell.get(`${r}|${c}`);
      return (x ? (x.allowed ? '+' : x.outcome === 'unsupported' ? '?' : '.') : ' ').padStart(3);
    });
    lines.push(`${r.padEnd(w)}  ${marks.join('')}`);
  }
  lines.push('', ...cols.map((c, i) => `${String(i + 1).padStart(3)}  ${c}`));
  return `${lines.join('\n')}\n`;
}
