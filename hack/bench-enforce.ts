// `make bench-enforce`: the window of a new pod on the real nodes (issue 13). Brings up the
// kubelet cluster of hack/cluster with softtenant installed (or reuses SOFTTENANT_CLUSTER),
// creates pods of an isolated tenant on both nodes while a pod of another tenant (on node2)
// connects to every new address in a tight loop from the moment the CNI hands it out until it
// is refused (test/nodes/window-probe.ts), and prints, per run:
// - connections that got through (the window, in connections) and the pods they reached;
// - address -> refused: from the address existing on the node to the probe's refusal (after the
//   last connection that got through);
// - address -> programmed and Running -> programmed: when the address entered the agent's
//   ipsets on the node, against when the CNI handed it out and when the API said Running.
// Runs: BENCH_PODS (default 100) pods created at once, and BENCH_SERIAL (default 100) one at a
// time (each created once the previous is Ready), with the agents at --fail-closed=false (the
// window) and --fail-closed=true (as installed). Figures are p50 / p99 / max in milliseconds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Informer } from '../operator/kube/informer.js';
import { logger, rootLogger } from '../operator/util/logger.js';
import { useControlPlaneBinaries } from '../test/support/controlplane.js';
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
  apply,
  ISO,
  PORT,
  PROBER_NS,
  patchAgentDaemonSet,
  podsOf,
  setupTenants,
  type Pod,
} from '../test/nodes/new-pods-fixture.js';
import { percentiles, WindowProbe, type AddressRecord } from '../test/nodes/window-probe.js';

const AT_ONCE = Number(process.env.BENCH_PODS ?? '100');
const SERIAL = Number(process.env.BENCH_SERIAL ?? '100');
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

interface RunResult {
  label: string;
  pods: number;
  records: AddressRecord[];
  running: Map<string, number>;
}

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
  for (const p of probes) p.start();
  // Pods of the previous run must be gone (their addresses and names).
  for (let t = 0; podsOf(ISO).some((p) => p.metadata.name.startsWith('bench-')) && t < 300; t++)
    await sleep(1000);
  const names = Array.from({ length: count }, (_, i) => `bench-${i}`);
  const nodeOf = (i: number): string => (i % 2 === 0 ? 'node1' : 'node2');
  say(`${label}: ${count} pods ${oneAtATime ? 'one at a time' : 'at once'}`);
  try {
    if (oneAtATime) {
      for (const [i, name] of names.entries()) {
        apply([agnhost(ISO, name, nodeOf(i))]);
        kubectl(['-n', ISO, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=180s']);
      }
    } else {
      apply(names.map((name, i) => agnhost(ISO, name, nodeOf(i))));
      kubectl([
        '-n',
        ISO,
        'wait',
        '--for=condition=Ready',
        ...names.map((n) => `pod/${n}`),
        '--timeout=600s',
      ]);
    }
    const ips = new Set(
      podsOf(ISO)
        .filter((p) => p.metadata.name.startsWith('bench-'))
        .map((p) => p.status.podIP ?? ''),
    );
    const records = (): AddressRecord[] =>
      probes.flatMap((p) => [...p.records.values()]).filter((r) => ips.has(r.ip));
    for (let t = 0; records().some((r) => r.programmedAt === undefined) && t < 300; t++) await sleep(100);
    await sleep(2000); // every address is probed in its final state too
    for (const p of probes) await p.stop();
    return {
      label: `${label}, ${oneAtATime ? 'one at a time' : 'at once'}`,
      pods: count,
      records: records(),
      running,
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

function report(r: RunResult): string {
  const through = r.records.filter((x) => x.connections > 0);
  const connections = r.records.reduce((n, x) => n + x.connections, 0);
  const addrRefused = r.records
    .filter((x) => x.refusedAt !== undefined)
    .map((x) => (x.refusedAt as number) - x.addressAt);
  const addrProgrammed = r.records
    .filter((x) => x.programmedAt !== undefined)
    .map((x) => (x.programmedAt as number) - x.addressAt);
  const runningProgrammed = r.records
    .filter((x) => x.programmedAt !== undefined && r.running.has(x.ip))
    .map((x) => (x.programmedAt as number) - (r.running.get(x.ip) as number));
  const delivered = r.records.filter((x) => x.delivered > 0);
  const openFor = r.records.map((x) =>
    x.lastDeliveredAt === undefined ? 0 : x.lastDeliveredAt - x.addressAt,
  );
  return [
    `${r.label}: ${r.records.length}/${r.pods} addresses probed`,
    `  connections through        ${connections} (to ${through.length} pods)`,
    `  SYNs delivered to the pod  ${r.records.reduce((n, x) => n + x.delivered, 0)} (to ${delivered.length} pods)`,
    `  open: address -> last SYN delivered  ${fmt(openFor)} ms  (0 for a pod never reached)`,
    `  address -> refused         ${fmt(addrRefused)} ms`,
    `  address -> programmed      ${fmt(addrProgrammed)} ms`,
    `  Running -> programmed      ${fmt(runningProgrammed)} ms  (negative: programmed before the API said Running)`,
  ].join('\n');
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
    for (const on of [false, true]) {
      await setFailClosed(on);
      const label = `fail-closed ${on ? 'on' : 'off'}`;
      if (AT_ONCE > 0) results.push(await run(kc, label, AT_ONCE, false));
      if (SERIAL > 0) results.push(await run(kc, label, SERIAL, true));
      for (const r of results.slice(-2)) process.stdout.write(`${report(r)}\n`);
    }
    await setFailClosed(true);
  } finally {
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
