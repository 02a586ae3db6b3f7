// An independent statement of ClusterNetworkPolicy semantics for the tests: "would this
// connection be allowed?", answered straight from the API objects, as network-policy-api v0.3.0
// documents it (the Go types' comments and the CRD descriptions):
// - each direction on its own: the source pod's egress, then the destination pod's ingress;
//   the connection needs both;
// - within a direction: the Admin tier (policies by priority, lower first; rules in order), then
//   the NetworkPolicies (the existing oracle, test/support/netpol-oracle.ts), then the Baseline
//   tier, then the default, which allows;
// - the first matching rule decides: Accept allows and Deny denies (no further rule of any tier
//   or NetworkPolicy for that direction); Pass skips the rest of its tier;
// - NetworkPolicies decide for a pod they isolate in that direction; otherwise on to Baseline;
// - subjects and namespaces/pods peers never include host-network (or finished, address-less)
//   pods; networks peers match any address in them, pods' included;
// - a rule part the implementation cannot use (an experimental nodes or domainNames peer, a peer
//   or protocol with no known field, a bad selector, CIDR or port, an unknown action): an Accept
//   rule matches nothing, a Deny or Pass rule denies everything (the API's fail-closed rule).
// Equal priorities: the API lets an implementation pick either policy; this oracle states the
// project's choice, by name, so that the model can be checked against it.
// It shares no code with operator/ (own selector matching, ports, CIDRs via ipaddr.js).
import ipaddr from 'ipaddr.js';
import type {
  ClusterNetworkPolicy,
  ClusterNetworkPolicyRuleAction,
} from '../../operator/api/clusternetworkpolicy.js';
import type {
  LabelSelector,
  Namespace,
  NetworkPolicy,
  Pod,
  Protocol,
} from '../../operator/api/networkpolicy.js';
import { NetworkPolicyOracle, type OracleConnection } from './netpol-oracle.js';

export interface CnpOracleCluster {
  namespaces: readonly Namespace[];
  pods: readonly Pod[];
  policies: readonly NetworkPolicy[];
  clusterNetworkPolicies: readonly ClusterNetworkPolicy[];
}

type Labels = Record<string, string>;
type Gress = 'ingress' | 'egress';
export type Verdict = 'allow' | 'deny';

function validSelector(s: unknown): s is LabelSelector {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return false;
  const sel = s as LabelSelector;
  return (sel.matchExpressions ?? []).every((e) => {
    const n = (e.values ?? []).length;
    if (!e.key) return false;
    if (e.operator === 'In' || e.operator === 'NotIn') return n > 0;
    if (e.operator === 'Exists' || e.operator === 'DoesNotExist') return n === 0;
    return false;
  });
}

function matches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (sel.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In') return inValues;
    if (e.operator === 'NotIn') return !inValues;
    if (e.operator === 'Exists') return has;
    return !has;
  });
}

function ipsOf(pod: Pod): string[] {
  const listed = (pod.status?.podIPs ?? []).map((p) => p.ip);
  const ips = listed.length > 0 ? listed : pod.status?.podIP ? [pod.status.podIP] : [];
  return ips.filter((ip) => ipaddr.isValid(ip));
}

function isPolicyPod(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.spec.hostNetwork && phase !== 'Succeeded' && phase !== 'Failed' && ipsOf(pod).length > 0;
}

/** The rule cannot be used (fail closed). */
class Broken extends Error {}

function exactlyOne(o: unknown): string {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Broken('not an object');
  const keys = Object.entries(o)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k]) => k);
  if (keys.length !== 1) throw new Broken('not exactly one field');
  return keys[0];
}

function cidrHolds(cidr: unknown, ip: string): boolean {
  if (typeof cidr !== 'string' || !ipaddr.isValidCIDR(cidr)) throw new Broken('bad CIDR');
  const [written, bits] = ipaddr.parseCIDR(cidr);
  const network =
    written.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
      : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  // Host bits must be clear (the CRD's CEL rule); anything else is unusable.
  if (written.toNormalizedString() !== network.toNormalizedString()) throw new Broken('host bits set');
  const addr = ipaddr.parse(ip);
  return addr.kind() === written.kind() && addr.match(written, bits);
}

export class ClusterNetworkPolicyOracle {
  private readonly nsLabels = new Map<string, Labels>();
  private readonly podByIP = new Map<string, Pod>();
  private readonly netpol: { ingress: NetworkPolicyOracle; egress: NetworkPolicyOracle };
  private readonly ordered: ClusterNetworkPolicy[];

  constructor(private readonly cluster: CnpOracleCluster) {
    for (const ns of cluster.namespaces)
      this.nsLabels.set(ns.metadata.name, { ...(ns.metadata.labels ?? {}) });
    for (const pod of cluster.pods)
      if (isPolicyPod(pod)) for (const ip of ipsOf(pod)) this.podByIP.set(ip, pod);
    // The NetworkPolicy layer, one direction at a time: the netpol oracle judges both ends, so it
    // gets only the policies of one direction (policyTypes as the API defaults them).
    const only = (type: 'Ingress' | 'Egress'): NetworkPolicy[] =>
      cluster.policies
        .filter((p) => ClusterNetworkPolicyOracle.npTypes(p).includes(type))
        .map((p) => ({ ...p, spec: { ...p.spec, policyTypes: [type] } }));
    this.netpol = {
      ingress: new NetworkPolicyOracle({ ...cluster, policies: only('Ingress') }),
      egress: new NetworkPolicyOracle({ ...cluster, policies: only('Egress') }),
    };
    const rank = (t: unknown): number => (t === 'Admin' ? 0 : t === 'Baseline' ? 1 : 2);
    this.ordered = [...cluster.clusterNetworkPolicies].sort(
      (a, b) =>
        rank(a.spec?.tier) - rank(b.spec?.tier) ||
        a.spec.priority - b.spec.priority ||
        (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0),
    );
  }

  private static npTypes(p: NetworkPolicy): string[] {
    const declared = p.spec.policyTypes ?? [];
    if (declared.length > 0) return declared;
    return (p.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }

  allows(conn: OracleConnection): boolean {
    return this.verdict(conn) === 'allow';
  }

  verdict(conn: OracleConnection): Verdict {
    const src = this.podByIP.get(conn.src);
    const dst = this.podByIP.get(conn.dst);
    if (src && this.direction(src, 'egress', conn, dst) === 'deny') return 'deny';
    if (dst && this.direction(dst, 'ingress', conn, dst) === 'deny') return 'deny';
    return 'allow';
  }

  /** The verdict of one direction for the pod at that end. */
  direction(pod: Pod, gress: Gress, conn: OracleConnection, dst: Pod | undefined): Verdict {
    const admin = this.tier('Admin', pod, gress, conn, dst);
    if (admin === 'Accept') return 'allow';
    if (admin === 'Deny') return 'deny';
    if (this.npIsolates(pod, gress)) {
      const np = gress === 'ingress' ? this.netpol.ingress : this.netpol.egress;
      return np.allows(conn) ? 'allow' : 'deny';
    }
    const baseline = this.tier('Baseline', pod, gress, conn, dst);
    return baseline === 'Deny' ? 'deny' : 'allow';
  }

  /** The first matching rule's action in the tier, or undefined when none matches. */
  private tier(
    tier: 'Admin' | 'Baseline',
    pod: Pod,
    gress: Gress,
    conn: OracleConnection,
    dst: Pod | undefined,
  ): ClusterNetworkPolicyRuleAction | undefined {
    for (const cnp of this.ordered) {
      if (cnp.spec.tier !== tier || !this.subjectSelects(cnp, pod)) continue;
      for (const rule of (gress === 'ingress' ? cnp.spec.ingress : cnp.spec.egress) ?? []) {
        const action: unknown = rule.action;
        let matched: boolean;
        try {
          if (action !== 'Accept' && action !== 'Deny' && action !== 'Pass') throw new Broken('action');
          const peers =
            gress === 'ingress' ? (rule as { from?: unknown }).from : (rule as { to?: unknown }).to;
          const peerIP = gress === 'ingress' ? conn.src : conn.dst;
          // Both halves are judged in full: an unusable part anywhere makes the rule unusable.
          const peerHit = this.peersMatch(gress, peers, peerIP);
          const portHit = this.protocolsMatch(gress, rule, conn, pod, dst);
          matched = peerHit && portHit;
        } catch (err) {
          if (!(err instanceof Broken)) throw err;
          // Fail closed: Accept matches nothing; Deny and Pass deny everything.
          if (action === 'Accept') continue;
          return 'Deny';
        }
        if (matched) return action as ClusterNetworkPolicyRuleAction;
      }
    }
    return undefined;
  }

  private nsLabelsOf(name: string): Labels {
    return { ...(this.nsLabels.get(name) ?? {}), 'kubernetes.io/metadata.name': name };
  }

  /** namespaces / pods selection of a policy pod (subject or peer). */
  private selects(kind: string, value: unknown, pod: Pod | undefined): boolean {
    const ns = this.nsLabelsOf(pod?.metadata.namespace ?? 'default');
    if (kind === 'namespaces') {
      if (!validSelector(value)) throw new Broken('selector');
      return pod !== undefined && matches(value, ns);
    }
    if (kind === 'pods') {
      const v = value as { namespaceSelector?: unknown; podSelector?: unknown } | null;
      if (typeof v !== 'object' || v === null) throw new Broken('pods');
      const nsSel = v.namespaceSelector ?? {};
      if (!validSelector(nsSel) || !validSelector(v.podSelector)) throw new Broken('selector');
      return pod !== undefined && matches(nsSel, ns) && matches(v.podSelector, pod.metadata.labels ?? {});
    }
    throw new Broken(`unknown selection ${kind}`);
  }

  private subjectSelects(cnp: ClusterNetworkPolicy, pod: Pod): boolean {
    try {
      const kind = exactlyOne(cnp.spec.subject);
      return this.selects(kind, (cnp.spec.subject as Record<string, unknown>)[kind], pod);
    } catch (err) {
      if (err instanceof Broken) return false; // unknown subject: the policy selects nobody
      throw err;
    }
  }

  /** Any peer matches; every peer must be usable (one unusable peer makes the rule unusable). */
  private peersMatch(gress: Gress, peers: unknown, ip: string): boolean {
    if (!Array.isArray(peers) || peers.length === 0) throw new Broken('peers');
    let any = false;
    for (const peer of peers) {
      const kind = exactlyOne(peer);
      const value = (peer as Record<string, unknown>)[kind];
      let hit: boolean;
      if (kind === 'namespaces' || kind === 'pods') {
        hit = this.selects(kind, value, this.podByIP.get(ip));
      } else if (gress === 'egress' && kind === 'networks') {
        if (!Array.isArray(value) || value.length === 0) throw new Broken('networks');
        hit = false;
        for (const c of value) if (cidrHolds(c, ip)) hit = true;
      } else {
        throw new Broken(`peer ${kind}`);
      }
      if (hit) any = true;
    }
    return any;
  }

  private protocolsMatch(
    gress: Gress,
    rule: { protocols?: unknown; to?: unknown },
    conn: OracleConnection,
    subject: Pod,
    dst: Pod | undefined,
  ): boolean {
    const list = rule.protocols;
    if (list === undefined) return true;
    if (!Array.isArray(list) || list.length === 0) throw new Broken('protocols');
    const withNetworks =
      gress === 'egress' &&
      Array.isArray(rule.to) &&
      rule.to.some((p) => typeof p === 'object' && p !== null && 'networks' in p);
    let any = false;
    for (const p of list) {
      const kind = exactlyOne(p);
      const value = (p as Record<string, unknown>)[kind];
      if (kind === 'destinationNamedPort') {
        if (typeof value !== 'string' || value === '' || withNetworks) throw new Broken('named port');
        // The port lives on the destination pod: the subject for ingress, the peer for egress.
        const target = gress === 'ingress' ? subject : dst;
        if (target && this.namedPort(target, value, conn.protocol) === conn.port) any = true;
        continue;
      }
      const protocol = ({ tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' } as Record<string, Protocol>)[kind];
      if (!protocol) throw new Broken(`protocol ${kind}`);
      const port = (value as { destinationPort?: unknown } | null)?.destinationPort;
      const portKind = exactlyOne(port);
      const pv = (port as Record<string, unknown>)[portKind];
      const ok = (n: unknown): n is number =>
        typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
      let lo: number;
      let hi: number;
      if (portKind === 'number' && ok(pv)) lo = hi = pv;
      else if (portKind === 'range') {
        const r = pv as { start?: unknown; end?: unknown } | null;
        if (!r || !ok(r.start) || !ok(r.end) || r.start >= r.end) throw new Broken('range');
        lo = r.start;
        hi = r.end;
      } else throw new Broken('port');
      if (conn.protocol === protocol && conn.port >= lo && conn.port <= hi) any = true;
    }
    return any;
  }

  private namedPort(pod: Pod, name: string, protocol: Protocol): number | undefined {
    const sidecars = (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
    for (const c of [...pod.spec.containers, ...sidecars])
      for (const port of c.ports ?? [])
        if (port.name === name && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    return undefined;
  }

  /** Does some NetworkPolicy of the pod's namespace select it for that direction? */
  private npIsolates(pod: Pod, gress: Gress): boolean {
    const type = gress === 'ingress' ? 'Ingress' : 'Egress';
    return this.cluster.policies.some(
      (p) =>
        (p.metadata.namespace ?? 'default') === (pod.metadata.namespace ?? 'default') &&
        validSelector(p.spec.podSelector) &&
        matches(p.spec.podSelector, pod.metadata.labels ?? {}) &&
        ClusterNetworkPolicyOracle.npTypes(p).includes(type),
    );
  }
}
