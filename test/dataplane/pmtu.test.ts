// Path MTU discovery through isolation, with real packets: an isolated pod answers an allowed
// peer on another node with segments too big for the last hop (the peer's node forwards to the
// peer over a route with a locked, smaller MTU). That node sends the isolated pod an ICMPv6
// Packet Too Big (IPv6) or an ICMP fragmentation-needed (IPv4) from its own address, which no
// policy allows; the pod's node must let it through as RELATED to the allowed flow, or the
// connection stalls (a PMTU black hole). The control shows the exchange really depends on it:
// the same exchange with that ICMP dropped in the pod's node never completes.
import { expect } from 'chai';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import { cleanupStaleLabs } from '../lab/build.js';
import { hostByName } from '../lab/probe.js';
import type { Lab, LabFlow } from '../support/lab.js';
import { sh, startLab } from '../support/lab.js';
import { LabDataplanes, netpol } from '../support/lab-cluster.js';
import { fixtureCluster, fixtureExternals, fixturePorts, N1, N2, pods } from '../support/lab-fixture.js';
import { netnsRunner } from '../../operator/dataplane/runner.js';

/** The locked MTU of the last hop: below the 1500 of every lab link, at least IPv6's minimum. */
const HOP_MTU = { 4: 1000, 6: 1280 } as const;
/** Request and echoed reply of this many bytes: several full-size segments. */
const PAD = 8000;

const dbFromFrontends: NetworkPolicy = netpol('default', 'db-in', {
  podSelector: { matchLabels: { role: 'db' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] }],
});

/** The ICMP error a too-small hop sends, as a foreign rule of the node's firewall (the control). */
const icmpError = {
  4: 'iptables-nft %s FORWARD -p icmp --icmp-type fragmentation-needed -j DROP',
  6: 'ip6tables-nft %s FORWARD -p icmpv6 --icmpv6-type packet-too-big -j DROP',
} as const;

describe('dataplane: path MTU discovery reaches an isolated pod (ICMP errors, both families)', function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  const flows: LabFlow[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async function () {
    this.timeout(60_000);
    await cleanupStaleLabs();
    lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
    const planes = await LabDataplanes.open(lab, 'nft');
    const state = fixtureCluster();
    state.policies = [dbFromFrontends];
    await planes.program(state);
  });
  afterEach(async () => {
    for (const f of flows.splice(0)) await f.close().catch(() => undefined);
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  after(async () => {
    await lab?.down();
  });

  for (const family of [4, 6] as const) {
    const ipFlag = family === 6 ? '-6' : '-4';
    it(`IPv${family}: the peer's node's ${family === 6 ? 'Packet Too Big' : 'fragmentation-needed'} gets through, the big reply arrives; dropped, it stalls`, async () => {
      const l = lab as Lab;
      const db = hostByName(l.plan, pods.db); // isolated, on N1
      const peer = l.ipOf(pods.fe2, family); // allowed, on N2: the cross-node path
      const dbNode = l.nodeRunner(N1);
      const peerNode = l.nodeRunner(N2);
      const inDb = netnsRunner(db.netns);
      const flush = (): Promise<string> => sh(inDb, `ip ${ipFlag} route flush cache`);

      // Isolation holds: a pod no rule allows is refused.
      const refused = await l.probe([{ from: pods.api2, to: pods.db, port: 6379, protocol: 'TCP', family }]);
      expect(refused[0]?.outcome, 'api2 -> db (no rule allows it)').to.not.equal('ok');

      // The last hop to the peer: a more specific route on the peer's node with a locked MTU, so
      // that node (a router on the path) must send the ICMP error when it forwards to the peer.
      const dev = /\bdev (\S+)/.exec(await sh(peerNode, `ip ${ipFlag} route get ${peer}`))?.[1];
      expect(dev, `route to ${peer} on ${N2}`).to.be.a('string');
      const hostLen = family === 6 ? 128 : 32;
      await sh(peerNode, `ip ${ipFlag} route add ${peer}/${hostLen} dev ${dev} mtu lock ${HOP_MTU[family]}`);
      cleanups.push(() => sh(peerNode, `ip ${ipFlag} route del ${peer}/${hostLen}`));
      await flush();

      const flow = await l.openFlow(pods.fe2, pods.db, 6379, 'TCP', 3000, family);
      flows.push(flow);
      expect((await flow.check(5000, PAD)).outcome, 'a large reply from the isolated pod').to.equal('ok');
      // The error reached the pod: its kernel learned the smaller path MTU towards the peer.
      expect(await sh(inDb, `ip ${ipFlag} route get ${peer}`), 'path MTU learned by db').to.match(
        new RegExp(`\\bmtu ${HOP_MTU[family]}\\b`),
      );

      // The control: the same exchange with that error dropped in db's node never completes.
      await sh(dbNode, icmpError[family].replace('%s', '-I'));
      cleanups.push(() => sh(dbNode, icmpError[family].replace('%s', '-D')));
      await flush();
      const stalled = await l.openFlow(pods.fe2, pods.db, 6379, 'TCP', 3000, family);
      flows.push(stalled);
      expect((await stalled.check(4000, PAD)).outcome, 'the same reply without the ICMP error').to.equal(
        'timeout',
      );
    });
  }
});
