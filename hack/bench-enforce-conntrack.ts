// `make bench-enforce-conntrack`: what cutting revoked flows costs (issue 13), on a real
// conntrack table in a network namespace this bench makes (and removes, also on failure). The
// table is filled with `conntrack -I` (no packets needed) in the shape the nodes suite leaves
// after a while: kubelet-probe-like flows from the node's bridge address to isolated pods,
// mostly closed (TIME_WAIT); allowed pod-to-pod connections; connections of a peer the policy no
// longer admits, open and closed. Then the same revocation is cut twice on the same table:
// - "before": the cut as it was (every tracked TCP/UDP flow with a local pod at one end judged,
//   the node's own flows and closed entries included; one `conntrack -D` line per denied flow);
// - "after": cutDeniedFlows as the agent runs it now (the node's addresses passed in, closed
//   entries skipped, one `-D` line per verdict key).
// Printed: table size, flows judged, denied, -D lines, entries deleted, milliseconds, and the
// load average. Sizes: BENCH_CT_PODS (isolated pods, default 20), BENCH_CT_PROBES (node flows,
// default 1000), BENCH_CT_ALLOWED (default 500), BENCH_CT_REVOKED_OPEN (default 200),
// BENCH_CT_REVOKED_CLOSED (default 300).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { flowJudgeFromModel } from '../operator/dataplane/conntrack-judge.js';
import type { TrackedFlow } from '../operator/dataplane/conntrack.js';
import { cutDeniedFlows, listFlows, runDeleteLines } from '../operator/dataplane/conntrack.js';
import { netnsRunner, runChecked, spawnCollect, type Runner } from '../operator/dataplane/runner.js';
import { buildNodeModel } from '../operator/netpol/model.js';
import { netpol, ns, pod } from '../test/support/lab-cluster.js';

const num = (name: string, def: number): number => Number(process.env[name] ?? def);
const sizes = {
  pods: num('BENCH_CT_PODS', 20),
  probes: num('BENCH_CT_PROBES', 1000),
  allowed: num('BENCH_CT_ALLOWED', 500),
  revokedOpen: num('BENCH_CT_REVOKED_OPEN', 200),
  revokedClosed: num('BENCH_CT_REVOKED_CLOSED', 300),
};
const NODE_IP = '10.244.1.1';
const podIP = (i: number): string => `10.244.1.${10 + i}`;
const FRONTEND = '10.244.1.200'; // still admitted
const REVOKED = ['10.244.1.201', '10.244.1.202']; // no longer admitted

const model = buildNodeModel({
  node: 'n1',
  namespaces: [ns('default')],
  pods: [
    ...Array.from({ length: sizes.pods }, (_, i) => pod('default', `db${i}`, 'n1', podIP(i), { role: 'db' })),
    pod('default', 'fe', 'n1', FRONTEND, { role: 'frontend' }),
    ...REVOKED.map((ip, i) => pod('default', `old${i}`, 'n1', ip, { role: 'former' })),
  ],
  policies: [
    netpol('default', 'db-in', {
      podSelector: { matchLabels: { role: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] }],
    }),
  ],
});

function insertLines(): string[] {
  const lines: string[] = [];
  let sport = 20000;
  const add = (src: string, dst: string, dport: number, state: string): void => {
    lines.push(`-I -p tcp -s ${src} -d ${dst} --sport ${sport++} --dport ${dport} --state ${state} -t 3600`);
  };
  for (let i = 0; i < sizes.probes; i++)
    add(NODE_IP, podIP(i % sizes.pods), 8080, i % 10 === 0 ? 'ESTABLISHED' : 'TIME_WAIT');
  for (let i = 0; i < sizes.allowed; i++) add(FRONTEND, podIP(i % sizes.pods), 6379, 'ESTABLISHED');
  for (let i = 0; i < sizes.revokedOpen; i++) add(REVOKED[i % 2], podIP(i % sizes.pods), 6379, 'ESTABLISHED');
  for (let i = 0; i < sizes.revokedClosed; i++) add(REVOKED[i % 2], podIP(i % sizes.pods), 6379, 'TIME_WAIT');
  return lines;
}

async function fill(runner: Runner, dir: string): Promise<number> {
  await runChecked(runner, ['conntrack', '-F'], 'flushing the bench table').catch(() => '');
  const file = path.join(dir, 'insert.batch');
  await writeFile(file, `${insertLines().join('\n')}\n`);
  await runChecked(runner, ['conntrack', '-R', file], 'filling the bench table');
  return (await listFlows(runner, 4)).length;
}

/** The cut as it was before: no node addresses, closed entries judged, one -D line per flow. */
async function cutBefore(
  runner: Runner,
): Promise<{ judged: number; denied: number; lines: number; deleted: number }> {
  const judge = flowJudgeFromModel(model);
  const flows = (await listFlows(runner, 4)).filter((f) => judge.concerns(f));
  const denied = flows.filter((f) => !judge.allows(f));
  const line = (f: TrackedFlow): string =>
    `-D -f ipv4 -p ${f.protocol} --orig-src ${f.src} --orig-dst ${f.dst} --sport ${f.sport} --dport ${f.dport}`;
  const lines = denied.map(line);
  return {
    judged: flows.length,
    denied: denied.length,
    lines: lines.length,
    deleted: await runDeleteLines(runner, lines),
  };
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

async function main(): Promise<void> {
  const netns = `stbench-ct-${process.pid}`;
  const made = await spawnCollect(['ip', 'netns', 'add', netns]);
  if (made.code !== 0) throw new Error(`ip netns add ${netns}: ${made.stderr}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'softtenant-bench-ct-'));
  const runner = netnsRunner(netns);
  try {
    console.log(`sizes ${JSON.stringify(sizes)}`);
    const rows: string[] = [
      '| cut | load at start | table | judged | denied | -D lines | deleted | ms |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ];
    {
      const table = await fill(runner, dir);
      const l = load();
      const t0 = Date.now();
      const r = await cutBefore(runner);
      rows.push(
        `| before (per flow, node flows judged) | ${l} | ${table} | ${r.judged} | ${r.denied} | ${r.lines} | ${r.deleted} | ${Date.now() - t0} |`,
      );
      console.log(rows.at(-1));
    }
    {
      const table = await fill(runner, dir);
      const l = load();
      const r = await cutDeniedFlows(runner, flowJudgeFromModel(model, new Set([NODE_IP])), [4]);
      rows.push(
        `| after (node addresses, per verdict key) | ${l} | ${table} | ${r.judged} | ${r.denied.length} | ${r.deleteLines} | ${r.deleted} | ${r.durationMs} |`,
      );
      console.log(rows.at(-1));
      const left = await listFlows(runner, 4);
      const open = left.filter((f) => REVOKED.includes(f.src) && f.state === 'ESTABLISHED').length;
      const probes = left.filter((f) => f.src === NODE_IP).length;
      console.log(
        `after the new cut: ${open} revoked open entries left (want 0), ${probes} of ${sizes.probes} node flows kept (want all)`,
      );
    }
    console.log(`\n${rows.join('\n')}\nload average at the end: ${load()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await spawnCollect(['ip', 'netns', 'del', netns]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
