// `make bench`: render and apply figures for synthetic clusters, ipset-based render side by side
// with the naive one-rule-per-pod-pair render (test/support/render-naive.ts), and the same
// clusters made dual-stack (every pod also has an IPv6 address, every ipBlock an IPv6 twin)
// against their IPv4-only form. Prints tables; asserts nothing.
//
//   node dist/hack/bench.js [--no-apply] [--quick]
//
// Apply figures need root and run only inside network namespaces this script creates and
// deletes (also on error or Ctrl-C); the host's own firewall is never touched.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RulesetApplier } from '../operator/dataplane/apply.js';
import { toolsFor, type IptablesBackend } from '../operator/dataplane/backend.js';
import { renderNaiveRuleset } from '../test/support/render-naive.js';
import { IncrementalNodeRenderer } from '../operator/dataplane/render-incremental.js';
import { renderNode, type NodeRender } from '../operator/dataplane/render-node.js';
import { countIpsetEntries, countRules } from '../operator/dataplane/render.js';
import { renderIpsetRestore, renderIptablesRestore } from '../operator/dataplane/render-text.js';
import { hostRunner, netnsRunner, runChecked } from '../operator/dataplane/runner.js';
import { rootLogger } from '../operator/util/logger.js';
import { apiServedPod } from '../test/support/api-served-pod.js';
import { benchPod, syntheticCluster, type BenchSize, type SyntheticCluster } from './bench-cluster.js';
import { trimPod } from '../operator/agent/pod-trim.js';
import type { NetworkPolicy, NetworkPolicyPeer, Pod } from '../operator/api/networkpolicy.js';
import type { Ruleset } from '../operator/dataplane/types.js';
import { errorMessage } from '../operator/util/errors.js';

const sizes: BenchSize[] = [
  { pods: 1000, policies: 100, local: 100 },
  { pods: 1000, policies: 100, local: 500 },
  { pods: 10000, policies: 2000, local: 100 },
  { pods: 10000, policies: 2000, local: 500 },
  { pods: 10000, policies: 2000, local: 1500 },
];
/** Above this many rules the naive ruleset is not applied (nft: ~30 us/rule), only estimated. */
const naiveApplyLimit = 600_000;
const backends: IptablesBackend[] = ['legacy', 'nft'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeIt<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

interface Rendered {
  result: NodeRender;
  ipsetText: string;
  iptablesText: string;
}

/** The agent's pure path for one sync: model + ruleset + restore text. */
function renderAll(c: SyntheticCluster): Rendered {
  const result = renderNode(c, c.node);
  return {
    result,
    ipsetText: renderIpsetRestore(result.ruleset),
    iptablesText: renderIptablesRestore(result.ruleset),
  };
}

interface RenderFigures {
  rendered: Rendered;
  renderMs: number;
  renderMinMs: number;
  naiveRules: number;
  naiveMs: number;
  naiveText: string;
  onePodMs: number;
}

/**
 * The one-pod change: the cluster plus a new local pod that is a twin of an existing local pod
 * (same namespace, labels and ports; new name and IP), as a scale-up creates.
 */
function withOneMorePod(c: SyntheticCluster, size: BenchSize): SyntheticCluster {
  const twin = c.pods.find((p) => p.spec.nodeName === c.node) ?? c.pods[0];
  const fresh = benchPod(size.pods + 10, twin.metadata.namespace ?? 'default', {}, c.node);
  const extra = { ...twin, metadata: { ...twin.metadata, name: fresh.metadata.name }, status: fresh.status };
  return { ...c, pods: [...c.pods, extra] };
}

function measureRender(c: SyntheticCluster, size: BenchSize, reps: number): RenderFigures {
  renderAll(c); // warm-up (JIT)
  const times: number[] = [];
  let rendered: Rendered | undefined;
  for (let i = 0; i < reps; i++) {
    const [r, ms] = timeIt(() => renderAll(c));
    rendered = r;
    times.push(ms);
  }
  const [naive, naiveMs] = timeIt(() => {
    const rs = renderNaiveRuleset(rendered!.result.model);
    return { rules: countRules(rs), text: renderIptablesRestore(rs) };
  });
  // What the agent runs per sync: its renderer, which re-renders pod changes from the previous
  // result (model + ruleset; its applier writes text only for what changed).
  const changed = withOneMorePod(c, size);
  const oneTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    const renderer = new IncrementalNodeRenderer(c.node);
    renderer.render(c);
    const [r, ms] = timeIt(() => renderer.render(changed));
    if (r.mode !== 'pods') throw new Error(`bench: the one-pod change took the full render: ${r.fullReason}`);
    oneTimes.push(ms);
  }
  return {
    rendered: rendered!,
    renderMs: median(times),
    renderMinMs: Math.min(...times),
    naiveRules: naive.rules,
    naiveMs,
    naiveText: naive.text,
    onePodMs: median(oneTimes),
  };
}

// ---- dual-stack ----------------------------------------------------------------------------

/** The IPv6 twin of an IPv4 address or CIDR: the IPv4 bits under fd00::/96, /n -> /(n+96). */
function twin6(text: string): string {
  const [ip, prefix] = text.split('/');
  return prefix === undefined ? `fd00::${ip}` : `fd00::${ip}/${Number(prefix) + 96}`;
}

/** A peer list where every ipBlock has an IPv6 twin next to it (what a dual-stack tenant writes). */
function twinBlocks(peers: NetworkPolicyPeer[] | undefined): NetworkPolicyPeer[] | undefined {
  return peers?.flatMap((peer) => {
    if (!peer.ipBlock) return [peer];
    const cidr = peer.ipBlock.cidr === '0.0.0.0/0' ? '::/0' : twin6(peer.ipBlock.cidr);
    const except = (peer.ipBlock.except ?? []).map(twin6);
    return [peer, { ipBlock: { cidr, ...(except.length ? { except } : {}) } }];
  });
}

/** The same cluster, dual-stack: each pod gets status.podIPs [IPv4, its IPv6 twin]. */
function dualStackOf(c: SyntheticCluster): SyntheticCluster {
  const pods = c.pods.map((p): Pod => {
    const ip = p.status?.podIP;
    if (!ip) return p;
    return { ...p, status: { ...p.status, podIPs: [{ ip }, { ip: twin6(ip) }] } };
  });
  const policies = c.policies.map(
    (pol): NetworkPolicy => ({
      ...pol,
      spec: {
        ...pol.spec,
        ...(pol.spec.ingress
          ? {
              ingress: pol.spec.ingress.map((r) => ({
                ...r,
                ...(r.from ? { from: twinBlocks(r.from) } : {}),
              })),
            }
          : {}),
        ...(pol.spec.egress
          ? { egress: pol.spec.egress.map((r) => ({ ...r, ...(r.to ? { to: twinBlocks(r.to) } : {}) })) }
          : {}),
      },
    }),
  );
  return { ...c, pods, policies };
}

/** Full render of both families, with the text for ipset, iptables and ip6tables. */
function renderBoth(c: SyntheticCluster): NodeRender {
  const result = renderNode(c, c.node);
  renderIpsetRestore(result.ruleset, result.ruleset6);
  renderIptablesRestore(result.ruleset);
  renderIptablesRestore(result.ruleset6);
  return result;
}

interface FamilyFigures {
  rules4: number;
  rules6: number;
  entries: number;
  renderMs: number;
  onePodMs: number;
}

function measureFamilies(c: SyntheticCluster, size: BenchSize, reps: number): FamilyFigures {
  renderBoth(c);
  const times: number[] = [];
  let result: NodeRender | undefined;
  for (let i = 0; i < reps; i++) {
    const [r, t] = timeIt(() => renderBoth(c));
    result = r;
    times.push(t);
  }
  const changed = withOneMorePod(c, size);
  const oneTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    const renderer = new IncrementalNodeRenderer(c.node);
    renderer.render(c);
    const [r, t] = timeIt(() => renderer.render(changed));
    if (r.mode !== 'pods') throw new Error(`bench: the one-pod change took the full render: ${r.fullReason}`);
    oneTimes.push(t);
  }
  const rs = result as NodeRender;
  const count = (x: Ruleset): number => countRules(x);
  return {
    rules4: count(rs.ruleset),
    rules6: count(rs.ruleset6),
    entries: rs.summary.ipsetEntries,
    renderMs: median(times),
    onePodMs: median(oneTimes),
  };
}

// ---- apply, inside throwaway network namespaces --------------------------------------------

const created = new Set<string>();
let nsCounter = 0;

function deleteNetnsSync(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  created.delete(name);
}

// Whatever ends the bench (a signal, a closed stdout's EPIPE, an uncaught error) ends through
// 'exit', where the namespaces still there are deleted synchronously.
process.on('exit', () => {
  for (const name of [...created]) deleteNetnsSync(name);
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => process.exit(130));
}
process.stdout.on('error', () => process.exit(141));

async function withNetns<T>(fn: (name: string) => Promise<T>): Promise<T> {
  const name = `stn-bench-${process.pid}-${nsCounter++}`;
  await runChecked(hostRunner(), ['ip', 'netns', 'add', name], 'creating a bench network namespace');
  created.add(name);
  try {
    return await fn(name);
  } finally {
    deleteNetnsSync(name);
  }
}

export interface RestoreTiming {
  ipsetMs: number;
  iptablesMs: number;
}

/**
 * The apply hook that takes rendered text: a fresh namespace, `ipset restore` then
 * `iptables-<backend>-restore --noflush`, timed; the namespace is deleted afterwards.
 */
export async function timeRestoreText(
  backend: IptablesBackend,
  ipsetText: string,
  iptablesText: string,
): Promise<RestoreTiming> {
  return withNetns(async (ns) => {
    const runner = netnsRunner(ns);
    const t0 = performance.now();
    if (ipsetText)
      await runChecked(runner, ['ipset', 'restore'], 'ipset restore', {
        input: ipsetText,
        timeoutMs: 600_000,
      });
    const t1 = performance.now();
    await runChecked(runner, [toolsFor(backend).restore, '--noflush'], 'iptables restore', {
      input: iptablesText,
      timeoutMs: 600_000,
    });
    return { ipsetMs: t1 - t0, iptablesMs: performance.now() - t1 };
  });
}

interface AgentApplyTiming {
  fullMs: number;
  onePodMs: number;
  onePodWhat: string;
}

/** Changes measured per backend: a pod added, then removed again, repeatedly. */
const ONE_POD_ROUNDS = 20;

/**
 * The agent's own path: a full apply into a fresh namespace, then the one-pod change as a
 * running agent sees it — its renderer and its applier, both warm — added and removed
 * ONE_POD_ROUNDS times; the median of render + apply.
 */
async function timeAgentApply(
  backend: IptablesBackend,
  cluster: SyntheticCluster,
  changed: SyntheticCluster,
): Promise<AgentApplyTiming> {
  return withNetns(async (ns) => {
    const renderer = new IncrementalNodeRenderer(cluster.node);
    const applier = new RulesetApplier(netnsRunner(ns), toolsFor(backend));
    const first = await applier.apply(renderer.render(cluster).ruleset);
    const times: number[] = [];
    let what = '';
    for (let i = 0; i < ONE_POD_ROUNDS; i++) {
      const t0 = performance.now();
      const r = renderer.render(i % 2 === 0 ? changed : cluster);
      const applied = await applier.apply(r.ruleset);
      times.push(performance.now() - t0);
      if (r.mode !== 'pods') throw new Error(`bench: a one-pod change took the full render: ${r.fullReason}`);
      if (i === 0)
        what = `${applied.chainsRewritten.length + applied.chainsCreated.length} chains written, +${applied.entriesAdded}/-${applied.entriesRemoved} set entries`;
    }
    return { fullMs: first.durationMs, onePodMs: median(times), onePodWhat: what };
  });
}

function canApply(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['ip', 'ipset', 'iptables-legacy-restore', 'iptables-nft-restore']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (make deps)`;
    }
  }
  return undefined;
}

// ---- RSS of the render path alone, in a fresh process ---------------------------------------

function rssProbe(): void {
  const c = syntheticCluster({ pods: 10000, policies: 2000, local: 1500 });
  for (let i = 0; i < 3; i++) renderAll(c);
  const keep = renderAll(c);
  process.stdout.write(
    JSON.stringify({ rss: process.memoryUsage().rss, rules: countRules(keep.result.ruleset) }),
  );
}

// ---- the agent's pod cache: pods as an API server serves them, kept whole or trimmed ----------

const CACHE_PODS = 10000;

/** In a fresh process (with --expose-gc): heap held by CACHE_PODS pods parsed from API JSON. */
function podCacheProbe(trimmed: boolean): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const text = Array.from({ length: CACHE_PODS }, (_, i) =>
    JSON.stringify(
      apiServedPod(
        i,
        `ns-${i % 500}`,
        `node-${i % 50}`,
        `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      ),
    ),
  );
  gc();
  const before = process.memoryUsage().heapUsed;
  const pods = text.map((t) => JSON.parse(t) as Pod);
  if (trimmed) for (const p of pods) trimPod(p);
  gc();
  const held = process.memoryUsage().heapUsed - before;
  process.stdout.write(JSON.stringify({ held, bytes: text[0].length, kept: pods.length }));
}

function measurePodCache(trimmed: boolean): { held: number; bytes: number } | undefined {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--pod-cache-probe', trimmed ? 'trimmed' : 'whole'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout) as { held: number; bytes: number };
}

function measureRss(): number | undefined {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--rss-probe'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as { rss: number }).rss;
}

// ---- output ------------------------------------------------------------------------------

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString());
const n = (x: number): string => x.toLocaleString('en-US');
const label = (s: BenchSize): string => `${s.pods / 1000}k pods/${n(s.policies)} pol/${n(s.local)} local`;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--rss-probe')) return rssProbe();
  const cacheProbe = argv.indexOf('--pod-cache-probe');
  if (cacheProbe >= 0) return podCacheProbe(argv[cacheProbe + 1] === 'trimmed');
  // The applier logs every apply at info; the tables are the output here.
  rootLogger.level = process.env.LOG_LEVEL ?? 'warn';
  const quick = argv.includes('--quick');
  const applyBlocked = argv.includes('--no-apply') ? '--no-apply' : canApply();
  const reps = quick ? 3 : 7;
  const renderRows: string[][] = [];
  const dualRows: string[][] = [];
  const applyRows: string[][] = [];
  const targets: string[] = [];

  for (const size of quick ? sizes.filter((s) => s.pods === 1000) : sizes) {
    process.stderr.write(`bench: ${label(size)} ...\n`);
    const c = syntheticCluster(size);
    const f = measureRender(c, size, reps);
    const rs = f.rendered.result.ruleset;
    const rules = countRules(rs);
    renderRows.push([
      label(size),
      n(f.rendered.result.model.policies.length),
      n(rules),
      n(rs.chains.length),
      n(rs.ipsets.length),
      n(countIpsetEntries(rs)),
      `${ms(f.renderMs)} / ${ms(f.renderMinMs)}`,
      ms(f.onePodMs),
      n(f.naiveRules),
      ms(f.naiveMs),
      `${(f.naiveRules / rules).toFixed(0)}x`,
      `${(f.naiveMs / f.renderMs).toFixed(1)}x`,
    ]);
    const isTarget = size.pods === 10000 && size.local === 1500;
    {
      process.stderr.write(`bench:   dual-stack render ...\n`);
      const v4 = measureFamilies(c, size, reps);
      const dual = measureFamilies(dualStackOf(c), size, reps);
      // IPv4-only: what iptables holds (its IPv6 ruleset has the same chains and empty sets).
      const dualRules = dual.rules4 + dual.rules6;
      dualRows.push([
        label(size),
        n(v4.rules4),
        n(dual.rules4),
        n(dual.rules6),
        `${(dualRules / v4.rules4).toFixed(2)}x`,
        n(v4.entries),
        n(dual.entries),
        ms(v4.renderMs),
        ms(dual.renderMs),
        `${(dual.renderMs / v4.renderMs).toFixed(2)}x`,
        ms(v4.onePodMs),
        ms(dual.onePodMs),
      ]);
      if (isTarget) {
        targets.push(
          `dual-stack: ${n(dualRules)} rules (IPv4 ${n(dual.rules4)} + IPv6 ${n(dual.rules6)}) = ${(dualRules / v4.rules4).toFixed(4)}x the IPv4-only ${n(v4.rules4)}  [target <= 2x: ${dualRules <= 2 * v4.rules4 ? 'met' : `MISSED by ${n(dualRules - 2 * v4.rules4)} rules`}]`,
        );
        targets.push(
          `dual-stack render (both families, model + rulesets + text) ${ms(dual.renderMs)} ms = ${(dual.renderMs / v4.renderMs).toFixed(2)}x the IPv4-only cluster's ${ms(v4.renderMs)} ms  [target <= 2x: ${dual.renderMs <= 2 * v4.renderMs ? 'met' : 'MISSED'}]`,
        );
      }
    }
    if (isTarget) {
      targets.push(
        `render (model + ruleset + text) median ${ms(f.renderMs)} ms, best ${ms(f.renderMinMs)} ms  [target < 100 ms: ${f.renderMs < 100 ? 'met' : 'MISSED'}]`,
      );
      targets.push(`one-pod change re-render ${ms(f.onePodMs)} ms`);
    }
    if (applyBlocked) continue;
    for (const backend of backends) {
      process.stderr.write(`bench:   apply (${backend}) ...\n`);
      const raw = await timeRestoreText(backend, f.rendered.ipsetText, f.rendered.iptablesText);
      const agent = await timeAgentApply(backend, c, withOneMorePod(c, size));
      // Too many rules to wait for: estimated at the per-rule cost this backend just showed.
      const perRule = raw.iptablesMs / rules;
      let naive = `~${ms((f.naiveRules * perRule) / 1000)} s (est.)`;
      if (f.naiveRules <= naiveApplyLimit) {
        const t = await timeRestoreText(backend, '', f.naiveText);
        naive = ms(t.iptablesMs);
      }
      applyRows.push([
        label(size),
        backend,
        ms(agent.fullMs),
        ms(raw.ipsetMs + raw.iptablesMs),
        ms(agent.onePodMs),
        agent.onePodWhat,
        naive,
      ]);
      if (isTarget) {
        targets.push(
          `full apply (${backend}) ${ms(agent.fullMs)} ms  [target < 1000 ms: ${agent.fullMs < 1000 ? 'met' : 'MISSED'}]`,
        );
        const total = agent.onePodMs;
        targets.push(
          `one-pod change programmed (${backend}) ${ms(total)} ms  [target < 20 ms: ${total < 20 ? 'met' : 'MISSED'}]`,
        );
      }
    }
  }

  process.stdout.write(
    '\nRender: model + ruleset + restore text (median / best). "one-pod": the agent\'s renderer after one local pod was added\n(it patches the previous model and ruleset; see operator/dataplane/render-incremental.ts). "naive": one rule per peer address x port x local pod, for comparison.\n\n',
  );
  process.stdout.write(
    table(
      [
        'cluster',
        'policies here',
        'rules',
        'chains',
        'sets',
        'set entries',
        'render ms med/min',
        'one-pod ms',
        'naive rules',
        'naive ms',
        'rules x',
        'time x',
      ],
      renderRows,
    ) + '\n',
  );
  process.stdout.write(
    '\nDual-stack: the same clusters with an IPv6 address on every pod and an IPv6 twin of every ipBlock, against their\nIPv4-only form. Render = model + both rulesets + the ipset, iptables and ip6tables text (median). "x" = dual-stack\nrules (IPv4 + IPv6) over the IPv4-only cluster\'s iptables rules, and dual-stack render time over IPv4-only render time.\n\n',
  );
  process.stdout.write(
    table(
      [
        'cluster',
        'v4-only rules',
        'dual v4 rules',
        'dual v6 rules',
        'rules x',
        'v4-only entries',
        'dual entries',
        'v4-only ms',
        'dual ms',
        'time x',
        'v4-only one-pod ms',
        'dual one-pod ms',
      ],
      dualRows,
    ) + '\n',
  );
  process.stdout.write('\nApply, each in a fresh network namespace\n');
  if (applyBlocked) {
    process.stdout.write(`  skipped: ${applyBlocked}\n`);
  } else {
    process.stdout.write(
      '  agent full = RulesetApplier into an empty namespace (reads state, ipset restore, iptables-restore --noflush, reads back)\n' +
        '  raw = ipset restore + iptables-restore --noflush of the rendered files\n' +
        "  one-pod = the agent's renderer and applier, warm: a pod added or removed (median of 20), render + apply\n\n",
    );
    process.stdout.write(
      table(
        ['cluster', 'backend', 'agent full ms', 'raw ms', 'one-pod ms', 'one-pod change', 'naive raw ms'],
        applyRows,
      ) + '\n',
    );
  }
  if (!quick) {
    const rss = measureRss();
    targets.push(
      rss === undefined
        ? 'RSS probe failed'
        : `RSS of a process holding the 10k-pod cluster and rendering it: ${Math.round(rss / 1048576)} MB  [target < 150 MB: ${rss < 150 * 1048576 ? 'met' : 'MISSED'}]`,
    );
  }
  if (!quick) {
    const whole = measurePodCache(false);
    const trimmed = measurePodCache(true);
    const mb = (x: number): string => `${Math.round(x / 1048576)} MB`;
    targets.push(
      whole && trimmed
        ? `agent pod cache, ${n(CACHE_PODS)} pods as an API server serves them (${(whole.bytes / 1024).toFixed(1)} KB of JSON each): ${mb(whole.held)} of heap whole, ${mb(trimmed.held)} trimmed as the agent keeps them`
        : 'pod cache probe failed',
    );
  }
  if (targets.length)
    process.stdout.write(
      `\nTargets at 10k pods / 2,000 policies / 1,500 local pods\n${targets.map((t) => `  ${t}`).join('\n')}\n`,
    );
}

main(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    for (const name of [...created]) deleteNetnsSync(name);
    process.stderr.write(`bench: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
