// The netns lab from the command line (for people and the demo); hack/lab.sh runs it.
//
//   lab up --snapshot FILE [--external NAME=IP@NODE]... [--serve tcp/80]... [--apply] [--backend nft|legacy]
//   lab apply --id ID --snapshot FILE [--backend nft|legacy]
//   lab probe --id ID [--from HOST]... [--to HOST]... [--port tcp/80]... [--json]
//   lab down --id ID
//   lab cleanup-stale [--all]     (or --cleanup-stale)
//   lab list
import { readFileSync } from 'node:fs';
import { parseCommandLine, UsageError } from '../operator/cli/args.js';
import { NodeDataplane } from '../operator/dataplane/node-dataplane.js';
import { renderNode } from '../operator/dataplane/render-node.js';
import type { SnapshotObjects } from '../operator/netpol/snapshot.js';
import { snapshotFromObjects } from '../operator/netpol/snapshot.js';
import { parseManifests } from '../operator/util/manifests.js';
import { cleanupStaleLabs, listLabNetns } from '../test/lab/build.js';
import { Lab } from '../test/lab/lab.js';
import type { ProbeCell } from '../test/lab/probe.js';
import { allCells, formatMatrix } from '../test/lab/probe.js';
import { labSpecFromSnapshot, parseExternal, parsePort } from '../test/lab/snapshot.js';
import type { LabPort } from '../test/lab/spec.js';
import { errorMessage } from '../operator/util/errors.js';

const usage = `usage: hack/lab.sh <command> [flags]

commands:
  up --snapshot FILE [--external NAME=IP@NODE]... [--serve tcp/80]... [--apply] [--backend nft|legacy]
        build a lab from the snapshot's pods (one netns per node, pod and external host);
        --apply also programs each node with what the agent would render; prints the lab id
  apply --id ID --snapshot FILE [--backend nft|legacy]
        render the snapshot for every node of the lab and apply it (a resync, plus conntrack cuts)
  probe --id ID [--from HOST]... [--to HOST]... [--port tcp/80]... [--json]
        try every source -> destination:port and print the matrix (+ allowed, . denied)
  down --id ID          remove the lab: its netns, processes and state
  cleanup-stale [--all] remove labs whose owning process is gone (--all: every lab);
                        also spelled --cleanup-stale
  list                  lab ids present on this machine
`;

function loadSnapshot(file: string): SnapshotObjects {
  return snapshotFromObjects(parseManifests(readFileSync(file, 'utf8'), file));
}

async function applyAll(lab: Lab, snap: SnapshotObjects, backend: string | undefined): Promise<void> {
  for (const node of lab.plan.nodes) {
    const rendered = renderNode(snap, node.name);
    const dp = await NodeDataplane.open(lab.nodeRunner(node.name), backend);
    const r = await dp.apply(rendered, { full: true });
    process.stdout.write(
      `applied on ${node.name} (${dp.backend}): ${rendered.summary.chains} chains, ${rendered.summary.rules} rules, ` +
        `${rendered.summary.ipsetEntries} set entries; ${r.apply.chainsCreated.length + r.apply.chainsRewritten.length} chains written, ` +
        `${r.conntrack?.deleted ?? 0} flows cut, ${r.apply.durationMs} ms\n`,
    );
    for (const p of rendered.problems)
      process.stdout.write(`  problem: ${p.namespace}/${p.name}: ${p.message}\n`);
  }
}

function one(flags: Map<string, string[]>, name: string): string | undefined {
  return flags.get(name)?.[0];
}

function need(flags: Map<string, string[]>, name: string): string {
  const v = one(flags, name);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  // `--cleanup-stale` reads naturally as a flag too.
  const command = first === '--cleanup-stale' ? 'cleanup-stale' : first;
  const a = parseCommandLine(rest, {
    values: ['snapshot', 'external', 'serve', 'backend', 'id', 'from', 'to', 'port'],
    bools: ['apply', 'json', 'all', 'help'],
    aliases: { f: 'snapshot', h: 'help' },
  });
  if (!command || a.bools.has('help') || command === 'help') {
    process.stdout.write(usage);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'up': {
      const snap = loadSnapshot(need(a.flags, 'snapshot'));
      const spec = labSpecFromSnapshot(snap.pods, {
        externals: (a.flags.get('external') ?? []).map(parseExternal),
        servePorts: (a.flags.get('serve') ?? []).map(parsePort),
      });
      const lab = await Lab.up(spec, { owner: 'cli' });
      try {
        if (a.bools.has('apply')) await applyAll(lab, snap, one(a.flags, 'backend'));
      } catch (e) {
        await lab.down();
        throw e;
      }
      process.stdout.write(
        `lab ${lab.id} is up: ${lab.plan.nodes.length} nodes, ${lab.plan.hosts.length} hosts\n`,
      );
      for (const h of lab.plan.hosts) {
        process.stdout.write(
          `  ${h.name.padEnd(32)} ${(h.ip ?? h.ip6 ?? '').padEnd(15)} ${h.netns}  tcp ${h.tcp.join(',') || '-'}  udp ${h.udp.join(',') || '-'}\n`,
        );
      }
      process.stdout.write(`${lab.id}\n`);
      return 0;
    }
    case 'apply': {
      const lab = Lab.attach(need(a.flags, 'id'));
      await applyAll(lab, loadSnapshot(need(a.flags, 'snapshot')), one(a.flags, 'backend'));
      return 0;
    }
    case 'probe': {
      const lab = Lab.attach(need(a.flags, 'id'));
      const everyone = [...lab.hostNames('pod'), ...lab.hostNames('external')];
      const from = a.flags.get('from') ?? everyone;
      const to = a.flags.get('to') ?? everyone;
      let ports: LabPort[] = (a.flags.get('port') ?? []).map(parsePort);
      if (ports.length === 0) {
        const served = new Map<string, LabPort>();
        for (const h of lab.plan.hosts.filter((x) => to.includes(x.name))) {
          for (const p of h.tcp) served.set(`TCP/${p}`, { port: p, protocol: 'TCP' });
          for (const p of h.udp) served.set(`UDP/${p}`, { port: p, protocol: 'UDP' });
        }
        ports = [...served.values()];
      }
      // Only cells whose destination serves the port: a closed port says nothing about policy.
      const cells: ProbeCell[] = allCells(from, to, ports).filter((c) => {
        const h = lab.plan.hosts.find((x) => x.name === c.to);
        return c.protocol === 'SCTP' || (c.protocol === 'TCP' ? h?.tcp : h?.udp)?.includes(c.port);
      });
      const started = Date.now();
      const results = await lab.probe(cells);
      if (a.bools.has('json')) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      else {
        process.stdout.write(formatMatrix(results));
        const allowed = results.filter((r) => r.allowed).length;
        process.stdout.write(
          `\n${results.length} cells, ${allowed} allowed, ${results.length - allowed} denied, ${Date.now() - started} ms\n`,
        );
      }
      return 0;
    }
    case 'down':
      await Lab.attach(need(a.flags, 'id')).down();
      return 0;
    case 'cleanup-stale': {
      const removed = await cleanupStaleLabs({ all: a.bools.has('all') });
      process.stdout.write(removed.length ? `removed ${removed.join(', ')}\n` : 'nothing stale\n');
      return 0;
    }
    case 'list': {
      const ids = new Set((await listLabNetns()).map((n) => n.split('-').slice(0, 3).join('-')));
      process.stdout.write(
        [...ids]
          .sort()
          .map((id) => `${id}\n`)
          .join(''),
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`lab: ${errorMessage(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${usage}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
