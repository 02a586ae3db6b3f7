// The conntrack cut leaves the node's own flows alone (issue 13): a connection from the node
// itself (its bridge address, as a kubelet probe or a host-network pod has) to an isolated pod
// never crosses FORWARD, where the rules are, so no policy change may cut it, while a
// pod-to-pod connection the new policy denies is cut. Real packets in the two-node lab, through
// the real render and apply edge, IPv4 and IPv6; the node flow's conntrack entry must be the very
// same one afterwards (a deleted entry is silently re-created by the next packet, so "the flow
// still works" alone would not show it was left alone).
import { expect } from 'chai';
import { nodeAddresses } from '../../operator/dataplane/conntrack-node-addresses.js';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import type { Runner } from '../../operator/dataplane/runner.js';
import { cleanupStaleLabs } from '../lab/build.js';
import type { Lab, LabFlow } from '../support/lab.js';
import { sh, startLab } from '../support/lab.js';
import type { ClusterState } from '../support/lab-cluster.js';
import { LabDataplanes, netpol } from '../support/lab-cluster.js';
import { fixtureCluster, fixtureExternals, fixturePorts, mirror6, N1, pods } from '../support/lab-fixture.js';

function dbFrom(from: NonNullable<NetworkPolicy['spec']['ingress']>): NetworkPolicy {
  return netpol('default', 'db-in', { podSelector: { matchLabels: { role: 'db' } }, ingress: from });
}

/** The conntrack id of the entry with this original source port (undefined: no entry). */
async function entryId(runner: Runner, family: 4 | 6, sport: number): Promise<string | undefined> {
  const out = await sh(
    runner,
    `conntrack -L -f ipv${family} -p tcp --orig-port-src ${sport} -o id 2>/dev/null || true`,
  );
  return /\bid=(\d+)/.exec(out)?.[1];
}

describe('dataplane: the conntrack cut leaves the node’s own flows alone', function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  let planes: LabDataplanes;
  let state: ClusterState;
  const flows: LabFlow[] = [];

  before(async function () {
    this.timeout(60_000);
    await cleanupStaleLabs();
    lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
    planes = await LabDataplanes.open(lab, 'nft');
    state = fixtureCluster();
  });
  after(async () => {
    for (const f of flows.splice(0)) await f.close().catch(() => undefined);
    await lab?.down();
  });

  it('reads the node namespace’s own addresses, both families (no iproute2 needed)', async () => {
    const addresses = await nodeAddresses((lab as Lab).nodeRunner(N1));
    // br0 carries the gateway of the node's pod subnets, IPv4 and IPv6.
    expect(addresses.has('10.244.1.1'), [...addresses].join(' ')).to.equal(true);
    expect(addresses.has(mirror6('10.244.1.1')), [...addresses].join(' ')).to.equal(true);
    expect(addresses.has('10.244.1.10'), 'a pod address is not the node’s').to.equal(false);
  });

  it('a node-local flow to an isolated pod survives a policy change that cuts a pod-to-pod flow', async () => {
    const l = lab as Lab;
    const n1 = l.nodeRunner(N1);
    state.policies = [dbFrom([{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }])];
    await planes.program(state);
    const node: LabFlow[] = [];
    const pod: LabFlow[] = [];
    for (const family of [4, 6] as const) {
      node.push(await l.openFlow('node/n1', pods.db, 6379, 'TCP', 2000, family));
      pod.push(await l.openFlow(pods.fe1, pods.db, 6379, 'TCP', 2000, family));
    }
    flows.push(...node, ...pod);
    const before = await Promise.all(node.map((f, i) => entryId(n1, i === 0 ? 4 : 6, f.localPort)));
    expect(
      before.every((id) => id !== undefined),
      `node flow entries ${before.join(',')}`,
    ).to.equal(true);

    // db now admits prod only: fe1's connections are revoked; the node's are not the rules' to judge.
    state.policies = [dbFrom([{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }])];
    const r = await planes.program(state);
    const cut = r.get(N1)?.conntrack;
    expect(cut?.deleted ?? 0, 'entries deleted on n1').to.be.greaterThanOrEqual(2);
    expect(
      cut?.denied.map((f) => f.src),
      'denied flows on n1',
    ).to.have.members([l.ipOf(pods.fe1, 4), l.ipOf(pods.fe1, 6)]);

    for (const f of pod)
      expect((await f.check(400)).outcome, `${f.from} -> ${f.to} after the cut`).not.to.equal('ok');
    for (const [i, f] of node.entries()) {
      expect((await f.check()).outcome, `${f.from} -> ${f.to} IPv${i === 0 ? 4 : 6}`).to.equal('ok');
      expect(await entryId(n1, i === 0 ? 4 : 6, f.localPort), 'the same conntrack entry').to.equal(before[i]);
    }
  });
});
