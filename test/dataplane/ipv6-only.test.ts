// IPv6-only pods beside dual-stack and IPv4-only ones, with real packets on the bridged
// same-node and routed cross-node paths: an IPv6-only pod is isolated and reached by its one
// address, an IPv6-only peer is allowed by a podSelector, an IPv6 ipBlock with except admits
// exactly its addresses, and an IPv4-only pod selected by the same policy is isolated in IPv4
// alone (an IPv6-only peer has nothing to offer it).
import { expect } from 'chai';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import { cleanupStaleLabs } from '../lab/build.js';
import type { Lab, ProbeCell } from '../support/lab.js';
import { allCells, expectMatrix, pathsCovered, startLab } from '../support/lab.js';
import { ClusterState, LabDataplanes, netpol, ns, pod } from '../support/lab-cluster.js';
import { ports } from '../support/lab-fixture.js';

const { tcp, udp } = ports;
const N1 = 'n1';
const N2 = 'n2';

const hosts = {
  db6: 'default/db6', // IPv6-only, role=db, n1
  fe1: 'default/fe1', // dual-stack, role=frontend, n1
  x1: 'other/x1', // IPv6-only, n1
  db4: 'default/db4', // IPv4-only, role=db, n2
  fe6: 'default/fe6', // IPv6-only, role=frontend, n2
  x2: 'other/x2', // dual-stack, n2
} as const;
const v6Hosts: string[] = [hosts.db6, hosts.fe1, hosts.x1, hosts.fe6, hosts.x2];
const v4Hosts: string[] = [hosts.fe1, hosts.db4, hosts.x2];

function cluster(): ClusterState {
  return new ClusterState(
    [ns('default'), ns('other')],
    [
      pod('default', 'db6', N1, 'fd00:10:244:1::10', { role: 'db' }),
      pod('default', 'fe1', N1, '10.244.1.11', { role: 'frontend' }, [], { ip6: 'fd00:10:244:1::11' }),
      pod('other', 'x1', N1, 'fd00:10:244:1::12'),
      pod('default', 'db4', N2, '10.244.2.10', { role: 'db' }),
      pod('default', 'fe6', N2, 'fd00:10:244:2::11', { role: 'frontend' }),
      pod('other', 'x2', N2, '10.244.2.12', {}, [], { ip6: 'fd00:10:244:2::12' }),
    ],
  );
}
const servePorts = [tcp(80), tcp(6379), udp(53)];

const dbIn: NetworkPolicy = netpol('default', 'db-in', {
  podSelector: { matchLabels: { role: 'db' } },
  ingress: [
    { from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] },
    // n2's IPv6 pod subnet but x2: fe6 only, and only on 80; nothing of it is IPv4.
    {
      from: [{ ipBlock: { cidr: 'fd00:10:244:2::/64', except: ['fd00:10:244:2::12/128'] } }],
      ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }],
    },
  ],
});

describe('dataplane: IPv6-only pods (isolated, peers, ipBlock), beside dual-stack and IPv4-only', function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  let planes: LabDataplanes;

  before(async function () {
    this.timeout(60_000);
    await cleanupStaleLabs();
    lab = await startLab(cluster().labSpec([], servePorts));
    planes = await LabDataplanes.open(lab, 'nft');
  });
  after(async () => {
    await lab?.down();
  });

  const probeAll = async (l: Lab, expected: (c: ProbeCell) => boolean, label: string): Promise<void> => {
    const cells = [
      ...allCells(v6Hosts, v6Hosts, servePorts, [6]),
      ...allCells(v4Hosts, v4Hosts, servePorts, [4]),
    ];
    const results = await l.probe(cells);
    expectMatrix(l, results, expected, label);
    const paths = pathsCovered(l, results);
    for (const p of ['same-node', 'cross-node'] as const) expect(paths[p].allowed, p).to.be.greaterThan(0);
  };

  it('without a policy every pod reaches every other in each family it has', async () => {
    const l = lab as Lab;
    expect(l.plan.hosts.find((h) => h.name === hosts.db6)?.ip, 'db6 has no IPv4 address').to.equal(undefined);
    await probeAll(l, () => true, 'open');
  });

  it('isolates the IPv6-only pod by its one address and allows exactly its IPv6 peers', async () => {
    const l = lab as Lab;
    const state = cluster();
    state.policies = [dbIn];
    await planes.program(state);
    const frontend: string[] = [hosts.fe1, hosts.fe6];
    await probeAll(
      l,
      (c) => {
        if (c.to !== hosts.db6 && c.to !== hosts.db4) return true;
        if (frontend.includes(c.from) && c.port === 6379 && c.protocol === 'TCP') return true;
        // The IPv6 ipBlock: fe6 (inside, not excepted) on 80/TCP and 53/UDP, in IPv6 only.
        return c.family === 6 && c.from === hosts.fe6 && (c.port === 80 || c.port === 53);
      },
      'db-in',
    );
  });
});
