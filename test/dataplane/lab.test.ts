// The lab itself: its wiring (bridged same-node, routed cross-node, external hosts, no way out,
// nothing in the root namespace), its probes and flows, and that it leaves nothing behind —
// after a normal teardown and after a crashed run.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { spawnCollect } from '../../operator/dataplane/runner.js';
import { buildLab, cleanupStaleLabs, listLabNetns, newLabId } from '../lab/build.js';
import { labStateRoot, planLab } from '../lab/plan.js';
import type { Lab } from '../support/lab.js';
import { allCells, expectMatrix, pathsCovered, sh, startLab } from '../support/lab.js';
import { fixtureCluster, fixtureExternals, fixturePorts, N1, pods, ports } from '../support/lab-fixture.js';

const { tcp, udp } = ports;

async function rootLinks(): Promise<string[]> {
  const r = await spawnCollect(['ip', '-o', 'link', 'show']);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]?.trim() ?? '')
    .sort();
}

/** The root namespace's rules in both backends, without the timestamped comment lines: read, never written. */
async function rootFirewall(): Promise<string> {
  const parts: string[] = [];
  for (const tool of ['iptables-nft-save', 'iptables-legacy-save']) {
    const r = await spawnCollect([tool]);
    parts.push(r.stdout.replace(/^#.*$/gm, ''));
  }
  return parts.join('\n---\n');
}

describe('dataplane: the netns lab', function () {
  this.timeout(90_000);
  let lab: Lab | undefined;
  let linksBefore: string[];
  let firewallBefore: string;

  before(async function () {
    this.timeout(60_000);
    await cleanupStaleLabs();
    linksBefore = await rootLinks();
    firewallBefore = await rootFirewall();
    lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
  });
  after(async () => {
    await lab?.down();
  });

  it('puts nothing into the root namespace and has no way out of the lab', async () => {
    const l = lab as Lab;
    expect(await rootLinks(), 'root namespace links').to.deep.equal(linksBefore);
    for (const n of l.plan.nodes) {
      expect(await sh(l.nodeRunner(n.name), 'ip route show default'), `default route on ${n.name}`).to.equal(
        '',
      );
    }
    // An address outside the lab: the pod's node has no route for it.
    const r = await sh(l.nodeRunner(N1), 'ip route get 8.8.8.8 2>&1 || true');
    expect(r).to.match(/unreachable/i);
  });

  it('connects every host to every other on TCP and UDP: bridged, routed, external and node paths', async () => {
    const l = lab as Lab;
    const hosts = l.hostNames();
    const started = Date.now();
    const results = await l.probe(allCells(hosts, hosts, [tcp(80), udp(53)]));
    const ms = Date.now() - started;
    expectMatrix(l, results, () => true, 'open lab');
    const paths = pathsCovered(l, results);
    for (const p of ['same-node', 'cross-node', 'external', 'node'] as const)
      expect(paths[p].allowed, p).to.be.greaterThan(0);
    expect(results.length).to.be.greaterThan(400);
    // Parallel and bounded: hundreds of cells well inside a few seconds even on a busy machine.
    expect(ms, `${results.length} cells took ${ms} ms`).to.be.lessThan(10_000);
  });

  it('reports a closed port as an error of the test, not as a firewall verdict', async () => {
    const l = lab as Lab;
    let err: unknown;
    try {
      await l.probe([{ from: pods.fe1, to: pods.db, port: 4444, protocol: 'TCP' }]);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/does not serve TCP\/4444/);
  });

  it('holds flows open and exchanges on them', async () => {
    const l = lab as Lab;
    const t = await l.openFlow(pods.fe2, pods.db, 6379, 'TCP');
    const u = await l.openFlow(pods.fe2, pods.db, 6379, 'UDP');
    try {
      for (const f of [t, u]) {
        expect(f.localPort).to.be.greaterThan(0);
        for (let i = 0; i < 3; i++) expect((await f.check()).outcome).to.equal('ok');
      }
    } finally {
      await t.close();
      await u.close();
    }
  });

  it('tears down everything it made: namespaces, processes, state', async () => {
    const l = lab as Lab;
    const mine = (await listLabNetns()).filter((n) => n.startsWith(`${l.id}-`));
    expect(mine).to.have.length(l.plan.netns.length);
    const pids = (await Promise.all(mine.map((n) => spawnCollect(['ip', 'netns', 'pids', n])))).flatMap((r) =>
      r.stdout.split('\n').filter(Boolean),
    );
    expect(pids.length, 'one host process per namespace except the fabric').to.equal(l.plan.hosts.length);
    await l.down();
    lab = undefined;
    expect((await listLabNetns()).filter((n) => n.startsWith(`${l.id}-`))).to.deep.equal([]);
    for (const p of pids) expect(existsSync(`/proc/${p}`), `process ${p}`).to.equal(false);
    expect(existsSync(`${labStateRoot}/${l.id}`)).to.equal(false);
    expect(await rootFirewall(), 'the root firewall was never touched').to.equal(firewallBefore);
  });

  it("cleans up the leftovers of a crashed run whose owner is gone, and not a live run's", async () => {
    // A lab whose owner pid is a process that has already exited: what a crash leaves.
    const child = spawn('true');
    const deadPid = child.pid as number;
    await new Promise((r) => child.on('exit', r));
    const plan = planLab(
      {
        pods: [
          {
            namespace: 'default',
            name: 'a',
            node: 'n1',
            ip: '10.250.1.10',
            ports: [{ port: 80, protocol: 'TCP' }],
          },
        ],
        externals: [],
      },
      newLabId(deadPid),
    );
    const live = await startLab({
      pods: [{ namespace: 'default', name: 'b', node: 'n1', ip: '10.250.2.10', ports: [] }],
    });
    try {
      await buildLab(plan); // hosts without a parent to watch: they would live forever
      expect((await listLabNetns()).filter((n) => n.startsWith(`${plan.id}-`))).to.have.length(
        plan.netns.length,
      );
      const removed = await cleanupStaleLabs();
      expect(removed).to.include(plan.id);
      expect(removed).not.to.include(live.id);
      expect((await listLabNetns()).filter((n) => n.startsWith(`${plan.id}-`))).to.deep.equal([]);
      expect((await listLabNetns()).filter((n) => n.startsWith(`${live.id}-`))).to.have.length(
        live.plan.netns.length,
      );
    } finally {
      await live.down();
      await cleanupStaleLabs();
    }
  });
});
