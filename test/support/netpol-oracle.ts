// An independent statement of NetworkPolicy semantics for the tests: "would this connection be
// allowed?", answered straight from Namespaces, Pods and NetworkPolicies, written from the API
// reference and /work/shared/netpol-semantics.md. It shares no code with operator/ (its own
// selector matching, defaulting, named ports; ipaddr.js for address arithmetic), so a bug in the
// model, or in the evaluator the conntrack judge uses, cannot hide behind itself. Slow on purpose:
// every question walks every policy.
//
// Besides the API's meaning it states one project decision: a part of a policy that cannot be
// understood (a bad selector, CIDR or port; a peer mixing ipBlock with selectors) allows nothing,
// while the policy still isolates the pods it selects; a policy whose podSelector cannot be
// understood selects nothing.
import ipaddr from 'ipaddr.js';
import type {
  LabelSelector,
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  Pod,
  Protocol,
} from '../../operator/api/networkpolicy.js';

export interface OracleConnection {
  src: string;
  dst: string;
  protocol: Protocol;
  port: number;
}

export interface OracleCluster {
  namespaces: readonly Namespace[];
  pods: readonly Pod[];
  policies: readonly NetworkPolicy[];
}

type Labels = Record<string, string>;

/** Semantics 11 and the API's validation: In/NotIn need values, Exists/DoesNotExist take none. */
function selectorValid(selector: LabelSelector | undefined): boolean {
  return (selector?.matchExpressions ?? []).every((e) => {
    const n = (e.values ?? []).length;
    if (!e.key) return false;
    if (e.operator === 'In' || e.operator === 'NotIn') return n > 0;
    if (e.operator === 'Exists' || e.operator === 'DoesNotExist') return n === 0;
    return false;
  });
}

/** matchLabels and matchExpressions, ANDed; an invalid selector selects nothing. */
function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selectorValid(selector)) return false;
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector?.matchExpressions ?? []).every((e) => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const inSet = has && (e.values ?? []).includes(labels[e.key]);
    switch (e.operator) {
      case 'In':
        return inSet;
      case 'NotIn':
        return !inSet;
      case 'Exists':
        return has;
      default:
        return !has;
    }
  });
}

function podIPsOf(pod: Pod): string[] {
  const listed = (pod.status?.podIPs ?? []).map((p) => p.ip);
  const ips = listed.length > 0 ? listed : pod.status?.podIP ? [pod.status.podIP] : [];
  return ips.filter((ip) => ipaddr.isValid(ip));
}

/** Semantics 17: pods without an IP, finished pods and hostNetwork pods are neither targets nor pod peers. */
function isNetworkPolicyPod(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.spec.hostNetwork && phase !== 'Succeeded' && phase !== 'Failed' && podIPsOf(pod).length > 0;
}

function namespaceOf(o: { metadata: { namespace?: string } }): string {
  return o.metadata.namespace ?? 'default';
}

function inCidr(ip: string, cidr: string): boolean | undefined {
  let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    range = ipaddr.parseCIDR(cidr);
  } catch {
    return undefined;
  }
  const addr = ipaddr.parse(ip);
  return addr.kind() === range[0].kind() && addr.match(range);
}

/** Semantics 10: the cidr minus every except; an except not strictly inside makes the block invalid. */
function ipBlockMatches(block: { cidr: string; except?: string[] }, ip: string): boolean {
  const within = inCidr(ip, block.cidr);
  if (within === undefined) return false;
  const outer = ipaddr.parseCIDR(block.cidr);
  for (const e of block.except ?? []) {
    if (inCidr(ip, e) === undefined) return false;
    const inner = ipaddr.parseCIDR(e);
    const strict = inner[0].kind() === outer[0].kind() && inner[1] > outer[1] && inner[0].match(outer);
    if (!strict) return false;
  }
  return within && !(block.except ?? []).some((e) => inCidr(ip, e));
}

export class NetworkPolicyOracle {
  private readonly nsLabels = new Map<string, Labels>();
  private readonly podByIP = new Map<string, Pod>();

  /** `node`: judge as that node's agent does, checking only the ends that are its own pods. */
  constructor(
    private readonly cluster: OracleCluster,
    private readonly node?: string,
  ) {
    for (const ns of cluster.namespaces)
      this.nsLabels.set(ns.metadata.name, { ...(ns.metadata.labels ?? {}) });
    for (const pod of cluster.pods) {
      if (!isNetworkPolicyPod(pod)) continue;
      for (const ip of podIPsOf(pod)) this.podByIP.set(ip, pod);
    }
  }

  allows(conn: OracleConnection): boolean {
    const src = this.podByIP.get(conn.src);
    const dst = this.podByIP.get(conn.dst);
    // Semantics 5: the source's egress and the destination's ingress must both allow.
    if (src && this.judged(src) && !this.directionAllows(src, 'Egress', conn, dst)) return false;
    if (dst && this.judged(dst) && !this.directionAllows(dst, 'Ingress', conn, dst)) return false;
    return true;
  }

  private judged(pod: Pod): boolean {
    return this.node === undefined || pod.spec.nodeName === this.node;
  }

  private namespaceLabels(name: string): Labels {
    // Semantics 11: the automatic kubernetes.io/metadata.name label.
    return { ...(this.nsLabels.get(name) ?? {}), 'kubernetes.io/metadata.name': name };
  }

  /** Semantics 3: Ingress always, Egress when there are egress rules, unless policyTypes says. */
  private static policyTypes(policy: NetworkPolicy): string[] {
    const declared = policy.spec.policyTypes ?? [];
    if (declared.length > 0) return declared;
    return (policy.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }

  private directionAllows(
    pod: Pod,
    type: 'Ingress' | 'Egress',
    conn: OracleConnection,
    dst: Pod | undefined,
  ): boolean {
    const applying = this.cluster.policies.filter(
      (p) =>
        namespaceOf(p) === namespaceOf(pod) &&
        selectorMatches(p.spec.podSelector, pod.metadata.labels ?? {}) &&
        NetworkPolicyOracle.policyTypes(p).includes(type),
    );
    // Semantics 1-2: not isolated without an applying policy; otherwise the union of the rules.
    if (applying.length === 0) return true;
    const peerIP = type === 'Ingress' ? conn.src : conn.dst;
    return applying.some((policy) => {
      const rules = (type === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
      return rules.some((rule) => {
        const peers = ('from' in rule ? rule.from : (rule as { to?: NetworkPolicyPeer[] }).to) ?? [];
        const peerOK = peers.length === 0 || peers.some((peer) => this.peerMatches(policy, peer, peerIP));
        return peerOK && this.portsMatch(rule.ports, conn, dst);
      });
    });
  }

  /** Semantics 7-8, 10. */
  private peerMatches(policy: NetworkPolicy, peer: NetworkPolicyPeer, ip: string): boolean {
    const selectors = peer.podSelector !== undefined || peer.namespaceSelector !== undefined;
    if (peer.ipBlock !== undefined) return !selectors && ipBlockMatches(peer.ipBlock, ip);
    if (!selectors) return false;
    const pod = this.podByIP.get(ip);
    if (!pod) return false;
    if (!selectorValid(peer.podSelector) || !selectorValid(peer.namespaceSelector)) return false;
    const nsOK =
      peer.namespaceSelector === undefined
        ? namespaceOf(pod) === namespaceOf(policy)
        : selectorMatches(peer.namespaceSelector, this.namespaceLabels(namespaceOf(pod)));
    const podOK = selectorMatches(peer.podSelector, pod.metadata.labels ?? {});
    return nsOK && podOK;
  }

  /** Semantics 9, 12-15. */
  private portsMatch(
    ports: NetworkPolicyPort[] | undefined,
    conn: OracleConnection,
    dst: Pod | undefined,
  ): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      const protocol = p.protocol ?? 'TCP';
      if (protocol !== conn.protocol) return false;
      if (p.port === undefined) return p.endPort === undefined;
      if (typeof p.port === 'string') {
        if (p.endPort !== undefined || !dst) return false;
        return this.namedPort(dst, p.port, protocol) === conn.port;
      }
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) return false;
      const end = p.endPort ?? p.port;
      if (!Number.isInteger(end) || end < p.port || end > 65535) return false;
      return conn.port >= p.port && conn.port <= end;
    });
  }

  /** Semantics 13: the destination pod's container port of that name and protocol. */
  private namedPort(pod: Pod, name: string, protocol: Protocol): number | undefined {
    const sidecars = (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
    for (const c of [...pod.spec.containers, ...sidecars]) {
      for (const port of c.ports ?? []) {
        if (port.name === name && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
      }
    }
    return undefined;
  }
}
