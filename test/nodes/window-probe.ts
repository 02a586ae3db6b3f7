// Measures the window of new pods on the real nodes (the nodes suite and `make bench-enforce`).
// Three observers, all on this machine's clock:
// - the address: the CNI's host-local IPAM writes one file per address it hands out into the
//   node's data directory (<cluster>/<node>/cni/networks/<network>/<ip>) during the pod's CNI
//   ADD; the moment it appears, the prober is told to start on that address;
// - the prober: window-prober.js run inside a pod of another tenant (its network namespace,
//   found through the pod's cgroup), connecting to the address in a tight loop;
// - the agent: `ipset save` in the node's network namespace, polled; an address is programmed
//   once it is a member of one of the agent's sets.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnCollect } from '../../operator/dataplane/runner.js';
import { repoRoot } from '../support/controlplane.js';

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
/** The network name of hack/cluster/cluster-up.sh's CNI config. */
const CNI_NETWORK = 'softtenant-local';

export interface AddressRecord {
  ip: string;
  /** The CNI handed the address out on the node. */
  addressAt: number;
  /** First seen in one of the agent's ipsets on the node. */
  programmedAt?: number;
  /** Connections from the prober that got through. */
  connections: number;
  /**
   * Attempts whose SYN the node forwarded to the pod: a conntrack entry confirmed in the pod's
   * node (a packet the firewall refuses in FORWARD never confirms one). Counts attempts that
   * reached the pod before anything listened too, which `connections` cannot see.
   */
  delivered: number;
  lastDeliveredAt?: number;
  firstConnectedAt?: number;
  lastConnectedAt?: number;
  /** First refusal after the last connection (or after the start, if none got through). */
  refusedAt?: number;
  outcomes: Record<string, number>;
}

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

/** "dst sport" of the prober's TCP flows to `port` that the node confirmed (forwarded). */
async function deliveredFlows(netns: string, proberIP: string, port: number): Promise<Set<string>> {
  const r = await spawnCollect([
    'nsenter',
    `--net=/run/netns/${netns}`,
    'conntrack',
    '-L',
    '-p',
    'tcp',
    '-s',
    proberIP,
    '--dport',
    String(port),
  ]);
  const out = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const m = /src=\S+ dst=(\S+) sport=(\d+)/.exec(line);
    if (m) out.add(`${m[1]} ${m[2]}`);
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
  private watcher: FSWatcher | undefined;
  private prober: ChildProcess | undefined;
  private polling = false;
  private pollDone: Promise<void> = Promise.resolve();
  private readonly dir: string;
  proberErrors = '';

  constructor(private readonly opts: WindowProbeOptions) {
    this.dir = join(opts.clusterDir, opts.node, 'cni/networks', CNI_NETWORK);
  }

  /** Addresses handed out before start() are not probed (they belong to earlier pods). */
  start(): void {
    for (const f of existsSync(this.dir) ? readdirSync(this.dir) : []) if (IPV4.test(f)) this.known.add(f);
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
    createInterface({ input: this.prober.stdout as NodeJS.ReadableStream }).on('line', (line) =>
      this.onProbe(line),
    );
    this.watcher = watch(this.dir, () => this.scan());
    this.scan();
    this.polling = true;
    this.pollDone = this.poll();
  }

  private scan(): void {
    for (const f of readdirSync(this.dir)) {
      if (!IPV4.test(f) || this.known.has(f)) continue;
      this.known.add(f);
      this.records.set(f, { ip: f, addressAt: Date.now(), connections: 0, delivered: 0, outcomes: {} });
      this.prober?.stdin?.write(`+${f}\n`);
    }
  }

  private onProbe(line: string): void {
    let ev: { ip: string; t: number; outcome: string };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return;
    }
    const r = this.records.get(ev.ip);
    if (!r) return;
    r.outcomes[ev.outcome] = (r.outcomes[ev.outcome] ?? 0) + 1;
    if (ev.outcome === 'connected') {
      r.connections++;
      r.firstConnectedAt ??= ev.t;
      r.lastConnectedAt = ev.t;
      delete r.refusedAt;
    } else if (ev.outcome === 'refused' && r.refusedAt === undefined) {
      r.refusedAt = ev.t;
    }
  }

  private seenFlows = new Set<string>();

  private async poll(): Promise<void> {
    const netns = `${this.opts.prefix}-${this.opts.node}`;
    while (this.polling) {
      this.scan(); // also between inotify events, in case one is missed
      const [ips, flows] = await Promise.all([
        programmedIPs(netns),
        deliveredFlows(netns, this.opts.prober.ip, this.opts.port),
      ]);
      const now = Date.now();
      for (const r of this.records.values())
        if (r.programmedAt === undefined && ips.has(r.ip)) r.programmedAt = now;
      for (const f of flows) {
        if (this.seenFlows.has(f)) continue;
        const r = this.records.get(f.split(' ')[0] ?? '');
        if (!r) continue;
        r.delivered++;
        r.lastDeliveredAt = now;
      }
      this.seenFlows = flows;
      await new Promise((res) => setTimeout(res, this.opts.pollMs ?? 20));
    }
  }

  /** Stops probing an address (its pod is done with). */
  release(ip: string): void {
    this.prober?.stdin?.write(`-${ip}\n`);
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    this.polling = false;
    await this.pollDone;
    const p = this.prober;
    if (p && p.exitCode === null) {
      const exited = new Promise<void>((res) => p.once('exit', () => res()));
      p.stdin?.end();
      const timer = setTimeout(() => p.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  }
}

/** p50/p99/max of a list of numbers (nearest rank), for the bench and the test's log. */
export function percentiles(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN };
}
