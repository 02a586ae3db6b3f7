// Changes over time on the two-node lab, programmed by the real render and apply edge:
// a policy update, a pod relabel and a namespace relabel change the matrix; open TCP
// connections and UDP flows stop when a change revokes them (conntrack), while allowed ones
// live on; drift is repaired by a resync; foreign rules survive every apply; after cleanup
// nothing of the agent's is left. Both backends; every pod is dual-stack and the matrices and
// flows are checked over IPv4 and IPv6 (iptables and ip6tables).
import { expect } from 'chai';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import { NodeDataplane } from '../../operator/dataplane/node-dataplane.js';
import type { IptablesBackend } from '../../operator/dataplane/backend.js';
import { toolsFor } from '../../operator/dataplane/backend.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import { cleanupStaleLabs } from '../lab/build.js';
import type { Lab, LabFlow, ProbeCell } from '../support/lab.js';
import { allCells, expectMatrix, sh, startLab } from '../support/lab.js';
import type { ClusterState } from '../support/lab-cluster.js';
import { foreignLines, LabDataplanes, netpol } from '../support/lab-cluster.js';
import {
  allExternals,
  allPods,
  fixtureCluster,
  fixtureExternals,
  fixturePorts,
  inSet,
  N1,
  N2,
  nsOf,
  pods,
  ports,
} from '../support/lab-fixture.js';

const { tcp, udp } = ports;
const db = inSet(pods.db, pods.db2);

function dbFrom(from: NetworkPolicy['spec']['ingress'], name = 'db-in'): NetworkPolicy {
  return netpol('default', name, { podSelector: { matchLabels: { role: 'db' } }, ingress: from ?? [] });
}

async function installForeign(lab: Lab, backend: IptablesBackend): Promise<void> {
  const ipt = `iptables-${backend}`;
  for (const node of [N1, N2]) {
    // A rule in FORWARD before the agent ever ran, a foreign chain jumped to from FORWARD, and
    // (below, after the first apply) one inserted at the top after the agent's hook.
    await sh(
      lab.nodeRunner(node),
      `${ipt} -A FORWARD -s 192.0.2.0/24 -j DROP && ${ipt} -N FOREIGN && ${ipt} -A FOREIGN -d 198.51.100.0/24 -j DROP && ${ipt} -A FORWARD -j FOREIGN`,
    );
  }
}

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`dataplane: changes, conntrack, drift, foreign rules and cleanup (${backend})`, function () {
    this.timeout(120_000);
    let lab: Lab | undefined;
    let planes: LabDataplanes;
    let state: ClusterState;
    const foreign = new Map<string, string[]>();
    const flows: LabFlow[] = [];

    const matrix = async (
      cells: ProbeCell[],
      expected: (c: ProbeCell) => boolean,
      label: string,
    ): Promise<void> => {
      const l = lab as Lab;
      expectMatrix(l, await l.probe(cells), expected, label);
    };
    const intoDb = (p = [tcp(6379)]): ProbeCell[] =>
      allCells([...allPods, ...allExternals], [pods.db, pods.db2], p, [4, 6]);

    before(async function () {
      this.timeout(60_000);
      await cleanupStaleLabs();
      lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
      await installForeign(lab, backend);
      planes = await LabDataplanes.open(lab, backend);
      state = fixtureCluster();
      state.policies = [
        dbFrom([{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] }]),
      ];
      await planes.program(state);
      for (const node of [N1, N2]) {
        await sh(lab.nodeRunner(node), `iptables-${backend} -I FORWARD 1 -d 203.0.113.0/24 -j DROP`);
        foreign.set(node, foreignLines(await planes.save(node)));
      }
    });
    afterEach(async () => {
      for (const f of flows.splice(0)) await f.close().catch(() => undefined);
      // Every apply of every test left the foreign rules exactly as they were.
      for (const node of [N1, N2])
        expect(foreignLines(await planes.save(node)), `foreign rules on ${node}`).to.deep.equal(
          foreign.get(node),
        );
    });
    after(async () => {
      await lab?.down();
    });

    it('a policy update changes the matrix', async () => {
      await matrix(
        intoDb([tcp(6379), tcp(80)]),
        (c) => (db(c.to) ? [pods.fe1, pods.fe2].includes(c.from as 'default/fe1') && c.port === 6379 : true),
        'v1',
      );
      state.policies = [
        dbFrom([{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 80 }] }]),
      ];
      const r = await planes.program(state);
      expect(r.get(N1)?.apply.chainsRewritten.length, 'only the policy chain changes').to.equal(1);
      await matrix(
        intoDb([tcp(6379), tcp(80)]),
        (c) => (db(c.to) ? nsOf(c.from) === 'dev' && c.port === 80 : true),
        'v2',
      );
    });

    it('a pod relabel changes the matrix (peer and target)', async () => {
      state.policies = [dbFrom([{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }])];
      await planes.program(state);
      await matrix(intoDb(), (c) => (db(c.to) ? c.from === pods.fe1 || c.from === pods.fe2 : true), 'before');
      state.relabelPod(pods.fe1, { role: 'backend' }); // no longer a peer
      state.relabelPod(pods.db2, { role: 'cache' }); // no longer selected: open to all
      const r = await planes.program(state);
      expect(r.get(N1)?.apply.iptablesLines, 'a relabel changes set members, not rules, on n1').to.equal(0);
      await matrix(intoDb(), (c) => (c.to === pods.db ? c.from === pods.fe2 : true), 'after');
      state.relabelPod(pods.fe1, { role: 'frontend' });
      state.relabelPod(pods.db2, { role: 'db' });
    });

    it('a pod that finishes leaves the peer set, and comes back when it runs again (set members only)', async () => {
      state.policies = [dbFrom([{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }])];
      await planes.program(state);
      await matrix(intoDb(), (c) => (db(c.to) ? c.from === pods.fe1 || c.from === pods.fe2 : true), 'before');
      state.setPodPhase(pods.fe1, 'Succeeded');
      const r = await planes.program(state);
      // The agent's renderer makes this change from its previous result; no rule is rewritten.
      expect([...planes.lastModes.values()], 'render modes').to.deep.equal(['pods', 'pods']);
      for (const node of [N1, N2])
        expect(r.get(node)?.apply.iptablesLines, `rule lines on ${node}`).to.equal(0);
      await matrix(intoDb(), (c) => (db(c.to) ? c.from === pods.fe2 : true), 'fe1 finished');
      state.setPodPhase(pods.fe1, 'Running');
      await planes.program(state);
      expect([...planes.lastModes.values()], 'render modes').to.deep.equal(['pods', 'pods']);
      await matrix(
        intoDb(),
        (c) => (db(c.to) ? c.from === pods.fe1 || c.from === pods.fe2 : true),
        'fe1 running',
      );
    });

    it('a namespace relabel changes the matrix', async () => {
      state.policies = [
        dbFrom([{ from: [{ namespaceSelector: { matchLabels: { project: 'myproject' } } }] }]),
      ];
      await planes.program(state);
      await matrix(intoDb(), (c) => (db(c.to) ? nsOf(c.from) === 'prod' : true), 'before');
      state.relabelNamespace('dev', { team: 'b', project: 'myproject' });
      state.relabelNamespace('prod', { team: 'a' });
      await planes.program(state);
      await matrix(intoDb(), (c) => (db(c.to) ? nsOf(c.from) === 'dev' : true), 'after');
      state.relabelNamespace('dev', { team: 'b' });
      state.relabelNamespace('prod', { team: 'a', project: 'myproject' });
    });

    it('open TCP connections and UDP flows stop when a change revokes them; allowed ones live on', async () => {
      const l = lab as Lab;
      const frontends = {
        from: [{ podSelector: { matchLabels: { role: 'frontend' } } }],
        ports: [{ port: 6379 }, { protocol: 'UDP' as const, port: 6379 }],
      };
      const prod = { from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }], ports: [{ port: 6379 }] };
      state.policies = [dbFrom([frontends, prod])];
      await planes.program(state);
      const open = async (): Promise<LabFlow[]> => {
        const opened: LabFlow[] = [];
        for (const family of [4, 6] as const) {
          opened.push(
            await l.openFlow(pods.fe1, pods.db, 6379, 'TCP', 2000, family), // same node
            await l.openFlow(pods.fe2, pods.db, 6379, 'TCP', 2000, family), // cross node
            await l.openFlow(pods.fe1, pods.db, 6379, 'UDP', 2000, family),
            await l.openFlow(pods.fe2, pods.db, 6379, 'UDP', 2000, family),
          );
        }
        flows.push(...opened);
        return opened;
      };
      const control = await l.openFlow(pods.api2, pods.db, 6379, 'TCP'); // stays allowed
      const control6 = await l.openFlow(pods.api2, pods.db, 6379, 'TCP', 2000, 6);
      flows.push(control, control6);
      const revoked = await open();

      // Revoke without cutting: new connections are refused, but the open ones keep going on
      // ESTABLISHED — which is exactly why the cut is needed.
      state.policies = [dbFrom([prod])];
      await planes.program(state, { cutFlows: false });
      await matrix(
        allCells([pods.fe1, pods.fe2], [pods.db], [tcp(6379), udp(6379)], [4, 6]),
        () => false,
        'new connections after revoke',
      );
      for (const f of revoked)
        expect((await f.check()).outcome, `${f.id} ${f.from} ${f.protocol} before the cut`).to.equal('ok');

      // The agent's way: the same change with the cut.
      state.policies = [dbFrom([frontends, prod])];
      await planes.program(state);
      for (const f of revoked) await f.close();
      const again = await open();
      for (const f of again)
        expect((await f.check()).outcome, `${f.from} ${f.protocol} reopened`).to.equal('ok');
      state.policies = [dbFrom([prod])];
      const r = await planes.program(state);
      // Four flows of each family (TCP and UDP, same node and cross node) pass n1, where db is.
      expect(r.get(N1)?.conntrack?.deleted ?? 0, 'entries deleted on n1').to.be.greaterThanOrEqual(8);
      for (const f of again)
        expect(
          (await f.check(400)).outcome,
          `${f.id} ${f.from} -> ${f.to} ${f.protocol} after the cut`,
        ).not.to.equal('ok');
      expect((await control.check()).outcome, 'the still-allowed connection').to.equal('ok');
      expect((await control6.check()).outcome, 'the still-allowed IPv6 connection').to.equal('ok');
    });

    it('a resync repairs drift: a flushed chain, a deleted hook, a destroyed set', async () => {
      const l = lab as Lab;
      state.policies = [dbFrom([{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }])];
      await planes.program(state);
      const expected = (c: ProbeCell): boolean =>
        db(c.to) ? c.from === pods.fe1 || c.from === pods.fe2 : true;
      await matrix(intoDb(), expected, 'enforced');
      const ipt = `iptables-${backend}`;
      const n1 = l.nodeRunner(N1);
      await sh(n1, `${ipt} -F STN-FORWARD`);
      await matrix(
        intoDb(),
        // iptables only: IPv6 is another table and stays enforced.
        (c) => (c.to === pods.db && c.family !== 6 ? true : expected(c)),
        'after someone flushed STN-FORWARD on n1',
      );
      await planes.program(state, { full: true });
      await matrix(intoDb(), expected, 'after the resync');

      const hook = (await planes.save(N1))
        .split('\n')
        .find((x) => x.startsWith('-A FORWARD') && x.includes('softtenant')) as string;
      const set = renderNode(state, N1).ruleset.ipsets.find((s) => s.name.startsWith('stn-p-'))
        ?.name as string;
      // The set can only go once nothing uses it: flush the agent's chains first, as a careless
      // `iptables -F` would.
      const chains = renderNode(state, N1).ruleset.chains.map((c) => c.name);
      await sh(
        n1,
        `${ipt} ${hook.replace('-A FORWARD', '-D FORWARD')} && ${chains.map((c) => `${ipt} -F ${c}`).join(' && ')} && ipset destroy ${set}`,
      );
      await matrix(
        intoDb(),
        (c) => (c.to === pods.db && c.family !== 6 ? true : expected(c)),
        'after hook and set were deleted on n1',
      );
      await planes.program(state, { full: true });
      await matrix(intoDb(), expected, 'after the second resync');

      // The same in ip6tables: a flushed chain opens IPv6 only, and a resync closes it again.
      await sh(n1, `ip6tables-${backend} -F STN-FORWARD`);
      await matrix(
        intoDb(),
        (c) => (c.to === pods.db && c.family === 6 ? true : expected(c)),
        'after someone flushed the IPv6 STN-FORWARD on n1',
      );
      await planes.program(state, { full: true });
      await matrix(intoDb(), expected, 'after the IPv6 resync');
      expect(
        (await planes.save(N1))
          .split('\n')
          .filter((x) => x.startsWith('-A FORWARD') && x.includes('softtenant')),
      ).to.have.length(1);
    });

    it('an agent restart finds the programmed state and rewrites nothing', async () => {
      const l = lab as Lab;
      for (const node of [N1, N2]) {
        const fresh = await NodeDataplane.open(l.nodeRunner(node), backend);
        const r = await fresh.apply(renderNode(state, node), { full: true });
        expect(r.apply, node).to.include({ mode: 'resync', iptablesLines: 0, ipsetLines: 0 });
        expect(r.apply6, `${node} IPv6`).to.include({ mode: 'resync', iptablesLines: 0, ipsetLines: 0 });
      }
    });

    it('after cleanup nothing of the agent is left, the foreign rules are, and everything flows again', async () => {
      const l = lab as Lab;
      await planes.cleanup();
      for (const node of [N1, N2]) {
        const runner = l.nodeRunner(node);
        for (const b of ['nft', 'legacy'] as IptablesBackend[]) {
          for (const family of [4, 6] as const) {
            expect(
              await sh(runner, `${toolsFor(b, family).save} -t filter`),
              `${b} IPv${family} on ${node}`,
            ).not.to.match(/STN-|softtenant/);
          }
        }
        expect(await sh(runner, 'ipset list -n'), `ipsets on ${node}`).not.to.match(/stn-/);
      }
      await matrix(intoDb([tcp(6379), udp(6379)]), () => true, 'after cleanup');
    });
  });
}
