import { expect } from 'chai';
import { LabSpecError, planLab } from '../lab/plan.js';
import { labPodsFromSnapshot, parseExternal, parsePort } from '../lab/snapshot.js';
import type { LabSpec } from '../lab/spec.js';
import { pod } from '../support/lab-cluster.js';

const spec: LabSpec = {
  pods: [
    { namespace: 'a', name: 'p1', node: 'n1', ip: '10.244.1.1', ports: [{ port: 80, protocol: 'TCP' }] },
    { namespace: 'a', name: 'p2', node: 'n1', ip: '10.244.1.7', ports: [{ port: 53, protocol: 'UDP' }] },
    { namespace: 'b', name: 'p3', node: 'n2', ip: '10.244.2.7', ports: [] },
  ],
  externals: [{ name: 'x', ip: '172.17.1.5', node: 'n2' }],
  servePorts: [{ port: 6379, protocol: 'TCP' }],
};

describe('lab plan', () => {
  const plan = planLab(spec, 'stlab-1-abc');

  it('gives each node a bridge with a free gateway on its pod subnet', () => {
    expect(plan.nodes.map((n) => [n.name, n.netns, n.subnets])).to.deep.equal([
      ['n1', 'stlab-1-abc-n0', [{ cidr: '10.244.1.0/24', gateway: '10.244.1.254' }]], // .1 is a pod
      ['n2', 'stlab-1-abc-n1', [{ cidr: '10.244.2.0/24', gateway: '10.244.2.1' }]],
    ]);
  });

  it('creates every veth from a node namespace straight into another lab namespace', () => {
    const adds = plan.phases
      .flat()
      .flatMap((s) => s.ip.filter((l) => l.startsWith('link add') && l.includes('veth')));
    expect(adds).to.have.length(3 + 2 + 1); // pods, fabric links, external
    for (const l of adds) expect(l, l).to.match(/ netns stlab-1-abc-(p\d+|x\d+|fab)$/);
  });

  it('routes pod subnets and external hosts between nodes, and nothing else', () => {
    const n1 = plan.phases[0]?.find((s) => s.netns === 'stlab-1-abc-n0');
    expect(n1?.ip.filter((l) => l.startsWith('route'))).to.deep.equal([
      'route add 10.244.2.0/24 via 169.254.100.2 dev fab0',
      'route add 172.17.1.5/32 via 169.254.100.2 dev fab0',
    ]);
    expect(n1?.sysctl).to.include('net.bridge.bridge-nf-call-iptables=1');
    expect(n1?.sysctl).to.include('net.ipv4.ip_forward=1');
    const p1 = plan.phases[1]?.find((s) => s.netns === 'stlab-1-abc-p0');
    expect(p1?.ip).to.include('route add default via 10.244.1.254 dev eth0');
  });

  it('serves the pod ports plus the common ones on every host', () => {
    const byName = new Map(plan.hosts.map((h) => [h.name, h]));
    expect(byName.get('a/p1')).to.deep.include({ tcp: [80, 6379], udp: [] });
    expect(byName.get('a/p2')).to.deep.include({ tcp: [6379], udp: [53] });
    expect(byName.get('ext/x')).to.deep.include({ ip: '172.17.1.5', node: 'n2', tcp: [6379] });
    expect(byName.get('node/n2')).to.deep.include({ ip: '10.244.2.1', kind: 'node' });
  });

  it('refuses specs the wiring cannot honour', () => {
    const bad: [LabSpec, RegExp][] = [
      [
        { pods: [spec.pods[0], { ...spec.pods[2], ip: '10.244.1.9' }] },
        /10\.244\.1\.0\/24 has pods on nodes n1 and n2/,
      ],
      [{ pods: [spec.pods[0], { ...spec.pods[1], ip: '10.244.1.1' }] }, /both have IP 10\.244\.1\.1/],
      [
        { pods: [spec.pods[0]], externals: [{ name: 'x', ip: '10.244.1.99', node: 'n1' }] },
        /lies in pod subnet/,
      ],
      [{ pods: [] }, /at least one node/],
    ];
    for (const [s, re] of bad) expect(() => planLab(s, 'stlab-1-abc'), String(re)).to.throw(LabSpecError, re);
  });
});

describe('lab snapshot input', () => {
  it('takes running pods with an IP (IPv6-only ones too) and a node; skips hostNetwork, finished and IP-less pods', () => {
    const pods = [
      pod('a', 'run', 'n1', '10.244.1.5', {}, [
        { containerPort: 53, protocol: 'UDP' },
        { containerPort: 80 },
      ]),
      pod('a', 'host', 'n1', '192.168.0.1', {}, [], { hostNetwork: true }),
      pod('a', 'done', 'n1', '10.244.1.6', {}, [], { phase: 'Succeeded' }),
      pod('a', 'noip', 'n1', '', {}, [], { noIP: true, phase: 'Pending' }),
      pod('a', 'v6', 'n1', 'fd00:10:244:1::7'),
    ];
    expect(labPodsFromSnapshot(pods)).to.deep.equal([
      {
        namespace: 'a',
        name: 'run',
        node: 'n1',
        ip: '10.244.1.5',
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 80, protocol: 'TCP' },
        ],
      },
      { namespace: 'a', name: 'v6', node: 'n1', ip6: 'fd00:10:244:1::7', ports: [] },
    ]);
  });
  it('parses the CLI flags', () => {
    expect(parseExternal('x1=172.17.1.5@n1')).to.deep.equal({ name: 'x1', ip: '172.17.1.5', node: 'n1' });
    expect(parsePort('udp/53')).to.deep.equal({ port: 53, protocol: 'UDP' });
    expect(parsePort('80')).to.deep.equal({ port: 80, protocol: 'TCP' });
    expect(() => parsePort('tcp/0')).to.throw(/expected/);
    expect(() => parseExternal('x1=172.17.1.5')).to.throw(/NAME=IP@NODE/);
  });
});
