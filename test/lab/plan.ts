// Pure: a lab spec becomes a plan — network namespace names, links, addresses, routes, and the
// `ip -batch` lines that build them, in phases. Building is then only running the plan.
//
// Shape: one netns per node with bridge br0 (the node's pod subnets, gateway address on the
// bridge, br_netfilter on so bridged pod-to-pod traffic crosses FORWARD); one netns per pod with
// eth0 on that bridge; one netns per external host, routed from its node over a point-to-point
// veth; a "fabric" netns holding a plain bridge that links the nodes (cross-node traffic is
// routed node to node over it). No link ever reaches the root namespace and no netns has a
// route out of the lab.
//
// Dual-stack: when any pod or external host has an IPv6 address, the lab carries IPv6 too — a
// /64 per node on br0, the fabric routed over IPv6 as well, IPv6 routes to the externals —
// with duplicate address detection off (`nodad`, accept_dad=0) so addresses work at once, IPv6
// forwarding and bridge-nf-call-ip6tables on in the node namespaces (only there: every sysctl
// is set inside a namespace the lab made). Otherwise IPv6 is disabled in every lab namespace.
import { cidrContains, gatewayCandidates, subnetOf } from './ipv4.js';
import { canonical6, gatewayCandidates6, podPrefixLength6, subnetOf6 } from './ipv6.js';
import type { LabPort, LabSpec } from './spec.js';
import { externalHostName, nodeHostName, podHostName } from './spec.js';

export const labNetnsPrefix = 'stlab-';
export const labStateRoot = '/run/softtenant-lab';
const fabricNet = '169.254.100';
const fabricNet6 = 'fd00:a9fe:6400::';
/** The node-side address of every external host's point-to-point link. */
const externalGateway = '169.254.0.1';
const externalGateway6 = 'fd00:a9fe::1';

export type LabHostKind = 'pod' | 'external' | 'node';

export interface LabHostPlan {
  /** "ns/pod", "ext/name" or "node/name". */
  name: string;
  kind: LabHostKind;
  netns: string;
  node: string;
  /** Its IPv4 address (absent for an IPv6-only pod). */
  ip?: string;
  /** Its IPv6 address (dual-stack labs; a pod without one is IPv4-only). */
  ip6?: string;
  tcp: number[];
  udp: number[];
  socket: string;
  config: string;
  log: string;
}

export interface LabNodePlan {
  name: string;
  netns: string;
  fabricIp: string;
  fabricIp6?: string;
  subnets: { cidr: string; gateway: string }[];
  /** IPv6 pod subnets (/64) and their gateways on br0. */
  subnets6: { cidr: string; gateway: string }[];
  /** Host name -> its veth in the node netns (pods on br0, externals routed). */
  links: Record<string, string>;
}

export interface LabStep {
  netns: string;
  /** Lines for `ip -n NETNS -batch -`. */
  ip: string[];
  /** "key=value" for `sysctl -w` inside the netns. */
  sysctl: string[];
}

export interface LabPlan {
  id: string;
  stateDir: string;
  fabricNetns: string;
  /** Every netns of the lab, creation order. */
  netns: string[];
  nodes: LabNodePlan[];
  hosts: LabHostPlan[];
  /** Run in order; the steps of one phase are independent of each other. */
  phases: LabStep[][];
}

export class LabSpecError extends Error {}

function portsOf(base: LabPort[], extra: LabPort[], protocol: 'TCP' | 'UDP'): number[] {
  const set = new Set<number>();
  for (const p of [...base, ...extra]) if (p.protocol === protocol) set.add(p.port);
  return [...set].sort((a, b) => a - b);
}

const quiet = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
/** In a dual-stack lab: IPv6 on, and no duplicate address detection (addresses usable at once). */
const noDad = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'];

export function planLab(spec: LabSpec, id: string): LabPlan {
  if (!id.startsWith(labNetnsPrefix)) throw new LabSpecError(`lab id must start with ${labNetnsPrefix}`);
  const prefixLength = spec.podPrefixLength ?? 24;
  if (!(prefixLength >= 8 && prefixLength <= 30))
    throw new LabSpecError(`podPrefixLength ${prefixLength} out of 8..30`);
  const stateDir = `${labStateRoot}/${id}`;
  const serve = spec.servePorts ?? [];
  const externals = spec.externals ?? [];

  const nodeNames = [
    ...new Set([...(spec.nodes ?? []), ...spec.pods.map((p) => p.node), ...externals.map((e) => e.node)]),
  ];
  nodeNames.sort();
  if (nodeNames.length === 0) throw new LabSpecError('a lab needs at least one node');
  if (nodeNames.length > 250) throw new LabSpecError('at most 250 nodes');

  // Addresses: unique, pods grouped into per-node subnets, externals outside every subnet.
  const seen = new Map<string, string>();
  const claim = (ip: string, who: string): void => {
    const prev = seen.get(ip);
    if (prev) throw new LabSpecError(`${who} and ${prev} both have IP ${ip}`);
    seen.set(ip, who);
  };
  const subnetOwner = new Map<string, string>();
  const nodeSubnets = new Map<string, string[]>(nodeNames.map((n) => [n, []]));
  const nodeSubnets6 = new Map<string, string[]>(nodeNames.map((n) => [n, []]));
  const dual = spec.pods.some((p) => p.ip6 !== undefined) || externals.some((e) => e.ip6 !== undefined);
  for (const p of spec.pods) {
    const who = podHostName(p.namespace, p.name);
    if (p.ip === undefined && p.ip6 === undefined) throw new LabSpecError(`pod ${who} has no address`);
    if (p.ip !== undefined) claim(p.ip, who);
    if (p.ip6 !== undefined) {
      claim(canonical6(p.ip6), who);
      const cidr6 = subnetOf6(p.ip6);
      const owner6 = subnetOwner.get(cidr6);
      if (owner6 && owner6 !== p.node)
        throw new LabSpecError(`pod subnet ${cidr6} has pods on nodes ${owner6} and ${p.node}`);
      if (!owner6) {
        subnetOwner.set(cidr6, p.node);
        nodeSubnets6.get(p.node)?.push(cidr6);
      }
    }
    if (p.ip === undefined) continue;
    const cidr = subnetOf(p.ip, prefixLength);
    const owner = subnetOwner.get(cidr);
    if (owner && owner !== p.node) {
      throw new LabSpecError(
        `pod subnet ${cidr} has pods on nodes ${owner} and ${p.node}; give each node its own subnet`,
      );
    }
    if (!owner) {
      subnetOwner.set(cidr, p.node);
      nodeSubnets.get(p.node)?.push(cidr);
    }
  }
  for (const e of externals) {
    claim(e.ip, externalHostName(e.name));
    if (e.ip6 !== undefined) {
      claim(canonical6(e.ip6), externalHostName(e.name));
      if (subnetOwner.has(subnetOf6(e.ip6)))
        throw new LabSpecError(`external ${e.name} (${e.ip6}) lies in a pod subnet`);
    }
    for (const cidr of subnetOwner.keys()) {
      if (!cidr.includes(':') && cidrContains(cidr, e.ip))
        throw new LabSpecError(`external ${e.name} (${e.ip}) lies in pod subnet ${cidr}`);
    }
    if (e.ip.startsWith('169.254.'))
      throw new LabSpecError(`external ${e.name}: 169.254.0.0/16 is the lab's own link space`);
  }

  const nodes: LabNodePlan[] = nodeNames.map((name, i) => ({
    name,
    netns: `${id}-n${i}`,
    fabricIp: `${fabricNet}.${i + 1}`,
    ...(dual ? { fabricIp6: `${fabricNet6}${(i + 1).toString(16)}` } : {}),
    subnets: (nodeSubnets.get(name) ?? []).sort().map((cidr) => {
      const gateway = gatewayCandidates(cidr).find((g) => !seen.has(g));
      if (!gateway) throw new LabSpecError(`no free gateway address in ${cidr}`);
      seen.set(gateway, nodeHostName(name));
      return { cidr, gateway };
    }),
    subnets6: (nodeSubnets6.get(name) ?? []).sort().map((cidr) => {
      const gateway = gatewayCandidates6(cidr).find((g) => !seen.has(g));
      if (!gateway) throw new LabSpecError(`no free gateway address in ${cidr}`);
      seen.set(gateway, nodeHostName(name));
      return { cidr, gateway };
    }),
    links: {},
  }));
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const fabricNetns = `${id}-fab`;

  const hosts: LabHostPlan[] = [];
  const host = (
    name: string,
    kind: LabHostKind,
    netns: string,
    node: string,
    ip: string | undefined,
    own: LabPort[],
    ip6: string | undefined,
  ): void => {
    const i = hosts.length;
    hosts.push({
      name,
      kind,
      netns,
      node,
      ...(ip !== undefined ? { ip } : {}),
      ...(ip6 !== undefined ? { ip6: canonical6(ip6) } : {}),
      tcp: portsOf(own, serve, 'TCP'),
      udp: portsOf(own, serve, 'UDP'),
      socket: `${stateDir}/h${i}.sock`,
      config: `${stateDir}/h${i}.json`,
      log: `${stateDir}/h${i}.log`,
    });
  };
  for (const n of nodes)
    host(
      nodeHostName(n.name),
      'node',
      n.netns,
      n.name,
      n.subnets[0]?.gateway ?? n.fabricIp,
      [],
      n.subnets6[0]?.gateway ?? n.fabricIp6,
    );
  spec.pods.forEach((p, k) =>
    host(podHostName(p.namespace, p.name), 'pod', `${id}-p${k}`, p.node, p.ip, p.ports, p.ip6),
  );
  externals.forEach((e, k) =>
    host(externalHostName(e.name), 'external', `${id}-x${k}`, e.node, e.ip, [], e.ip6),
  );

  // Phase 1: node namespaces create every veth (the far end lands directly in the pod,
  // external or fabric netns), addresses and routes. Phase 2: the far ends are configured.
  const nodeSteps: LabStep[] = nodes.map((n, i) => {
    // No multicast snooping: neighbour solicitations go to solicited-node multicast groups, and a
    // snooping bridge without an MLD querier may not forward them.
    const ip: string[] = [
      'link set lo up',
      `link add br0 type bridge${dual ? ' mcast_snooping 0' : ''}`,
      'link set br0 up',
    ];
    for (const s of n.subnets) ip.push(`addr add ${s.gateway}/${prefixLength} dev br0`);
    for (const s of n.subnets6) ip.push(`addr add ${s.gateway}/${podPrefixLength6} dev br0 nodad`);
    spec.pods.forEach((p, k) => {
      if (p.node !== n.name) return;
      const link = `vp${k}`;
      n.links[podHostName(p.namespace, p.name)] = link;
      ip.push(
        `link add ${link} type veth peer name eth0 netns ${id}-p${k}`,
        `link set ${link} master br0`,
        `link set ${link} up`,
      );
    });
    ip.push(
      `link add fab0 type veth peer name n${i} netns ${fabricNetns}`,
      `addr add ${n.fabricIp}/24 dev fab0`,
      ...(n.fabricIp6 ? [`addr add ${n.fabricIp6}/64 dev fab0 nodad`] : []),
      'link set fab0 up',
    );
    externals.forEach((e, k) => {
      if (e.node !== n.name) return;
      const link = `vx${k}`;
      n.links[externalHostName(e.name)] = link;
      ip.push(
        `link add ${link} type veth peer name eth0 netns ${id}-x${k}`,
        `addr add ${externalGateway}/32 dev ${link}`,
        `link set ${link} up`,
        `route add ${e.ip}/32 dev ${link}`,
      );
      if (e.ip6 !== undefined)
        ip.push(`addr add ${externalGateway6}/128 dev ${link} nodad`, `route add ${e.ip6}/128 dev ${link}`);
    });
    for (const other of nodes) {
      if (other === n) continue;
      for (const s of other.subnets) ip.push(`route add ${s.cidr} via ${other.fabricIp} dev fab0`);
      for (const s of other.subnets6) ip.push(`route add ${s.cidr} via ${other.fabricIp6 ?? ''} dev fab0`);
    }
    for (const e of externals) {
      const at = nodeByName.get(e.node);
      if (at && at !== n) ip.push(`route add ${e.ip}/32 via ${at.fabricIp} dev fab0`);
      if (at && at !== n && e.ip6 !== undefined)
        ip.push(`route add ${e.ip6}/128 via ${at.fabricIp6 ?? ''} dev fab0`);
    }
    return {
      netns: n.netns,
      ip,
      sysctl: [
        ...(dual
          ? [
              ...noDad,
              'net.ipv6.conf.all.forwarding=1',
              'net.bridge.bridge-nf-call-ip6tables=1',
              // REJECT answers with ICMPv6; unthrottled, as for IPv4 below.
              'net.ipv6.icmp.ratelimit=0',
            ]
          : quiet),
        'net.ipv4.ip_forward=1',
        // Bridged pod-to-pod packets must cross iptables FORWARD, as on a real node.
        'net.bridge.bridge-nf-call-iptables=1',
        'net.ipv4.conf.all.rp_filter=0',
        'net.ipv4.conf.default.rp_filter=0',
        // REJECT answers with ICMP; unthrottled, a denied UDP cell is refused at once instead
        // of waiting out the probe timeout.
        'net.ipv4.icmp_ratelimit=0',
        'net.ipv4.icmp_msgs_per_sec=100000',
        'net.ipv4.icmp_msgs_burst=10000',
      ],
    };
  });

  const fabricStep: LabStep = {
    netns: fabricNetns,
    ip: [
      'link add fab type bridge',
      'link set fab up',
      ...nodes.flatMap((_, i) => [`link set n${i} master fab`, `link set n${i} up`]),
    ],
    // The fabric is a plain switch: no firewall of its own in the path.
    sysctl: [
      ...(dual ? [...noDad, 'net.bridge.bridge-nf-call-ip6tables=0'] : quiet),
      'net.bridge.bridge-nf-call-iptables=0',
    ],
  };
  const podSteps: LabStep[] = spec.pods.map((p, k) => {
    const n = nodeByName.get(p.node) as LabNodePlan;
    const gw6Of = (ip6: string): string =>
      n.subnets6.find((s) => s.cidr === subnetOf6(ip6))?.gateway as string;
    if (p.ip === undefined) {
      // IPv6-only: no IPv4 address and no IPv4 route at all.
      const ip6 = p.ip6 as string;
      return {
        netns: `${id}-p${k}`,
        ip: [
          'link set lo up',
          `addr add ${ip6}/${podPrefixLength6} dev eth0 nodad`,
          'link set eth0 up',
          `route add ::/0 via ${gw6Of(ip6)} dev eth0`,
        ],
        sysctl: [...noDad, 'net.ipv6.conf.eth0.accept_dad=0'],
      };
    }
    const cidr = subnetOf(p.ip, prefixLength);
    const gw = n.subnets.find((s) => s.cidr === cidr)?.gateway as string;
    const ip = ['link set lo up', `addr add ${p.ip}/${prefixLength} dev eth0`];
    if (p.ip6 !== undefined) {
      const gw6 = gw6Of(p.ip6);
      ip.push(
        `addr add ${p.ip6}/${podPrefixLength6} dev eth0 nodad`,
        'link set eth0 up',
        `route add default via ${gw} dev eth0`,
        `route add ::/0 via ${gw6} dev eth0`,
      );
    } else ip.push('link set eth0 up', `route add default via ${gw} dev eth0`);
    return { netns: `${id}-p${k}`, ip, sysctl: dual ? [...noDad, 'net.ipv6.conf.eth0.accept_dad=0'] : quiet };
  });
  const externalSteps: LabStep[] = externals.map((e, k) => ({
    netns: `${id}-x${k}`,
    ip: [
      'link set lo up',
      `addr add ${e.ip}/32 dev eth0`,
      ...(e.ip6 !== undefined ? [`addr add ${e.ip6}/128 dev eth0 nodad`] : []),
      'link set eth0 up',
      `route add ${externalGateway}/32 dev eth0`,
      `route add default via ${externalGateway} dev eth0`,
      ...(e.ip6 !== undefined
        ? [`route add ${externalGateway6}/128 dev eth0`, `route add ::/0 via ${externalGateway6} dev eth0`]
        : []),
    ],
    sysctl: dual ? [...noDad, 'net.ipv6.conf.eth0.accept_dad=0'] : quiet,
  }));

  // Nodes first so that a half-built lab is still found by the node netns names, then the rest.
  const netns = [
    ...nodes.map((n) => n.netns),
    fabricNetns,
    ...podSteps.map((s) => s.netns),
    ...externalSteps.map((s) => s.netns),
  ];
  return {
    id,
    stateDir,
    fabricNetns,
    netns,
    nodes,
    hosts,
    phases: [nodeSteps, [fabricStep, ...podSteps, ...externalSteps]],
  };
}
