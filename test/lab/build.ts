// Side effects of the lab: create the namespaces and links of a plan, start the host processes,
// and tear everything down again — by the lab id, so that a crashed run's leftovers are found
// from the netns names alone.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnCollect } from '../../operator/dataplane/runner.js';
import { hostRequest } from './control.js';
import type { LabHostPlan, LabPlan, LabStep } from './plan.js';
import { labNetnsPrefix, labStateRoot } from './plan.js';
import type { HostConfig } from './protocol.js';

const hostProgram = fileURLToPath(new URL('./host.js', import.meta.url));

/** "stlab-<owner pid or 'cli'>-<random>": the owner decides when leftovers count as stale. */
export function newLabId(owner: number | 'cli'): string {
  return `${labNetnsPrefix}${owner}-${randomBytes(3).toString('hex')}`;
}

async function mustRun(argv: string[], what: string, input?: string): Promise<string> {
  const r = await spawnCollect(argv, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`lab: ${what}: ${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs fn over items, at most `limit` at a time. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

async function runStep(step: LabStep): Promise<void> {
  if (step.sysctl.length > 0) {
    await mustRun(
      ['ip', 'netns', 'exec', step.netns, 'sysctl', '-q', ...step.sysctl.flatMap((s) => ['-w', s])],
      `sysctl in ${step.netns}`,
    );
  }
  if (step.ip.length > 0)
    await mustRun(
      ['ip', '-n', step.netns, '-batch', '-'],
      `links in ${step.netns}`,
      `${step.ip.join('\n')}\n`,
    );
}

async function startHost(h: LabHostPlan, parentPid: number | undefined): Promise<void> {
  const config: HostConfig = {
    name: h.name,
    socket: h.socket,
    tcp: h.tcp,
    udp: h.udp,
    ...(h.ip !== undefined ? { udpAddress: h.ip } : {}),
    ...(h.ip6 !== undefined ? { udpAddress6: h.ip6 } : {}),
    ...(parentPid ? { parentPid } : {}),
  };
  writeFileSync(h.config, JSON.stringify(config));
  const log = openSync(h.log, 'a');
  try {
    // Detached: a lab made by the CLI outlives the `up` command; `down` ends it by netns.
    const child = spawn('ip', ['netns', 'exec', h.netns, process.execPath, hostProgram, h.config], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await hostRequest(h.socket, { op: 'ping' }, 1000);
      return;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(`lab host ${h.name} (${h.netns}) did not come up; see ${h.log}`, { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface BuildOptions {
  /** Host processes exit when this pid is gone. */
  parentPid?: number;
}

/** Builds the lab of a plan; on any failure everything already made is removed again. */
export async function buildLab(plan: LabPlan, options: BuildOptions = {}): Promise<void> {
  try {
    mkdirSync(plan.stateDir, { recursive: true });
    writeFileSync(`${plan.stateDir}/lab.json`, JSON.stringify(plan, null, 2));
    await mustRun(
      ['ip', '-batch', '-'],
      'create network namespaces',
      `${plan.netns.map((n) => `netns add ${n}`).join('\n')}\n`,
    );
    for (const phase of plan.phases) await inParallel(phase, 8, runStep);
    await inParallel(plan.hosts, 6, (h) => startHost(h, options.parentPid));
  } catch (e) {
    await teardownLab(plan.id).catch(() => undefined);
    throw e;
  }
}

export async function listLabNetns(): Promise<string[]> {
  const out = await mustRun(['ip', 'netns', 'list'], 'list network namespaces');
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(labNetnsPrefix));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends the processes living in a lab netns: by their ids, TERM first, KILL what stays. */
async function endProcessesIn(netns: string[]): Promise<void> {
  const pids = new Set<number>();
  const listed = await inParallel(netns, 8, (n) => spawnCollect(['ip', 'netns', 'pids', n]));
  for (const r of listed)
    for (const p of r.stdout.split('\n')) if (/^\d+$/.test(p.trim())) pids.add(Number(p.trim()));
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 2000;
  while ([...pids].some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const p of pids) {
    if (!pidAlive(p)) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Removes every netns, process and state file of one lab. Safe to call twice. */
export async function teardownLab(id: string): Promise<void> {
  const mine = (await listLabNetns()).filter((n) => n.startsWith(`${id}-`));
  await endProcessesIn(mine);
  if (mine.length > 0) {
    // -force: keep going past one failure so the rest is still removed, then report.
    const r = await spawnCollect(['ip', '-force', '-batch', '-'], {
      input: `${mine.map((n) => `netns del ${n}`).join('\n')}\n`,
    });
    const left = (await listLabNetns()).filter((n) => n.startsWith(`${id}-`));
    if (left.length > 0)
      throw new Error(`lab ${id}: could not delete ${left.join(', ')}: ${r.stderr.trim()}`);
  }
  rmSync(`${labStateRoot}/${id}`, { recursive: true, force: true });
}

function labIdOf(netns: string): string {
  return netns.split('-').slice(0, 3).join('-');
}

/**
 * Removes labs left behind by crashed runs: those whose owning process is gone. With `all`,
 * also labs made by the CLI and labs of live processes.
 */
export async function cleanupStaleLabs(options: { all?: boolean } = {}): Promise<string[]> {
  const ids = new Set((await listLabNetns()).map(labIdOf));
  if (existsSync(labStateRoot))
    for (const d of readdirSync(labStateRoot)) if (d.startsWith(labNetnsPrefix)) ids.add(d);
  const stale = [...ids].filter((id) => {
    if (options.all) return true;
    const owner = id.split('-')[1] ?? '';
    return /^\d+$/.test(owner) && !pidAlive(Number(owner));
  });
  for (const id of stale.sort()) await teardownLab(id);
  return stale;
}
