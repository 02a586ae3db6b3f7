// The netns lab for dataplane tests: build one (owned by the test process, torn down in an
// after hook even when a test failed), program its nodes through the real render and apply
// edge, probe, and compare matrices with what the NetworkPolicy semantics say.
import { spawnCollect } from '../../operator/dataplane/runner.js';
import type { Runner } from '../../operator/dataplane/runner.js';
import { netnsRunner } from '../../operator/dataplane/runner.js';
import { newLabId, teardownLab } from '../lab/build.js';
import { Lab } from '../lab/lab.js';
import type { ProbeCell, ProbeResult } from '../lab/probe.js';
import { formatMatrix } from '../lab/probe.js';
import type { LabSpec } from '../lab/spec.js';

export { Lab } from '../lab/lab.js';
export type { LabFlow } from '../lab/lab.js';
export { allCells, formatMatrix } from '../lab/probe.js';
export type { ProbeCell, ProbeResult } from '../lab/probe.js';
export type { LabSpec, LabPort } from '../lab/spec.js';

export function startLab(spec: LabSpec): Promise<Lab> {
  return Lab.up(spec);
}

export type PathKind = 'same-node' | 'cross-node' | 'external' | 'node';

/** Which path a cell's packets take: bridged on one node, routed between nodes, or to/from a non-pod host. */
export function pathOf(lab: Lab, cell: ProbeCell): PathKind {
  const a = lab.plan.hosts.find((h) => h.name === cell.from);
  const b = lab.plan.hosts.find((h) => h.name === cell.to);
  if (a?.kind === 'node' || b?.kind === 'node') return 'node';
  if (a?.kind !== 'pod' || b?.kind !== 'pod') return 'external';
  return a.node === b.node ? 'same-node' : 'cross-node';
}

function cellName(c: ProbeCell): string {
  return `${c.from} -> ${c.to}:${c.port}/${c.protocol.toLowerCase()}${c.family === 6 ? ' (IPv6)' : ''}`;
}

/**
 * Throws (with the wrong cells, their path and the whole matrix) unless every probed cell is
 * allowed exactly when `expected` says so.
 */
export function expectMatrix(
  lab: Lab,
  results: ProbeResult[],
  expected: (c: ProbeCell) => boolean,
  label: string,
): void {
  const wrong = results.filter((r) => r.allowed !== expected(r));
  if (wrong.length === 0) return;
  const lines = wrong.map(
    (r) =>
      `  ${cellName(r)} [${pathOf(lab, r)}]: expected ${expected(r) ? 'allowed' : 'denied'}, got ${r.outcome} (${r.ms} ms)`,
  );
  throw new Error(
    `${label}: ${wrong.length} of ${results.length} cells wrong\n${lines.join('\n')}\n\n${formatMatrix(results)}`,
  );
}

/** Asserts a case exercises both the bridged and the routed path with both verdicts. */
export function pathsCovered(
  lab: Lab,
  results: ProbeResult[],
): Record<PathKind, { allowed: number; denied: number }> {
  const out: Record<PathKind, { allowed: number; denied: number }> = {
    'same-node': { allowed: 0, denied: 0 },
    'cross-node': { allowed: 0, denied: 0 },
    external: { allowed: 0, denied: 0 },
    node: { allowed: 0, denied: 0 },
  };
  for (const r of results) out[pathOf(lab, r)][r.allowed ? 'allowed' : 'denied']++;
  return out;
}

/**
 * A bare network namespace named like a lab (so stale cleanup finds it), for apply-engine
 * tests that need no hosts. Remove with `dispose()`.
 */
export async function scratchNetns(): Promise<{
  name: string;
  runner: Runner;
  dispose: () => Promise<void>;
}> {
  const id = newLabId(process.pid);
  const name = `${id}-n0`;
  const r = await spawnCollect(['ip', 'netns', 'add', name]);
  if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  await spawnCollect(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return { name, runner: netnsRunner(name), dispose: () => teardownLab(id) };
}

/** Runs a shell snippet inside a namespace (for foreign rules and sabotage); throws on failure. */
export async function sh(runner: Runner, script: string): Promise<string> {
  const r = await runner.run(['sh', '-c', script]);
  if (r.code !== 0) throw new Error(`${runner.where}: ${script}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}
