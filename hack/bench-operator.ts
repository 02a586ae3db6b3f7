// `make bench-operator`: the operator at scale on the local control plane. For each size it
// starts a fresh control plane and the operator (BENCH_CUMULATIVE=1: one for all sizes, each
// step with the tenants of the steps before present), applies that many tenants (2 namespaces each,
// isolation both ways, one allowFrom another tenant) and prints: seconds until all are Ready,
// the API server's requests during convergence by verb (apiserver_request_total deltas; the
// bench's own requests, its applies and the LIST of its watch on the step's tenants, are
// subtracted), then over 60 s at
// rest: reads/s and writes/s (Leases aside; the operator's own from its metrics, and all
// clients' from the API server's), operator CPU share and RSS. Requests are also shown
// by verb and resource, and the operator's own writes (its `api write` log lines: finalizer,
// labels, applies, status, Events) are counted apart, during convergence and at rest, since the
// API server's counts include kube-controller-manager's (a ServiceAccount and a ConfigMap per
// new namespace, which it creates at its own pace, long after the tenants are Ready).
// Per step it also prints where the time went: the CPU seconds of kube-apiserver, etcd,
// kube-controller-manager, the operator and the bench until Ready; the API server's mean latency
// by verb; and the operator's own view of its requests (its softtenant_rest_client_* metrics:
// the mean wait for its client-side limit, the answer time by verb).
// With BENCH_APPLY_ONLY=1 no operator runs: only the bench's applies, timed, to show what the API
// server alone does with the same objects.
// With BENCH_PROFILE=1, after each size the operator writes a V8 heap snapshot (SIGUSR2) and the
// bench prints its heap by constructor (hack/heap-profile.ts) and the operator's own memory
// breakdown (its /metrics: heap, external).
// BENCH_NODE_FLAGS passes V8 flags to the operator (e.g. "--max-semi-space-size=2");
// BENCH_OPERATOR_FLAGS passes flags to `softtenant operator` (e.g. "--workers 16").
// BENCH_RUNS=N repeats the sizes N times; the summary at the end prints every run's figures,
// their medians, and each size's time against the size before it.
// Usage: node dist/hack/bench-operator.js [sizes, default 100,1000,5000]
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadKubeConfig, type KubeAccess } from '../operator/kube/config.js';
import { Informer } from '../operator/kube/informer.js';
import { requestJson } from '../operator/kube/raw-request.js';
import { logger } from '../operator/util/logger.js';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../operator/util/errors.js';
import { heapByConstructor } from './heap-profile.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const POLL_MS = 2_000;
const REST_S = 60;
const sizes = (process.argv[2] ?? '100,1000,5000').split(',').map(Number);
const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_APPLY_ONLY=1: no operator, only the bench's applies: what the API server alone takes. */
const APPLY_ONLY = process.env.BENCH_APPLY_ONLY === '1';
/**
 * Each size on a fresh control plane and operator by default, so that "1,000 tenants" is a
 * cluster of 1,000 tenants; BENCH_CUMULATIVE=1 runs the sizes one after another on one cluster,
 * each step with the tenants of the steps before it present (runs A-E of docs/design.md).
 */
const CUMULATIVE = process.env.BENCH_CUMULATIVE === '1';
/** BENCH_RUNS=N repeats the whole sequence N times and prints the medians. */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? '1') || 1);
const MB = 1048576;

/** The operator's heap by constructor, from a snapshot it writes on SIGUSR2 (into its cwd). */
async function profileHeap(pid: number, dir: string): Promise<void> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  let file: string | undefined;
  for (let i = 0; i < 300 && !file; i++) {
    await sleep(1_000);
    file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
  }
  if (!file) return say('profile: no heap snapshot written');
  // Written when the size stops changing.
  let size = -1;
  for (;;) {
    await sleep(1_000);
    const now = readFileSync(join(dir, file)).length;
    if (now === size) break;
    size = now;
  }
  const heap = heapByConstructor(join(dir, file));
  say(
    `profile: live heap ${(heap.totalBytes / MB).toFixed(1)} MB (after the snapshot's GC), by constructor:`,
  );
  for (const g of heap.groups)
    say(`  ${(g.bytes / MB).toFixed(1).padStart(7)} MB  ${String(g.count).padStart(8)}  ${g.name}`);
  rmSync(join(dir, file));
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const res = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (res.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/**
 * apiserver_request_total summed by "VERB resource" (Leases left out; the bench's own requests
 * and other clients' not told apart).
 */
function requestsByVerbAndResource(kubeconfig: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of kubectl(kubeconfig, ['get', '--raw', '/metrics']).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (line.includes('resource="leases"')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '?';
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '?';
    const subresource = /subresource="([^"]+)"/.exec(line)?.[1];
    const key = `${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/**
 * The API server's own latency: apiserver_request_duration_seconds sum and count by verb
 * (watches, which stay open, left out), to tell a slower API server from a slower operator.
 */
function latencyByVerb(kubeconfig: string): Map<string, { sum: number; count: number }> {
  const out = new Map<string, { sum: number; count: number }>();
  for (const line of kubectl(kubeconfig, ['get', '--raw', '/metrics']).split('\n')) {
    const m = /^apiserver_request_duration_seconds_(sum|count)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[2].includes('resource="leases"')) continue;
    const verb = /verb="([A-Z]+)"/.exec(m[2])?.[1] ?? '?';
    if (verb === 'WATCH' || verb === 'CONNECT') continue;
    const entry = out.get(verb) ?? { sum: 0, count: 0 };
    if (m[1] === 'sum') entry.sum += Number(m[3]);
    else entry.count += Number(m[3]);
    out.set(verb, entry);
  }
  return out;
}

/** Mean latency by verb between two readings of latencyByVerb, as "PATCH 12 ms, …". */
function meanLatency(
  after: Map<string, { sum: number; count: number }>,
  before: Map<string, { sum: number; count: number }>,
): string {
  const parts: string[] = [];
  for (const [verb, a] of after) {
    const b = before.get(verb) ?? { sum: 0, count: 0 };
    const n = a.count - b.count;
    if (n >= 10) parts.push(`${verb} ${(((a.sum - b.sum) / n) * 1000).toFixed(1)} ms (${n})`);
  }
  return parts.join(', ');
}

/** A free local TCP port (for the operator's metrics endpoint). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Sums of the operator's client-side histograms (metrics/rest-client-metrics.ts) by name and verb. */
async function clientMetrics(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m =
      /^softtenant_rest_client_(rate_limiter_duration_seconds|request_duration_seconds)_(sum|count)(\{[^}]*\})? (\S+)$/.exec(
        line,
      );
    if (!m) continue;
    const verb = /verb="([A-Z]+)"/.exec(m[3] ?? '')?.[1];
    const key = `${m[1] === 'rate_limiter_duration_seconds' ? 'limiter' : (verb ?? '?')} ${m[2]}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[4]));
  }
  return out;
}

/**
 * The operator's own requests by "VERB resource" (softtenant_rest_client_requests_total), Leases
 * left out: what the targets at rest are about, apart from every other client of the API server.
 */
async function operatorRequests(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith('softtenant_rest_client_requests_total{')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '?';
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '?';
    if (resource === 'leases') continue;
    const key = `${verb} ${resource}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** The operator's mean wait for its rate limit and mean latency by verb between two readings. */
function clientSummary(after: Map<string, number>, before: Map<string, number>): string {
  const d = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  const parts: string[] = [];
  for (const key of after.keys()) {
    if (!key.endsWith(' count')) continue;
    const name = key.slice(0, -' count'.length);
    const n = d(key);
    if (n < 10) continue;
    const mean = ((d(`${name} sum`) / n) * 1000).toFixed(1);
    parts.push(
      name === 'limiter' ? `waited for the rate limit ${mean} ms (${n} requests)` : `${name} ${mean} ms`,
    );
  }
  return parts.join(', ');
}

/** CPU seconds so far of the control plane's processes (pid files of controlplane-up.sh). */
function controlPlaneCpu(state: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of ['kube-apiserver', 'etcd', 'kube-controller-manager']) {
    try {
      out.set(name, cpuSeconds(Number(readFileSync(join(state, `${name}.pid`), 'utf8').trim())));
    } catch {
      // not running: left out
    }
  }
  return out;
}

/** Sums "VERB resource" counts by verb. */
function byVerb(counts: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of counts) {
    const verb = key.slice(0, key.indexOf(' '));
    out.set(verb, (out.get(verb) ?? 0) + n);
  }
  return out;
}

const listed = (counts: Map<string, number>): string =>
  [...counts]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/**
 * The operator's writes logged since byte `from` of its log (`api write` lines, by verb and kind)
 * and where the log ends now.
 */
function operatorWrites(logPath: string, from: number): { counts: Map<string, number>; end: number } {
  const text = readFileSync(logPath).subarray(from);
  const counts = new Map<string, number>();
  let end = from;
  for (const line of text.toString('utf8').split('\n')) {
    if (!line.endsWith('}')) break; // a line still being written: counted next time
    end += Buffer.byteLength(line) + 1;
    if (!line.includes('"api write"')) continue;
    try {
      const entry = JSON.parse(line) as { message?: string; verb?: string; kind?: string };
      if (entry.message !== 'api write') continue;
      const key = `${entry.verb ?? '?'} ${entry.kind ?? '?'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // not one of the operator's JSON lines
    }
  }
  return { counts, end };
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [verb, n] of after) {
    const d = n - (before.get(verb) ?? 0);
    if (d > 0) out.set(verb, d);
  }
  return out;
}

const READ_VERBS = new Set(['GET', 'LIST', 'WATCH']);

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

function memory(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Marks the tenants of one step of the bench. */
const STEP_LABEL = 'bench.softtenant.io/step';

interface BenchObject {
  path: string;
  body: Record<string, unknown>;
}

function objects(size: number, prefix: string): BenchObject[] {
  const items: BenchObject[] = [];
  for (let i = 0; i < size; i++) {
    const name = `${prefix}-${i}`;
    for (const suffix of ['a', 'b']) {
      const ns = `${name}-${suffix}`;
      items.push({
        path: `/api/v1/namespaces/${ns}`,
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
    }
    items.push({
      path: `/apis/tenancy.softtenant.io/v1alpha1/softtenants/${name}`,
      body: {
        apiVersion: 'tenancy.softtenant.io/v1alpha1',
        kind: 'SoftTenant',
        // The label lets the bench's Ready poll list only this step's tenants: a poll of every
        // tenant (6,100 at the last step, every 2 s) would be the bench loading the API server.
        metadata: { name, labels: { [STEP_LABEL]: prefix } },
        spec: {
          namespaces: { names: [`${name}-a`, `${name}-b`] },
          isolation: { ingress: 'Tenant', egress: 'Tenant' },
          allowFrom: [{ tenants: [`${prefix}-${(i + 1) % size}`] }],
        },
      },
    });
  }
  return items;
}

/**
 * Server-side applies every object, 16 at a time, in order (each tenant after its namespaces), as
 * a GitOps tool applying a large change would. In process, so that nothing here blocks.
 */
async function applyAll(kc: KubeAccess, items: readonly BenchObject[]): Promise<void> {
  let next = 0;
  const query = '?fieldManager=softtenant-bench&force=true';
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      for (let attempt = 1; ; attempt++) {
        try {
          await requestJson(kc, 'PATCH', item.path + query, item.body, 'application/apply-patch+yaml');
          break;
        } catch (err) {
          // 429 while a new CRD's storage initialises, or a busy API server: retry as kubectl does.
          if (attempt >= 10) throw err;
          await sleep(500 * attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

interface TenantView {
  metadata: { name: string; generation?: number; resourceVersion?: string };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

const isReady = (t: TenantView): boolean =>
  t.status?.observedGeneration === t.metadata.generation &&
  (t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

/**
 * Follows the step's tenants with a watch (one LIST, then changes) and keeps the names of those
 * that are Ready. A LIST of the step every 2 s would serialize up to 5,000 tenants per poll,
 * O(tenants²) over a step: at the 5,000 step that is the bench loading the API server, not the
 * operator.
 */
class ReadyWatch {
  readonly ready = new Set<string>();
  readonly informer: Informer<TenantView>;

  constructor(kc: KubeAccess, prefix: string) {
    this.informer = new Informer<TenantView>(kc, {
      path: '/apis/tenancy.softtenant.io/v1alpha1/softtenants',
      labelSelector: `${STEP_LABEL}=${prefix}`,
      trim: (t) => ({
        metadata: {
          name: t.metadata.name,
          generation: t.metadata.generation,
          resourceVersion: t.metadata.resourceVersion,
        },
        status: {
          observedGeneration: t.status?.observedGeneration,
          conditions: (t.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status })),
        },
      }),
      log: logger('bench'),
    });
    this.informer.onEvent((type, t) => {
      if (type !== 'DELETED' && isReady(t)) this.ready.add(t.metadata.name);
      else this.ready.delete(t.metadata.name);
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A local control plane with the CRDs and (unless BENCH_APPLY_ONLY) the operator running. */
interface Cluster {
  state: string;
  kubeconfig: string;
  kc: KubeAccess;
  operator?: ReturnType<typeof spawn>;
  pid: number;
  logPath: string;
  metricsPort: number;
  logOffset: number;
}

async function startCluster(): Promise<Cluster> {
  const state = mkdtempSync(join(tmpdir(), 'softtenant-bench-operator-'));
  say(`starting the local control plane in ${state}`);
  const up = spawnSync('bash', [join(root, 'hack/controlplane-up.sh'), state], { stdio: 'inherit' });
  if (up.status !== 0) {
    spawnSync('bash', [join(root, 'hack/controlplane-down.sh'), state], { stdio: 'inherit' });
    throw new Error('control plane failed to start');
  }
  const kubeconfig = join(state, 'kubeconfig');
  const cluster: Cluster = {
    state,
    kubeconfig,
    kc: loadKubeConfig(kubeconfig),
    pid: 0,
    logPath: join(state, 'operator.log'),
    metricsPort: 0,
    logOffset: 0,
  };
  try {
    kubectl(kubeconfig, ['apply', '--server-side', '-f', join(root, 'crds')]);
    kubectl(kubeconfig, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    cluster.metricsPort = await freePort();
    // The operator writes its log straight into a file: through a pipe, a bench busy elsewhere
    // would stall it (pipe writes block on Linux once 64 kB wait unread).
    const operator = spawn(
      process.execPath,
      [
        ...(PROFILE ? ['--heapsnapshot-signal=SIGUSR2'] : []),
        // V8 flags to try (the Deployment's NODE_OPTIONS, config/operator/deployment.yaml).
        ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        join(root, 'dist/operator/cli/main.js'),
        'operator',
        '--kubeconfig',
        kubeconfig,
        '--metrics-bind-address',
        `127.0.0.1:${cluster.metricsPort}`,
        ...(process.env.BENCH_OPERATOR_FLAGS ?? '').split(' ').filter(Boolean),
      ],
      { stdio: ['ignore', 'ignore', openSync(cluster.logPath, 'a')], cwd: state },
    );
    cluster.operator = operator;
    cluster.pid = operator.pid as number;
    say(
      `operator started (pid ${cluster.pid}, log ${cluster.logPath}, flags: ${process.env.BENCH_OPERATOR_FLAGS ?? 'defaults'})`,
    );
    await sleep(3_000);
    // A new CRD answers 429 until its storage is ready.
    for (let i = 0; ; i++) {
      try {
        await requestJson(cluster.kc, 'GET', '/apis/tenancy.softtenant.io/v1alpha1/softtenants?limit=1');
        break;
      } catch (err) {
        if (i >= 60) throw err;
        await sleep(1_000);
      }
    }
    if (APPLY_ONLY) {
      operator.kill('SIGTERM');
      cluster.operator = undefined;
      say('BENCH_APPLY_ONLY=1: operator stopped; only the bench applies (the API server alone)');
    }
    return cluster;
  } catch (err) {
    stopCluster(cluster);
    throw err;
  }
}

function stopCluster(cluster: Cluster): void {
  cluster.operator?.kill('SIGTERM');
  cluster.operator = undefined;
  // Removes the state directory too, unless KEEP_STATE=1 (to read the operator's log after).
  spawnSync('bash', [join(root, 'hack/controlplane-down.sh'), cluster.state], { stdio: 'inherit' });
}

/** What one step measured, for the summary. */
interface StepResult {
  size: number;
  seconds: number;
  applied: number;
  readsPerS: number;
  writesPerS: number;
  operatorWritesAtRest: number;
  cpuShare: number;
  rssMb: number;
  hwmMb: number;
}

async function applyOnlyStep(cluster: Cluster, size: number, prefix: string): Promise<StepResult> {
  const cpuBefore = controlPlaneCpu(cluster.state);
  const started = Date.now();
  await applyAll(cluster.kc, objects(size, prefix));
  const seconds = (Date.now() - started) / 1000;
  const cpuAfter = controlPlaneCpu(cluster.state);
  const parts = [...cpuAfter].map(([n, c]) => `${n} ${(c - (cpuBefore.get(n) ?? 0)).toFixed(1)} s`);
  say(`${size} tenants: the bench's applies took ${seconds.toFixed(1)} s (CPU: ${parts.join(', ')})`);
  return {
    size,
    seconds,
    applied: seconds,
    readsPerS: 0,
    writesPerS: 0,
    operatorWritesAtRest: 0,
    cpuShare: 0,
    rssMb: 0,
    hwmMb: 0,
  };
}

async function step(cluster: Cluster, size: number, prefix: string): Promise<StepResult> {
  const { kc, kubeconfig, pid, logPath, metricsPort, state } = cluster;
  say(`\n== ${size} tenants (${2 * size} namespaces): applying`);
  const before = requestsByVerbAndResource(kubeconfig);
  const latencyBefore = latencyByVerb(kubeconfig);
  const cpuBeforeStep = controlPlaneCpu(state);
  cpuBeforeStep.set('operator', cpuSeconds(pid));
  const benchCpuBefore = process.cpuUsage();
  const clientBefore = await clientMetrics(metricsPort);
  cluster.logOffset = operatorWrites(logPath, cluster.logOffset).end;
  const started = Date.now();
  const applied = applyAll(kc, objects(size, prefix));
  let appliedAfter: number | undefined;
  void applied.then(() => (appliedAfter = (Date.now() - started) / 1000));
  const watch = new ReadyWatch(kc, prefix);
  watch.informer.start();
  let polls = 0;
  let ready = 0;
  for (;;) {
    ready = watch.ready.size;
    polls++;
    if (ready === size) break;
    if (polls % 15 === 0)
      say(`  ${ready}/${size} Ready after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (Date.now() - started > 30 * 60_000) break;
    await sleep(POLL_MS);
  }
  await watch.informer.stop();
  const seconds = (Date.now() - started) / 1000;
  const converge = delta(requestsByVerbAndResource(kubeconfig), before);
  const latency = meanLatency(latencyByVerb(kubeconfig), latencyBefore);
  const client = clientSummary(await clientMetrics(metricsPort), clientBefore);
  const cpuAfterStep = controlPlaneCpu(state);
  cpuAfterStep.set('operator', cpuSeconds(pid));
  // The bench's CPU is a delta already (process.cpuUsage(since)).
  const benchCpu = process.cpuUsage(benchCpuBefore);
  cpuAfterStep.set('bench', (benchCpu.user + benchCpu.system) / 1e6);
  cpuBeforeStep.set('bench', 0);
  const own = operatorWrites(logPath, cluster.logOffset);
  cluster.logOffset = own.end;
  // The bench's own requests: one server-side apply per object, the polls.
  const less = (key: string, n: number): void => void converge.set(key, (converge.get(key) ?? 0) - n);
  less('APPLY namespaces', 2 * size);
  less('APPLY softtenants', size);
  less('LIST softtenants', watch.informer.listCount);
  less('WATCH softtenants', 1);
  await applied;
  say(
    `${ready}/${size} Ready after ${seconds.toFixed(1)} s (the bench's applies took ${appliedAfter?.toFixed(1)} s)`,
  );
  say(`API requests during convergence (all clients but the bench, by verb): ${listed(byVerb(converge))}`);
  say(`  by verb and resource: ${listed(converge)}`);
  say(`  the API server's mean latency (all clients): ${latency}`);
  say(`  the operator's requests, as it saw them: ${client}`);
  const cpuParts = [...cpuAfterStep].map(([name, s]) => {
    const used = s - (cpuBeforeStep.get(name) ?? 0);
    return `${name} ${used.toFixed(1)} s (${((used / size) * 1000).toFixed(1)} ms per tenant)`;
  });
  say(`  CPU until Ready (2 cores, ${(2 * seconds).toFixed(0)} core-seconds): ${cpuParts.join(', ')}`);
  const ownTotal = [...own.counts.values()].reduce((a, b) => a + b, 0);
  say(
    `  the operator's writes: ${ownTotal} (${(ownTotal / size).toFixed(2)} per tenant): ${listed(own.counts)}`,
  );

  say(`at rest: measuring ${REST_S} s`);
  await sleep(5_000);
  const settled = operatorWrites(logPath, cluster.logOffset);
  cluster.logOffset = settled.end;
  const restBefore = requestsByVerbAndResource(kubeconfig);
  const ownRestBefore = await operatorRequests(metricsPort);
  const cpuBefore = cpuSeconds(pid);
  await sleep(REST_S * 1000);
  const ownRest = delta(await operatorRequests(metricsPort), ownRestBefore);
  const restByResource = delta(requestsByVerbAndResource(kubeconfig), restBefore);
  const rest = byVerb(restByResource);
  const restOwn = operatorWrites(logPath, cluster.logOffset);
  cluster.logOffset = restOwn.end;
  const cpu = (cpuSeconds(pid) - cpuBefore) / REST_S;
  // The two metrics scrapes of this bench are GETs.
  let reads = -2;
  let writes = 0;
  for (const [verb, n] of rest) {
    if (READ_VERBS.has(verb)) reads += n;
    else writes += n;
  }
  let ownReads = 0;
  let ownWrites = 0;
  for (const [key, n] of ownRest) {
    if (READ_VERBS.has(key.slice(0, key.indexOf(' ')))) ownReads += n;
    else ownWrites += n;
  }
  const mem = memory(pid);
  const restOwnTotal = [...restOwn.counts.values()].reduce((a, b) => a + b, 0);
  say(
    `  the operator's writes in the 5 s before: ${listed(settled.counts) || 'none'}; at rest: ${restOwnTotal}${restOwnTotal ? ` (${listed(restOwn.counts)})` : ''}`,
  );
  say(`  requests at rest by verb and resource (all clients): ${listed(restByResource) || 'none'}`);
  say(
    `  the operator's own requests at rest (its metrics, Lease aside): ${(ownReads / REST_S).toFixed(2)} reads/s, ` +
      `${(ownWrites / REST_S).toFixed(2)} writes/s${ownRest.size ? ` (${listed(ownRest)})` : ''}`,
  );
  const result: StepResult = {
    size,
    seconds,
    applied: appliedAfter ?? seconds,
    readsPerS: ownReads / REST_S,
    writesPerS: ownWrites / REST_S,
    operatorWritesAtRest: restOwnTotal,
    cpuShare: cpu,
    rssMb: mem.rssMb,
    hwmMb: mem.hwmMb,
  };
  say(
    `at rest (all clients but Leases): ${(Math.max(0, reads) / REST_S).toFixed(2)} reads/s, ${(writes / REST_S).toFixed(2)} writes/s; ` +
      `the operator: ${result.readsPerS.toFixed(2)} reads/s, ${result.writesPerS.toFixed(2)} writes/s, ` +
      `operator CPU ${(cpu * 100).toFixed(1)} % of a core, RSS ${mem.rssMb.toFixed(0)} MB (high-water ${mem.hwmMb.toFixed(0)} MB)`,
  );
  say(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  if (PROFILE) await profileHeap(pid, state);
  return result;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The figures of every run side by side, the medians, and each size against the one before. */
function summary(runs: readonly StepResult[][]): void {
  say(
    `\n== summary (${runs.length} run${runs.length > 1 ? 's' : ''}, ${CUMULATIVE ? 'steps on one cluster' : 'each step on a fresh control plane'})`,
  );
  let previous: { size: number; seconds: number } | undefined;
  for (const size of sizes) {
    const rows = runs.map((r) => r.find((s) => s.size === size)).filter((s): s is StepResult => !!s);
    if (rows.length === 0) continue;
    const seconds = median(rows.map((r) => r.seconds));
    const each = rows.map((r) => r.seconds.toFixed(1)).join(', ');
    let vs = '';
    if (previous) {
      const factor = size / previous.size;
      const ratio = seconds / previous.seconds;
      vs = `; ${ratio.toFixed(2)} times the ${previous.size} figure for ${factor} times the tenants (${ratio <= factor ? 'within' : 'over'})`;
    }
    say(
      `${size} tenants: Ready after ${seconds.toFixed(1)} s (median of ${each})${vs}; the operator at rest: ` +
        `${median(rows.map((r) => r.readsPerS)).toFixed(2)} reads/s, ${median(rows.map((r) => r.writesPerS)).toFixed(2)} writes/s ` +
        `(writes in its log ${rows.map((r) => r.operatorWritesAtRest).join('/')}), ` +
        `CPU ${(median(rows.map((r) => r.cpuShare)) * 100).toFixed(1)} %, RSS ${median(rows.map((r) => r.rssMb)).toFixed(0)} MB ` +
        `(high-water ${rows.map((r) => r.hwmMb.toFixed(0)).join('/')} MB)`,
    );
    previous = { size, seconds };
  }
}

async function main(): Promise<void> {
  const runs: StepResult[][] = [];
  for (let run = 1; run <= RUNS; run++) {
    if (RUNS > 1) say(`\n=== run ${run} of ${RUNS}`);
    const results: StepResult[] = [];
    runs.push(results);
    let cluster: Cluster | undefined;
    try {
      for (const size of sizes) {
        if (!cluster) cluster = await startCluster();
        const prefix = `b${size}`;
        results.push(
          APPLY_ONLY ? await applyOnlyStep(cluster, size, prefix) : await step(cluster, size, prefix),
        );
        if (!CUMULATIVE) {
          stopCluster(cluster);
          cluster = undefined;
        }
      }
    } finally {
      if (cluster) stopCluster(cluster);
    }
  }
  summary(runs);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-operator: ${errorMessage(err)}\n`);
  process.exit(1);
});
