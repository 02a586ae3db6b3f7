// `make bench-agent`: the node agent's memory on its real read path. Starts the local control
// plane, creates a cluster of 10,000 pods (1,500 on the measured node, spread over every
// namespace) and 2,000 NetworkPolicies on it (hack/bench-cluster.ts's shapes; pods are created
// with a full container spec and get their addresses through the status subresource, as a
// kubelet would report them; there is no kubelet), then runs the agent's cluster watch
// (operator/agent/cluster-watch.ts: paged initial lists trimmed page by page, then watches) and
// its renderer in a fresh process, and prints that process's RSS and high-water mark (VmHWM,
// /proc/<pid>/status) after the initial lists, after the first full render, and after a minute of
// watching while 1,000 pods change. Nothing is programmed: the render is what the agent would
// apply (the dataplane is benchmarked by `make bench`).
// Usage: node dist/hack/bench-agent.js [pods,local,policies]   (default 10000,1500,2000)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from '../operator/api/networkpolicy.js';
import { WatchedCluster } from '../operator/agent/cluster-watch.js';
import { loadKubeConfig, type KubeAccess } from '../operator/kube/config.js';
import { IncrementalNodeRenderer } from '../operator/dataplane/render-incremental.js';
import { renderIpsetRestore, renderIptablesRestore } from '../operator/dataplane/render-text.js';
import { requestJson } from '../operator/kube/raw-request.js';
import { logger } from '../operator/util/logger.js';
import { errorMessage } from '../operator/util/errors.js';
import { BENCH_NODE, syntheticCluster } from './bench-cluster.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const WATCH_S = 60;
const CHANGED_PODS = 1_000;

function memory(pid: number | 'self'): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Runs `work` over `items`, `width` at a time, retrying each a few times (admission races). */
async function forEachLimited<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      for (let attempt = 1; ; attempt++) {
        try {
          await work(item);
          break;
        } catch (err) {
          // A namespace's default ServiceAccount appears a moment after the namespace.
          if (attempt >= 20) throw err;
          await sleep(250 * attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** A pod as a Deployment would create it: a full container spec (what the API server keeps). */
function creatable(pod: Pod): Record<string, unknown> {
  const container = pod.spec?.containers[0];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels },
    spec: {
      nodeName: pod.spec?.nodeName,
      automountServiceAccountToken: false,
      // No kubelet reports for these nodes: the pods must not be evicted from "unreachable" nodes.
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: container?.name ?? 'app',
          image: 'registry.example/team/app:1.42.0',
          ports: container?.ports,
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
          livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
        },
      ],
    },
  };
}

function podStatus(pod: Pod): Record<string, unknown> {
  const ip = pod.status?.podIP ?? '';
  const time = '2026-12-01T10:00:00Z';
  const condition = (type: string): Record<string, unknown> => ({
    type,
    status: 'True',
    lastTransitionTime: time,
  });
  return {
    status: {
      phase: 'Running',
      hostIP: '192.168.0.10',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: time,
      conditions: [
        'PodReadyToStartContainers',
        'Initialized',
        'Ready',
        'ContainersReady',
        'PodScheduled',
      ].map(condition),
      containerStatuses: [
        {
          name: pod.spec?.containers[0]?.name ?? 'app',
          ready: true,
          started: true,
          restartCount: 0,
          image: 'registry.example/team/app:1.42.0',
          imageID:
            'registry.example/team/app@sha256:5d1f2c7a9b8e6d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070605040',
          containerID: `containerd://${(ip.replace(/\./g, '') + '0'.repeat(64)).slice(0, 64)}`,
          state: { running: { startedAt: time } },
          lastState: {},
        },
      ],
    },
  };
}

async function seed(kc: KubeAccess, pods: number, local: number, policies: number): Promise<void> {
  const cluster = syntheticCluster({ pods, local, policies });
  const started = Date.now();
  const nodes = new Set(cluster.pods.map((p) => p.spec?.nodeName ?? ''));
  say(
    `creating ${nodes.size} Nodes, ${cluster.namespaces.length} namespaces, ${cluster.pods.length} pods, ${cluster.policies.length} policies`,
  );
  // Nodes exist so that the pod garbage collector keeps their pods.
  await forEachLimited([...nodes], 16, async (name) => {
    await requestJson(kc, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  });
  await forEachLimited(
    cluster.namespaces.filter((n) => n.metadata.name !== 'kube-system'),
    16,
    async (ns) => {
      await requestJson(kc, 'POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: ns.metadata,
      });
    },
  );
  let done = 0;
  await forEachLimited(cluster.pods, 32, async (pod) => {
    const ns = encodeURIComponent(pod.metadata.namespace ?? '');
    const name = encodeURIComponent(pod.metadata.name);
    await requestJson(kc, 'POST', `/api/v1/namespaces/${ns}/pods`, creatable(pod)).catch((err: unknown) => {
      if (!errorMessage(err).includes('409')) throw err;
    });
    await requestJson(
      kc,
      'PATCH',
      `/api/v1/namespaces/${ns}/pods/${name}/status`,
      podStatus(pod),
      'application/merge-patch+json',
    );
    if (++done % 2000 === 0)
      say(`  ${done} pods created and running (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  });
  await forEachLimited(cluster.policies, 32, async (policy) => {
    const ns = encodeURIComponent(policy.metadata.namespace ?? '');
    await requestJson(kc, 'POST', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: policy.metadata.name, namespace: policy.metadata.namespace },
      spec: policy.spec,
    });
  });
  say(`cluster created in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** The measured process: the agent's cluster watch and renderer, nothing else. */
async function child(kubeconfig: string): Promise<void> {
  // The measured process loads only what the agent loads (this module imports no more).
  const kc = loadKubeConfig(kubeconfig);
  const report = (stage: string, extra: Record<string, unknown> = {}): void => {
    const m = memory('self');
    const heap = process.memoryUsage();
    say(
      JSON.stringify({
        stage,
        rssMb: Math.round(m.rssMb),
        hwmMb: Math.round(m.hwmMb),
        heapUsedMb: Math.round(heap.heapUsed / 1048576),
        externalMb: Math.round((heap.external + heap.arrayBuffers) / 1048576),
        ...extra,
      }),
    );
  };
  report('started');
  const pageSize = Number(process.env.BENCH_PAGE_SIZE ?? 0);
  const watch = new WatchedCluster(kc, logger('bench-agent'), pageSize > 0 ? { podPageSize: pageSize } : {});
  let events = 0;
  const listed = Date.now();
  watch.start(() => void events++);
  await watch.synced();
  const snapshot = watch.snapshot();
  report('initial lists done', {
    seconds: (Date.now() - listed) / 1000,
    pods: snapshot.pods.length,
    policies: snapshot.policies.length,
  });
  const renderer = new IncrementalNodeRenderer(BENCH_NODE);
  const out = renderer.render(snapshot, { full: true });
  // What the apply step builds from the render: both restore payloads, held while applied.
  const payload = renderIptablesRestore(out.ruleset).length + renderIpsetRestore(out.ruleset).length;
  report('first full render', {
    rules: out.summary.rules,
    ipsetEntries: out.summary.ipsetEntries,
    payloadKb: Math.round(payload / 1024),
  });
  process.stdout.write('WATCHING\n');
  await sleep(WATCH_S * 1000);
  const again = renderer.render(watch.snapshot());
  report(`after ${WATCH_S} s of watching`, { events, lastRender: again.mode });
  await watch.stop();
  process.exit(0);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]);
  const [pods, local, policies] = (process.argv[2] ?? '10000,1500,2000').split(',').map(Number) as [
    number,
    number,
    number,
  ];
  const state = mkdtempSync(join(tmpdir(), 'softtenant-bench-agent-'));
  say(`starting the local control plane in ${state}`);
  const up = spawnSync('bash', [join(root, 'hack/controlplane-up.sh'), state], { stdio: 'inherit' });
  if (up.status !== 0) throw new Error('control plane failed to start');
  const kubeconfig = join(state, 'kubeconfig');
  try {
    const kc = loadKubeConfig(kubeconfig);
    await seed(kc, pods, local, policies);
    // BENCH_NODE_FLAGS: V8 flags (and KEY=VALUE environment: MALLOC_ARENA_MAX, BENCH_PAGE_SIZE
    // for the pods' list page) for the measured process; several sets separated by ';' are
    // measured one after the other on the same cluster.
    const variants = (process.env.BENCH_NODE_FLAGS ?? '')
      .split(';')
      .map((v) => v.trim().split(/\s+/).filter(Boolean));
    for (const [run, flags] of variants.entries()) {
      say(
        `\n== the agent's cluster watch and render for ${BENCH_NODE} (${local} of ${pods} pods, ${policies} policies), in a fresh process${flags.length ? ` (node ${flags.join(' ')})` : ''}`,
      );
      await measureChild(kc, kubeconfig, flags, pods, String(run + 2));
    }
    say('target: high-water mark under 150 MB');
  } finally {
    spawnSync('bash', [join(root, 'hack/controlplane-down.sh'), state], { stdio: 'inherit' });
  }
}

/** Runs the measured process and prints its stages; relabels pods (to `rollout`) while it watches. */
async function measureChild(
  kc: KubeAccess,
  kubeconfig: string,
  flags: string[],
  pods: number,
  rollout: string,
): Promise<void> {
  const env = { ...process.env };
  for (const f of flags.filter((x) => /^[A-Z_]+=/.test(x)))
    env[f.slice(0, f.indexOf('='))] = f.slice(f.indexOf('=') + 1);
  const nodeFlags = flags.filter((x) => !/^[A-Z_]+=/.test(x));
  const agent = spawn(
    process.execPath,
    [...nodeFlags, fileURLToPath(import.meta.url), '--child', kubeconfig],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    },
  );
  let out = '';
  agent.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line === 'WATCHING') {
        void changePods(kc, pods, rollout).catch((err: unknown) =>
          say(`changing pods failed: ${errorMessage(err)}`),
        );
      } else if (line.startsWith('{"stage"')) say(line);
    }
  });
  const code = await new Promise<number | null>((r) => agent.on('exit', r));
  if (code !== 0) throw new Error(`the measured process exited with ${code}`);
}

/** While the agent watches: relabels CHANGED_PODS pods (watch events, incremental renders). */
async function changePods(kc: KubeAccess, pods: number, rollout: string): Promise<void> {
  const cluster = syntheticCluster({ pods, local: 0, policies: 0 });
  const chosen = cluster.pods.filter((p) => p.metadata.namespace !== 'kube-system').slice(0, CHANGED_PODS);
  await forEachLimited(chosen, 8, async (pod) => {
    const ns = encodeURIComponent(pod.metadata.namespace ?? '');
    const name = encodeURIComponent(pod.metadata.name);
    await requestJson(
      kc,
      'PATCH',
      `/api/v1/namespaces/${ns}/pods/${name}`,
      { metadata: { labels: { rollout } } },
      'application/merge-patch+json',
    );
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-agent: ${errorMessage(err)}\n`);
  process.exit(1);
});
