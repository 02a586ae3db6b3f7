// IPv6 neighbour discovery through isolation, with real packets on the bridged same-node path
// (the only one where it crosses FORWARD: it is link-scoped, so across nodes a pod only ever
// resolves its node, through INPUT and OUTPUT).
//
// Two pods of a default-deny namespace (isolated both ways) that one rule lets talk on TCP 6379
// must still resolve each other's link-layer address: the kernel solicits from the global address
// of the packet that needs resolving, so the solicitation and the advertisement carry the pods'
// own addresses and meet both pods' isolation. The agent's IPv6 dispatch rules leave out exactly
// ICMPv6 135 and 136 with hop limit 255 (a u32 condition, NEIGHBOUR_DISCOVERY_EXEMPT); the test
// reads the pods' own neighbour-discovery counters, and the control removes the condition and
// shows the same connection cannot even resolve its peer. Router solicitation and advertisement
// (133, 134) are not let through: sent to an isolated pod's address they are dropped, while the
// same packets reach a pod no policy isolates (so the senders work and the drop is isolation's).
import { expect } from 'chai';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import { toolsFor } from '../../operator/dataplane/backend.js';
import { NEIGHBOUR_DISCOVERY_EXEMPT } from '../../operator/dataplane/render.js';
import { netnsRunner, type Runner } from '../../operator/dataplane/runner.js';
import { cleanupStaleLabs } from '../lab/build.js';
import { hostByName } from '../lab/probe.js';
import type { Lab } from '../support/lab.js';
import { sh, startLab } from '../support/lab.js';
import { LabDataplanes, netpol, type ClusterState } from '../support/lab-cluster.js';
import { fixtureCluster, fixtureExternals, fixturePorts, N1, pods } from '../support/lab-fixture.js';

const policies: NetworkPolicy[] = [
  netpol('default', 'closed', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
  netpol('default', 'db-from-frontends', {
    podSelector: { matchLabels: { role: 'db' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] }],
  }),
  netpol('default', 'frontends-to-db', {
    podSelector: { matchLabels: { role: 'frontend' } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 6379 }] }],
  }),
];

/** The IPv6 dispatch rules of a node's STN-FORWARD (the ones that send pods to isolation). */
async function dispatchRules(node: Runner): Promise<string[]> {
  const out = await sh(node, `${toolsFor('nft', 6).save.replace(/-save$/, '')} -S STN-FORWARD`);
  return out.split('\n').filter((l) => l.startsWith('-A STN-FORWARD -m set'));
}

/** An ICMPv6 input counter of a pod (/proc/net/snmp6 of its namespace). */
async function icmp6In(pod: Runner, counter: string): Promise<number> {
  const line = (await sh(pod, 'cat /proc/net/snmp6')).split('\n').find((l) => l.startsWith(`${counter} `));
  if (!line) throw new Error(`${counter} not in /proc/net/snmp6`);
  return Number(line.trim().split(/\s+/)[1]);
}

async function macOf(pod: Runner): Promise<string> {
  const mac = /link\/ether (\S+)/.exec(await sh(pod, 'ip -o link show eth0'))?.[1];
  if (!mac) throw new Error(`${pod.where}: no MAC on eth0`);
  return mac;
}

describe('dataplane: IPv6 neighbour discovery under default-deny (same node)', function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  let planes: LabDataplanes | undefined;
  let state: ClusterState | undefined;
  const l = (): Lab => lab as Lab;
  const inPod = (name: string): Runner => netnsRunner(hostByName(l().plan, name).netns);
  const flushNeighbours = async (...names: string[]): Promise<void> => {
    for (const name of names) await sh(inPod(name), 'ip -6 neigh flush dev eth0');
  };
  const probe6 = async (from: string, to: string, port: number): Promise<string> =>
    (await l().probe([{ from, to, port, protocol: 'TCP', family: 6 }], { confirmTimeoutMs: 2000 }))[0]
      ?.outcome ?? 'none';

  before(async function () {
    this.timeout(60_000);
    await cleanupStaleLabs();
    lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
    planes = await LabDataplanes.open(lab, 'nft');
    state = fixtureCluster();
    state.policies = policies;
    await planes.program(state);
  });
  after(async () => {
    await lab?.down();
  });

  it('two isolated pods resolve each other (NS/NA never enter isolation) and connect on the allowed port', async () => {
    const node = l().nodeRunner(N1);
    const dispatch = await dispatchRules(node);
    expect(
      dispatch,
      'both pods are isolated: an egress and an ingress dispatch rule',
    ).to.have.length.greaterThan(1);
    for (const rule of dispatch)
      expect(rule, 'exempt exactly ICMPv6 135-136 at hop limit 255').to.include(NEIGHBOUR_DISCOVERY_EXEMPT);

    await flushNeighbours(pods.fe1, pods.db);
    const fe1 = inPod(pods.fe1);
    const db = inPod(pods.db);
    const solicitsBefore = await icmp6In(db, 'Icmp6InNeighborSolicits');
    const advertsBefore = await icmp6In(fe1, 'Icmp6InNeighborAdvertisements');
    expect(await probe6(pods.fe1, pods.db, 6379), 'fe1 -> db, TCP 6379 over IPv6').to.equal('ok');
    // fe1's solicitation (from its own address, egress-isolated) reached db (ingress-isolated),
    // and db's advertisement came back.
    expect(await icmp6In(db, 'Icmp6InNeighborSolicits'), 'NS reached db').to.be.greaterThan(solicitsBefore);
    expect(await icmp6In(fe1, 'Icmp6InNeighborAdvertisements'), 'NA reached fe1').to.be.greaterThan(
      advertsBefore,
    );
    const db6 = l().ipOf(pods.db, 6);
    expect(await sh(fe1, `ip -6 neigh show ${db6} dev eth0`), 'fe1 learned db').to.match(/lladdr /);

    // Isolation still holds on the same path: what no rule allows stays refused.
    expect(await probe6(pods.db, pods.fe1, 80), 'db -> fe1 (db may reach no one)').to.not.equal('ok');
    expect(await probe6(pods.fe1, pods.db, 80), 'fe1 -> db on another port').to.not.equal('ok');
  });

  it('control: without the exemption the same pods cannot even resolve each other; a resync restores it', async () => {
    const node = l().nodeRunner(N1);
    const ip6tables = toolsFor('nft', 6).save.replace(/-save$/, '');
    const all = (await sh(node, `${ip6tables} -S STN-FORWARD`))
      .split('\n')
      .filter((l) => l.startsWith('-A '));
    for (const [i, rule] of all.entries()) {
      if (!rule.includes(NEIGHBOUR_DISCOVERY_EXEMPT)) continue;
      const bare = rule.replace(` ${NEIGHBOUR_DISCOVERY_EXEMPT}`, '').replace(/^-A STN-FORWARD /, '');
      await sh(node, `${ip6tables} -R STN-FORWARD ${i + 1} ${bare}`);
    }
    expect((await dispatchRules(node)).join('\n')).to.not.include('u32');
    await flushNeighbours(pods.fe1, pods.db);
    expect(await probe6(pods.fe1, pods.db, 6379), 'fe1 -> db without ND through isolation').to.not.equal(
      'ok',
    );
    expect(await sh(inPod(pods.fe1), `ip -6 neigh show ${l().ipOf(pods.db, 6)} dev eth0`)).to.not.match(
      /lladdr /,
    );

    // The periodic full sync re-reads the node and repairs the rewritten rules.
    await (planes as LabDataplanes).program(state as ClusterState, { full: true });
    for (const rule of await dispatchRules(node)) expect(rule).to.include(NEIGHBOUR_DISCOVERY_EXEMPT);
    await flushNeighbours(pods.fe1, pods.db);
    expect(await probe6(pods.fe1, pods.db, 6379), 'fe1 -> db after the resync').to.equal('ok');
  });

  it('router solicitation and advertisement to or from an isolated pod are dropped; a pod no policy isolates gets them', async () => {
    // Senders: web1 (dev: no policy) and fe1 (egress-isolated), all on n1's bridge with db
    // (ingress-isolated) and api1 (prod: no policy).
    const web1 = inPod(pods.web1);
    const fe1 = inPod(pods.fe1);
    const db = inPod(pods.db);
    const api1 = inPod(pods.api1);
    const db6 = l().ipOf(pods.db, 6);
    const api16 = l().ipOf(pods.api1, 6);
    // ra6 (ipv6toolkit) sends one advertisement, hop limit 255, from the given source to the
    // given address and MAC; router lifetime 0 and no prefix, so a receiver changes no route.
    const ra = async (from: Runner, src: string, to: string, mac: string): Promise<void> => {
      await sh(from, `ra6 -i eth0 -s ${src} -d ${to} -D ${mac} -t 0`);
    };
    // rdisc6 (ndisc6) sends one router solicitation to the given address (kernel-chosen source:
    // the pod's own global address), hop limit 255; nobody answers, so it ends with "no response".
    const rs = async (from: Runner, to: string): Promise<void> => {
      await from.run(['rdisc6', '-1', '-r', '1', '-w', '300', to, 'eth0']);
    };
    const counts = async (): Promise<number[]> => [
      await icmp6In(db, 'Icmp6InRouterAdvertisements'),
      await icmp6In(api1, 'Icmp6InRouterAdvertisements'),
      await icmp6In(db, 'Icmp6InRouterSolicits'),
      await icmp6In(api1, 'Icmp6InRouterSolicits'),
    ];
    const [dbMac, apiMac] = [await macOf(db), await macOf(api1)];
    const before = await counts();

    const fe16 = l().ipOf(pods.fe1, 6);
    await ra(web1, 'fe80::99', db6, dbMac); // to an ingress-isolated pod's address: dropped
    await ra(web1, 'fe80::99', api16, apiMac); // control: arrives
    await ra(fe1, fe16, api16, apiMac); // from an egress-isolated pod's address: dropped
    await rs(web1, db6); // dropped
    await rs(web1, api16); // control: arrives
    await rs(fe1, api16); // from fe1's address: dropped
    const after = await counts();
    expect(
      after.map((n, i) => n - (before[i] ?? 0)),
      'RAs to db, to api1 (one of two senders isolated), RSs to db, to api1 (idem)',
    ).to.deep.equal([0, 1, 0, 1]);

    // What isolation does not see: an advertisement from a link-local address to all nodes
    // (the form a real one takes) carries no pod address, so no pod's policy applies to it.
    await ra(web1, 'fe80::99', 'ff02::1', '33:33:00:00:00:01');
    expect((await icmp6In(db, 'Icmp6InRouterAdvertisements')) - (after[0] ?? 0)).to.equal(1);
  });
});
