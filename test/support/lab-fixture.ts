// The two-node cluster the dataplane tests probe: four namespaces with pods on both nodes (so
// every relation is seen on the bridged same-node path and the routed cross-node path) and
// non-pod hosts for ipBlock cases. Named ports differ per pod on purpose. Every pod and host is
// dual-stack: its IPv6 address mirrors the IPv4 one (10.244.1.10 -> fd00:10:244:1::10, see
// mirror6), so a /16 maps to a /48 and a /24 to a /64 and one expectation serves both families.
import type { ProbeCell } from '../lab/probe.js';
import type { LabExternalSpec, LabPort } from '../lab/spec.js';
import { ClusterState, ns, pod } from './lab-cluster.js';

export const N1 = 'n1';
export const N2 = 'n2';

/** The IPv6 address the fixture gives a host with this IPv4 address: fd00:a:b:c::d (digits as written). */
export function mirror6(ip: string): string {
  const [a, b, c, d] = ip.split('.');
  return `fd00:${a}:${b}:${c}::${d}`.replace(':0:0::', '::');
}

/** A fixture pod: dual-stack, its IPv6 address mirroring the IPv4 one. */
function dualPod(...args: Parameters<typeof pod>): ReturnType<typeof pod> {
  const [namespace, name, node, ip, labels, ports, extra] = args;
  return pod(namespace, name, node, ip, labels, ports, { ...extra, ip6: mirror6(ip) });
}

export function fixtureCluster(): ClusterState {
  return new ClusterState(
    [ns('default'), ns('prod', { team: 'a', project: 'myproject' }), ns('dev', { team: 'b' }), ns('ops')],
    [
      dualPod('default', 'db', N1, '10.244.1.10', { role: 'db' }, [
        { name: 'redis', containerPort: 6379 },
        { name: 'http', containerPort: 80 },
      ]),
      dualPod('default', 'fe1', N1, '10.244.1.11', { role: 'frontend' }, [
        { name: 'http', containerPort: 80 },
      ]),
      dualPod('prod', 'api1', N1, '10.244.1.12', { app: 'api' }, [{ name: 'http', containerPort: 8080 }]),
      dualPod('dev', 'web1', N1, '10.244.1.13', { app: 'web' }, [
        { name: 'http', containerPort: 80 },
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
      ]),
      // role=frontend outside "default": a podSelector alone must not reach it.
      dualPod('ops', 'tool1', N1, '10.244.1.14', { app: 'tool', role: 'frontend' }),
      dualPod('default', 'db2', N2, '10.244.2.10', { role: 'db' }, [
        { name: 'redis', containerPort: 6379 },
        { name: 'http', containerPort: 8080 },
      ]),
      dualPod('default', 'fe2', N2, '10.244.2.11', { role: 'frontend' }),
      dualPod('prod', 'api2', N2, '10.244.2.12', { app: 'api' }, [{ name: 'http', containerPort: 80 }]),
      dualPod('dev', 'web2', N2, '10.244.2.13', { app: 'web', canary: 'true' }, [
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
      ]),
      dualPod('ops', 'tool2', N2, '10.244.2.14', { app: 'tool' }),
    ],
  );
}

export const fixtureExternals: LabExternalSpec[] = [
  { name: 'x1', ip: '172.17.1.5', node: N1 },
  { name: 'x1b', ip: '172.17.1.6', node: N2 },
  { name: 'x2', ip: '172.17.2.5', node: N2 },
  { name: 'svc', ip: '10.0.0.5', node: N2 },
  { name: 'far', ip: '192.168.7.5', node: N1 },
].map((e) => ({ ...e, ip6: mirror6(e.ip) }));

const tcp = (port: number): LabPort => ({ port, protocol: 'TCP' });
const udp = (port: number): LabPort => ({ port, protocol: 'UDP' });

/** Every host serves these, so a refusal is always the firewall's, never a closed port. */
export const fixturePorts: LabPort[] = [
  tcp(53),
  tcp(80),
  tcp(6379),
  tcp(8080),
  tcp(5978),
  tcp(9000),
  tcp(9001),
  tcp(9002),
  udp(53),
  udp(6379),
  udp(5978),
];
export const ports = { tcp, udp };

export const pods = {
  db: 'default/db',
  db2: 'default/db2',
  fe1: 'default/fe1',
  fe2: 'default/fe2',
  api1: 'prod/api1',
  api2: 'prod/api2',
  web1: 'dev/web1',
  web2: 'dev/web2',
  tool1: 'ops/tool1',
  tool2: 'ops/tool2',
} as const;
export const allPods: string[] = Object.values(pods);
export const ext = { x1: 'ext/x1', x1b: 'ext/x1b', x2: 'ext/x2', svc: 'ext/svc', far: 'ext/far' } as const;
export const allExternals: string[] = Object.values(ext);

export const nsOf = (host: string): string => host.split('/')[0];
export const isPod = (host: string): boolean => allPods.includes(host);
export const inSet =
  (...hosts: string[]) =>
  (h: string): boolean =>
    hosts.includes(h);
export const isTcp = (c: ProbeCell): boolean => c.protocol === 'TCP';
export const isUdp = (c: ProbeCell): boolean => c.protocol === 'UDP';
