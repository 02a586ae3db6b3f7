// `make bench-enforce`: the window of a new pod on the real nodes (issue 13). Brings up the
// kubelet cluster of hack/cluster with softtenant installed (or reuses SOFTTENANT_CLUSTER),
// creates pods of an isolated tenant on both nodes while a pod of another tenant (on node2)
// connects to every new address in a tight loop from the moment the CNI hands it out
// (test/nodes/window-probe.ts), classifies every attempt (test/nodes/window-classify.ts:
// connected, reset by the pod's kernel, refused by a rule before the pod, unreachable, timeout)
// and prints, per run:
// - connections that got through (the window, in connections) and the pods they reached;
// - SYNs delivered to the pod: attempts the pod's node forwarded to it (its conntrack events),
//   whether or not anything listened in the pod yet;
// - address -> last delivered: how long the address stayed open at the packet level;
// - address -> refused by a rule: from the address existing on the node to the first attempt
//   refused on the way, after the last one that reached the pod (the true end of the window);
// - address -> programmed and Running -> programmed: when the address entered the agent's
//   ipsets on the node (between two polls of `ipset save`: both bounds are printed), against
//   when the CNI handed it out and when the API said Running;
// - the probe's resolution: the longest time between two attempts on one address (a window
//   shorter than that can go unseen; under load the prober gets little CPU).
// Runs: BENCH_PODS (default 100) pods created at once, and BENCH_SERIAL (default 100) one at a
// time (each created once the previous is Ready), for each mode of BENCH_MODES (default
// "off,on": the agents at --fail-closed=false, then --fail-closed=true as installed). Figures
// are p50 / p99 / max in milliseconds; each run prints the load average at its start and end.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Informer } from '../operator/kube/informer.js';
import { logger, rootLogger } from '../operator/util/logger.js';
import { repoRoot, useControlPlaneBinaries } from '../test/support/controlplane.js';
import {
  clusterDir,
  clusterDown,
  clusterUp,
  getJson,
  kubectl,
  reuseCluster,
  SYSTEM_NS,
} from '../test/nodes/cluster.js';
import {
  agnhost,
  applyAsync,
  ISO,
  kubectlAsync,
  PORT,
  PROBER_NS,
  patchAgentDaemonSet,
  podsOf,
  podsOfAsync,
  setupTenants,
  type Pod,
} from '../test/nodes/new-pods-fixture.js';
import { percentiles, WindowProbe, type AddressRecord } from '../test/nodes/window-probe.js';

const AT_ONCE = Number(process.env.BENCH_PODS ?? '100');
const SERIAL = Number(process.env.BENCH_SERIAL ?? '100');
const MODES = (process.env.BENCH_MODES ?? 'off,on').split(',').map((m) => {
  if (m !== 'off' && m !== 'on') throw new Error(`BENCH_MODES: "off" and/or "on", got "${m}"`);
  return m === 'on';
});
rootLogger.level = 'warn';

function say(text: string): void {
  process.stderr.write(`[bench-enforce ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sets the agents' --fail-closed and waits until both nodes report the mode. */
async function setFailClosed(on: boolean): Promise<void> {
  const ds = getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>([
    '-n',
    SYSTEM_NS,
    'get',
    'daemonset',
    'softtenant-agent',
  ]);
  const args = ds.spec.template.spec.containers[0]?.args ?? [];
  const i = args.findIndex((a) => a.startsWith('--fail-closed'));
  const value = `--fail-closed=${on}`;
  const op =
    i >= 0
      ? { op: 'replace', path: `/spec/template/spec/containers/0/args/${i}`, value }
      : { op: 'add', path: '/spec/template/spec/containers/0/args/-', value };
  if (args[i] !== value) {
    say(`agents: ${value}`);
    patchAgentDaemonSet(JSON.stringify([op]));
    kubectl(['-n', SYSTEM_NS, 'rollout', 'status', 'daemonset/softtenant-agent', '--timeout=300s']);
  }
  const want = on ? 'FailClosed' : 'FailOpen';
  for (let t = 0; ; t++) {
    const modes = ['node1', 'node2'].map(
      (n) =>
        getJson<{ status?: { newPods?: { mode?: string } } }>(['get', 'nodeenforcement', n]).status?.newPods
          ?.mode,
    );
    if (modes.every((m) => m === want)) return;
    if (t > 120) throw new Error(`nodes report ${modes.join(', ')}, want ${want}`);
    await sleep(1000);
  }
}

/** Container restarts of the agent pods (a restarted agent re-learns its node's state). */
function agentRestarts(): number {
  const pods = getJson<{ items: { status?: { containerStatuses?: { restartCount: number }[] } }[] }>([
    '-n',
    SYSTEM_NS,
    'get',
    'pods',
    '-l',
    'app.kubernetes.io/component=agent',
  ]);
  return pods.items.flatMap((p) => p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
}

interface RunResult {
  label: string;
  pods: number;
  records: AddressRecord[];
  running: Map<string, number>;
  /** Connections that got through without the node's conntrack event (events lost). */
  missedEvents: number;
  eventErrors: string;
  proberErrors: string;
  agentRestarts: number;
  load: string;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** Watches the isolated namespace: when the API first says each pod is Running (by its IP). */
function watchRunning(kc: KubeConfig): {
  running: Map<string, number>;
  informer: Informer<Pod & { metadata: { name: string } }>;
} {
  const running = new Map<string, number>();
  const informer = new Informer<Pod & { metadata: { name: string } }>(kc, {
    path: `/api/v1/namespaces/${ISO}/pods`,
    log: logger('bench-enforce'),
  });
  informer.onEvent((_type, pod) => {
    const ip = pod.status?.podIP;
    if (ip && pod.status.phase === 'Running' && !running.has(ip)) running.set(ip, Date.now());
  });
  informer.start();
  return { running, informer };
}

async function run(kc: KubeConfig, label: string, count: number, oneAtATime: boolean): Promise<RunResult> {
  const prefix = readFileSync(join(clusterDir, 'prefix'), 'utf8').trim();
  const prober = podsOf(PROBER_NS).find((p) => p.metadata.name === 'prober') as Pod;
  const probes = ['node1', 'node2'].map(
    (node) =>
      new WindowProbe({
        clusterDir,
        prefix,
        node,
        prober: { node: 'node2', uid: prober.metadata.uid, ip: prober.status.podIP ?? '' },
        port: PORT,
      }),
  );
  const { running, informer } = watchRunning(kc);
  await informer.synced;
  for (const p of probes) await p.start();
  const loadAtStart = load();
  const restartsAtStart = agentRestarts();
  // Pods of the previous run must be gone (their addresses and names).
  for (let t = 0; (await podsOfAsync(ISO)).some((p) => p.metadata.name.startsWith('bench-')) && t < 300; t++)
    await sleep(1000);
  const names = Array.from({ length: count }, (_, i) => `bench-${i}`);
  const nodeOf = (i: number): string => (i % 2 === 0 ? 'node1' : 'node2');
  say(`${label}: ${count} pods ${oneAtATime ? 'one at a time' : 'at once'}`);
  try {
    // Asynchronous kubectl only while the probes watch (kubectlAsync says why).
    if (oneAtATime) {
      for (const [i, name] of names.entries()) {
        await applyAsync([agnhost(ISO, name, nodeOf(i))]);
        await kubectlAsync(['-n', ISO, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=180s']);
      }
    } else {
      await applyAsync(names.map((name, i) => agnhost(ISO, name, nodeOf(i))));
      await kubectlAsync([
        '-n',
        ISO,
        'wait',
        '--for=condition=Ready',
        ...names.map((n) => `pod/${n}`),
        '--timeout=600s',
      ]);
    }
    const ips = new Set(
      (await podsOfAsync(ISO))
        .filter((p) => p.metadata.name.startsWith('bench-'))
        .map((p) => p.status.podIP ?? ''),
    );
    const records = (): AddressRecord[] =>
      probes.flatMap((p) => [...p.records.values()]).filter((r) => ips.has(r.ip));
    for (let t = 0; records().some((r) => r.programmedAt === undefined) && t < 300; t++) await sleep(100);
    await sleep(2000); // every address is probed in its final state too
    for (const p of probes) await p.stop();
    // Every address's record, for a closer look than the summary (.tmp/bench-enforce/).
    const dir = join(repoRoot, '.tmp/bench-enforce');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${label.replace(/\W+/g, '-')}-${oneAtATime ? 'serial' : 'at-once'}.json`);
    writeFileSync(
      file,
      JSON.stringify({ records: records(), running: Object.fromEntries(running) }, null, 1),
    );
    say(`records: ${file}`);
    return {
      label: `${label}, ${oneAtATime ? 'one at a time' : 'at once'}`,
      pods: count,
      records: records(),
      running,
      missedEvents: probes.reduce((n, p) => n + p.missedEvents, 0),
      eventErrors: probes.map((p) => p.eventErrors).join(''),
      proberErrors: probes.map((p) => p.proberErrors).join(''),
      agentRestarts: agentRestarts() - restartsAtStart,
      load: `${loadAtStart} at the start, ${load()} at the end`,
    };
  } finally {
    for (const p of probes) await p.stop();
    await informer.stop();
    kubectl(['-n', ISO, 'delete', 'pods', '-l', 'app=bench', '--wait=true', '--timeout=300s']);
  }
}

function fmt(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const s = percentiles(values);
  return `${s.p50} / ${s.p99} / ${s.max}`;
}

const CLASSES = [
  'connected',
  'pod-reset',
  'rejected',
  'unreachable',
  'delivered-timeout',
  'timeout',
  'error',
] as const;

function report(r: RunResult): string {
  const since = (pick: (x: AddressRecord) => number | undefined): number[] =>
    r.records.flatMap((x) => {
      const t = pick(x);
      return t === undefined ? [] : [t - x.addressAt];
    });
  const through = r.records.filter((x) => x.connections > 0);
  const connections = r.records.reduce((n, x) => n + x.connections, 0);
  const delivered = r.records.filter((x) => x.delivered > 0);
  const runningProgrammed = r.records
    .filter((x) => x.programmedAt !== undefined && r.running.has(x.ip))
    .map((x) => (x.programmedAt as number) - (r.running.get(x.ip) as number));
  const totals = CLASSES.map((c) => `${c} ${r.records.reduce((n, x) => n + (x.outcomes[c] ?? 0), 0)}`);
  return [
    `${r.label}: ${r.records.length}/${r.pods} addresses probed (load average ${r.load})`,
    `  attempts                      ${totals.join(', ')}`,
    `  connections through           ${connections} (to ${through.length} pods)`,
    `  SYNs delivered to the pod     ${r.records.reduce((n, x) => n + x.delivered, 0)} (to ${delivered.length} pods)`,
    `  address -> first delivered    ${fmt(since((x) => x.firstDeliveredAt))} ms  (pods reached only)`,
    `  address -> last delivered     ${fmt(since((x) => x.lastDeliveredAt))} ms  (pods reached only)`,
    `  address -> first connected    ${fmt(since((x) => x.firstConnectedAt))} ms  (pods connected only)`,
    `  address -> refused by a rule  ${fmt(since((x) => x.refusedAt))} ms`,
    `  address -> programmed         ${fmt(since((x) => x.programmedAt))} ms  (upper bound: the ipset poll that saw it returned)`,
    `  address -> programmed, lower  ${fmt(since((x) => (x.programmedAt === undefined ? undefined : (x.programmedNotBefore ?? x.addressAt))))} ms  (the last poll that did not see it started)`,
    `  address -> first attempt      ${fmt(since((x) => x.firstStart))} ms  (the probe is blind before it)`,
    `  probe resolution              ${fmt(r.records.map((x) => x.maxGapMs))} ms  (longest time between two attempts on one address)`,
    `  agent restarts during the run ${r.agentRestarts}`,
    `  Running -> programmed         ${fmt(runningProgrammed)} ms  (negative: programmed before the API said Running)`,
    `  connections without their conntrack event ${r.missedEvents}${r.eventErrors ? `; conntrack said: ${r.eventErrors.trim()}` : ''}`,
    ...(r.proberErrors ? [`  PROBER FAILED: ${r.proberErrors.trim()}`] : []),
  ].join('\n');
}

/** The agents' logs (syncs, flow cuts with their durations), kept beside the records. */
function saveAgentLogs(): void {
  try {
    const dir = join(repoRoot, '.tmp/bench-enforce');
    mkdirSync(dir, { recursive: true });
    const logs = kubectl([
      '-n',
      SYSTEM_NS,
      'logs',
      '-l',
      'app.kubernetes.io/component=agent',
      '--prefix',
      '--tail=-1',
      '--max-log-requests=4',
    ]);
    writeFileSync(join(dir, 'agents.log'), logs);
    say(`agent logs: ${join(dir, 'agents.log')}`);
  } catch (err) {
    say(`agent logs not saved: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  useControlPlaneBinaries();
  let up = false;
  if (reuseCluster) process.env.KUBECONFIG = join(clusterDir, 'controlplane/kubeconfig');
  else {
    say('bringing up the real-node cluster with softtenant installed (hack/cluster)');
    up = true;
    process.env.KUBECONFIG = clusterUp();
  }
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG);
  const results: RunResult[] = [];
  try {
    setupTenants();
    for (const on of MODES) {
      await setFailClosed(on);
      const label = `fail-closed ${on ? 'on' : 'off'}`;
      if (AT_ONCE > 0) results.push(await run(kc, label, AT_ONCE, false));
      if (SERIAL > 0) results.push(await run(kc, label, SERIAL, true));
      for (const r of results.slice(-2)) process.stdout.write(`${report(r)}\n`);
    }
    await setFailClosed(true);
  } finally {
    saveAgentLogs();
    if (up) {
      say('tearing the cluster down');
      clusterDown();
    }
  }
  process.stdout.write('\nsummary (p50 / p99 / max)\n');
  for (const r of results) process.stdout.write(`${report(r)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-enforce: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
