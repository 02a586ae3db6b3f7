// Measures the window of new pods on the real nodes (the nodes suite and `make bench-enforce`).
// Four observers, all on this machine's clock:
// - the address: the CNI's host-local IPAM writes one file per address it hands out into the
//   node's data directory (<cluster>/<node>/cni/networks/<network>/<ip>) during the pod's CNI
//   ADD; the file's mtime is when the address exists, and the moment this process sees the
//   file, the prober is told to start on that address;
// - the prober: window-prober.js run inside a pod of another tenant (its network namespace,
//   found through the pod's cgroup), connecting to the address in a tight loop, one source
//   port per attempt;
// - the target's node: `conntrack -E` in its network namespace, whose NEW events say which of
//   those attempts the node forwarded to the pod (window-classify.ts tells a RST of the pod's
//   kernel from a REJECT on the way with them);
// - the agent: `ipset save` in the node's network namespace, polled; an address is programmed
//   once it is a member of one of the agent's sets.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnCollect } from '../../operator/dataplane/runner.js';
import { repoRoot } from '../support/controlplane.js';
import {
  EVENT_GRACE_MS,
  Matcher,
  newRecord,
  parseAttempt,
  parseConntrackEvent,
  type AddressRecord,
} from './window-classify.js';

export type { AddressRecord } from './window-classify.js';

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
/** The network name of hack/cluster/cluster-up.sh's CNI config. */
const CNI_NETWORK = 'softtenant-local';
/**
 * An address is no longer probed once it has been programmed this long and its latest attempt
 * ended in a final state (refused by a rule, or connected): so it is seen in its final state,
 * and a run of many pods one at a time does not keep every earlier address in a tight loop.
 */
const SETTLED_MS = 2_000;

/** Any pid of a pod (its processes share the pod's network namespace), found through its cgroup. */
export function podPid(prefix: string, node: string, podUid: string): number {
  const root = `/sys/fs/cgroup/pids/${prefix}-${node}`;
  const want = `pod${podUid}`;
  const walk = (dir: string, depth: number): number | undefined => {
    if (depth > 4 || !existsSync(dir)) return undefined;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const sub = join(dir, e.name);
      if (e.name === want || e.name === want.replace(/-/g, '_')) {
        for (const c of readdirSync(sub, { withFileTypes: true })) {
          if (!c.isDirectory()) continue;
          const pid = readFileSync(join(sub, c.name, 'cgroup.procs'), 'utf8').split('\n')[0];
          if (pid) return Number(pid);
        }
      }
      const found = walk(sub, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  const pid = walk(root, 0);
  if (!pid) throw new Error(`no process of pod ${podUid} under ${root}`);
  return pid;
}

/** Members of the agent's hash:ip sets in a node's network namespace. */
async function programmedIPs(netns: string): Promise<Set<string>> {
  const r = await spawnCollect(['nsenter', `--net=/run/netns/${netns}`, 'ipset', 'save']);
  const out = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^add stn-\S+ (\d+\.\d+\.\d+\.\d+)$/.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

export interface WindowProbeOptions {
  clusterDir: string;
  /** Namespace prefix of the cluster (hack/cluster: <clusterDir>/prefix). */
  prefix: string;
  /** Node whose new pods are probed. */
  node: string;
  /** The prober pod (another tenant's), its node, UID and address. */
  prober: { node: string; uid: string; ip: string };
  port: number;
  /** How often the agent's sets are read (ms). */
  pollMs?: number;
}

export class WindowProbe {
  readonly records = new Map<string, AddressRecord>();
  private readonly known = new Set<string>();
  private readonly matcher = new Matcher(this.records);
  private watcher: FSWatcher | undefined;
  private prober: ChildProcess | undefined;
  private events: ChildProcess | undefined;
  private polling = false;
  private pollDone: Promise<void> = Promise.resolve();
  private readonly dir: string;
  proberErrors = '';
  /** Lines of `conntrack -E` on stderr other than its start and end notices (ENOBUFS: events lost). */
  eventErrors = '';

  constructor(private readonly opts: WindowProbeOptions) {
    this.dir = join(opts.clusterDir, opts.node, 'cni/networks', CNI_NETWORK);
  }

  /** Connections that got through without the node's NEW event: events lost on the way. */
  get missedEvents(): number {
    return this.matcher.missedEvents;
  }

  /** Addresses handed out before start() are not probed (they belong to earlier pods). */
  async start(): Promise<void> {
    for (const f of existsSync(this.dir) ? readdirSync(this.dir) : []) if (IPV4.test(f)) this.known.add(f);
    await this.startEvents();
    const pid = podPid(this.opts.prefix, this.opts.prober.node, this.opts.prober.uid);
    this.prober = spawn(
      'nsenter',
      [
        `--net=/proc/${pid}/ns/net`,
        '--',
        process.execPath,
        join(repoRoot, 'dist/test/nodes/window-prober.js'),
        String(this.opts.port),
        '200',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.prober.stderr?.on('data', (d: Buffer) => (this.proberErrors += d.toString()));
    this.prober.once('exit', (code, signal) => {
      if (this.polling) this.proberErrors += `prober exited early (${code ?? signal})\n`;
    });
    createInterface({ input: this.prober.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const a = parseAttempt(line);
      if (a) this.matcher.attempt(a);
    });
    this.watcher = watch(this.dir, () => this.scan());
    this.scan();
    this.polling = true;
    this.pollDone = this.poll();
  }

  /** The target node's conntrack events for the prober's flows to the port; resolves once listening. */
  private startEvents(): Promise<void> {
    const netns = `${this.opts.prefix}-${this.opts.node}`;
    const events = spawn(
      'nsenter',
      [
        `--net=/run/netns/${netns}`,
        'conntrack',
        '-E',
        '-e',
        'NEW',
        '-p',
        'tcp',
        '-s',
        this.opts.prober.ip,
        '--dport',
        String(this.opts.port),
        '-o',
        'timestamp',
        '-b',
        String(64 << 20),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.events = events;
    createInterface({ input: events.stdout }).on('line', (line) => {
      const d = parseConntrackEvent(line);
      if (d) this.matcher.delivery(d);
    });
    return new Promise((resolve, reject) => {
      // conntrack says on stderr that it set the buffer size once its socket is open.
      events.stderr.on('data', (d: Buffer) => {
        const text = d.toString();
        if (/buffer size has been set/.test(text)) resolve();
        for (const line of text.split('\n'))
          if (line.trim() && !/buffer size has been set|flow events have been shown/.test(line))
            this.eventErrors += `${line}\n`;
      });
      events.once('exit', (code) =>
        reject(new Error(`conntrack -E in ${netns} exited (${code}): ${this.eventErrors}`)),
      );
    });
  }

  private scan(): void {
    for (const f of readdirSync(this.dir)) {
      if (!IPV4.test(f) || this.known.has(f)) continue;
      this.known.add(f);
      // The file's own time, not ours: under load this process may see the file late.
      let at = Date.now();
      try {
        at = Math.min(at, statSync(join(this.dir, f)).mtimeMs);
      } catch {
        // released again already: keep the time it was seen
      }
      this.records.set(f, newRecord(f, Math.round(at)));
      this.prober?.stdin?.write(`+${f}\n`);
    }
  }

  private async poll(): Promise<void> {
    const netns = `${this.opts.prefix}-${this.opts.node}`;
    while (this.polling) {
      this.scan(); // also between inotify events, in case one is missed
      const started = Date.now();
      const ips = await programmedIPs(netns);
      const now = Date.now();
      for (const r of this.records.values()) {
        if (r.programmedAt !== undefined) continue;
        if (ips.has(r.ip)) r.programmedAt = now;
        else r.programmedNotBefore = started;
      }
      this.matcher.flush(now);
      for (const r of this.records.values()) {
        const settled =
          r.programmedAt !== undefined &&
          now - r.programmedAt >= SETTLED_MS &&
          (r.last === 'connected' || (r.last === 'rejected' && !this.untilConnected.has(r.ip)));
        if (settled && !this.released.has(r.ip)) this.release(r.ip);
      }
      await new Promise((res) => setTimeout(res, this.opts.pollMs ?? 20));
    }
  }

  private readonly released = new Set<string>();
  private readonly untilConnected = new Set<string>();

  /**
   * Probes these addresses of this node (others are ignored) until an attempt connects, again if
   * they had settled as refused: a pod no policy isolates is expected to be reached, and an
   * attempt it refused itself (nothing listening yet) whose conntrack event was lost under load
   * reads as refused by a rule, which used to end its probing two seconds after programming.
   */
  probeUntilConnected(ips: readonly string[]): void {
    for (const ip of ips) {
      if (!this.records.has(ip)) continue;
      this.untilConnected.add(ip);
      if (this.released.delete(ip))
        this.prober?.stdin?.write(`+${ip}
`);
    }
  }

  /** Stops probing an address. */
  private release(ip: string): void {
    this.released.add(ip);
    this.prober?.stdin?.write(`-${ip}\n`);
  }

  /** Stops the prober, then (once the last events can have arrived) the event stream. Idempotent. */
  async stop(): Promise<void> {
    this.watcher?.close();
    this.polling = false;
    await this.pollDone;
    await stopChild(this.prober, (p) => p.stdin?.end());
    if (this.events && this.events.exitCode === null)
      await new Promise((res) => setTimeout(res, EVENT_GRACE_MS));
    await stopChild(this.events, (p) => p.kill('SIGTERM'));
    this.matcher.flush(Infinity);
  }
}

async function stopChild(p: ChildProcess | undefined, ask: (p: ChildProcess) => void): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((res) => p.once('exit', () => res()));
  ask(p);
  const timer = setTimeout(() => p.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** p50/p99/max of a list of numbers (nearest rank), for the bench and the test's log. */
export function percentiles(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN };
}
