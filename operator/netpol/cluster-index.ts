// Indexes the enforceable pods of a cluster by namespace and label so that resolving a selector
// costs the size of its answer rather than the size of the cluster, and caches every answer:
// thousands of policies tend to repeat the same few selectors. Pods are ranked by IP once, so
// every IP list the model hands out is sorted by comparing integers, never by re-parsing text.
import { NAMESPACE_NAME_LABEL, type Namespace, type Pod } from '../api/networkpolicy.js';
import { parseIPv4, sortAddresses } from '../net/address.js';
import { isEnforceablePod, namedPorts, podIPs } from './pods.js';
import type { CompiledSelector, Labels } from './selector.js';
import { objectKey } from './types.js';

export interface IndexedPod {
  namespace: string;
  name: string;
  /** "namespace/name" */
  key: string;
  labels: Labels;
  ips: readonly string[];
  /** First IPv4 address as a number, if any (for ipBlock tests without re-parsing). */
  ipv4: number | undefined;
  nodeName: string | undefined;
  /** Rank of the pod in IP order over the whole cluster. */
  rank: number;
  /** Rank of its IPv6 address among every pod's IPv6 address (-1: it has none). */
  rank6: number;
  pod: Pod;
}

/** One podSelector/namespaceSelector peer, compiled. */
export interface SelectorPeer {
  namespaceSelector: CompiledSelector | undefined;
  podSelector: CompiledSelector;
}

function byRank(a: IndexedPod, b: IndexedPod): number {
  return a.rank - b.rank;
}

/**
 * IPs of pods (given in rank order), each once, in address order: IPv4 first, then IPv6 (see
 * sortAddresses). Rank order is IPv4 order, so IPv4 addresses need no sort; only the IPv6
 * addresses of a dual-stack or IPv6 cluster are sorted.
 */
export function ipsOf(pods: readonly IndexedPod[]): string[] {
  const out: string[] = [];
  let v6: IndexedPod[] | undefined;
  let last: string | undefined;
  for (const p of pods) {
    for (const ip of p.ips) {
      if (ip.includes(':')) {
        (v6 ??= []).push(p);
        continue;
      }
      // Equal IPs are adjacent in rank order (a stale pod can share an IP with its successor).
      if (ip !== last) out.push(ip);
      last = ip;
    }
  }
  if (v6) {
    // Ranked once per cluster (see ClusterIndex): a numeric sort, no address parsing.
    v6.sort((a, b) => a.rank6 - b.rank6);
    let prev: string | undefined;
    for (const p of v6) {
      const ip = p.ips.find((x) => x.includes(':')) as string;
      if (ip !== prev) out.push(ip);
      prev = ip;
    }
  }
  return out;
}

/** Labels a namespaceSelector sees on a namespace: its own plus kubernetes.io/metadata.name. */
export function namespaceLabelsOf(ns: Namespace): Labels {
  return { ...(ns.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: ns.metadata.name };
}

/**
 * Whether selector peers (ORed) select one pod: the per-pod form of selectPeerPods() below, with
 * the same meaning (podSelector alone: the policy's own namespace; with a namespaceSelector: ANDed).
 */
export function peersSelectPod(
  policyNamespace: string,
  peers: readonly SelectorPeer[],
  pod: { namespace: string; labels: Labels },
  namespaceLabels: Labels | undefined,
): boolean {
  return peers.some((p) =>
    p.namespaceSelector
      ? p.namespaceSelector.matches(namespaceLabels) && p.podSelector.matches(pod.labels)
      : pod.namespace === policyNamespace && p.podSelector.matches(pod.labels),
  );
}

export class ClusterIndex {
  private readonly nsLabels = new Map<string, Labels>();
  private readonly podsByNs = new Map<string, IndexedPod[]>();
  private readonly labelIndexByNs = new Map<string, Map<string, Map<string, IndexedPod[]>>>();
  private readonly nsSelections = new Map<string, string[]>();
  private readonly podSelections = new Map<string, readonly IndexedPod[]>();
  private readonly peerPodSelections = new Map<string, readonly IndexedPod[]>();
  private readonly peerIPSelections = new Map<string, readonly string[]>();
  private readonly namedPortCache = new Map<IndexedPod, ReadonlyMap<string, number>>();
  private readonly sortedNamespaces: string[];
  private readonly everyPod: IndexedPod[];

  constructor(namespaces: readonly Namespace[], pods: readonly Pod[]) {
    for (const ns of namespaces) this.nsLabels.set(ns.metadata.name, namespaceLabelsOf(ns));
    const all: IndexedPod[] = [];
    for (const pod of pods) {
      const ips = podIPs(pod);
      if (!isEnforceablePod(pod, ips)) continue;
      const namespace = pod.metadata.namespace ?? 'default';
      const first4 = ips.find((ip) => !ip.includes(':'));
      all.push({
        namespace,
        name: pod.metadata.name,
        key: objectKey(namespace, pod.metadata.name),
        labels: pod.metadata.labels ?? {},
        ips,
        ipv4: first4 === undefined ? undefined : parseIPv4(first4),
        nodeName: pod.spec.nodeName,
        rank: 0,
        rank6: -1,
        pod,
      });
    }
    // IPv4 pods by address, then IPv6-only pods by text; ties by name for determinism.
    all.sort(
      (a, b) =>
        (a.ipv4 ?? Infinity) - (b.ipv4 ?? Infinity) ||
        a.ips[0].localeCompare(b.ips[0]) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    all.forEach((p, i) => {
      p.rank = i;
      let list = this.podsByNs.get(p.namespace);
      if (!list) this.podsByNs.set(p.namespace, (list = []));
      list.push(p);
      // A pod's namespace exists even if the snapshot did not include the Namespace object.
      if (!this.nsLabels.has(p.namespace))
        this.nsLabels.set(p.namespace, { [NAMESPACE_NAME_LABEL]: p.namespace });
    });
    // IPv6 order, for the IPv6 half of every address list (pods have one address per family).
    const v6 = all.filter((p) => p.ips.some((ip) => ip.includes(':')));
    if (v6.length > 0) {
      const order = new Map(
        sortAddresses(v6.map((p) => p.ips.find((ip) => ip.includes(':')) as string)).map((ip, i) => [ip, i]),
      );
      for (const p of v6) p.rank6 = order.get(p.ips.find((ip) => ip.includes(':')) as string) as number;
    }
    this.everyPod = all;
    this.sortedNamespaces = [...this.nsLabels.keys()].sort();
  }

  /** Labels of a namespace, always including kubernetes.io/metadata.name. */
  namespaceLabels(namespace: string): Labels {
    return this.nsLabels.get(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace };
  }

  /** Enforceable pods of a namespace, in IP order. */
  podsIn(namespace: string): readonly IndexedPod[] {
    return this.podsByNs.get(namespace) ?? [];
  }

  /** Every enforceable pod, in IP order. */
  allPods(): readonly IndexedPod[] {
    return this.everyPod;
  }

  /** "PROTOCOL/name" -> number for a pod (see pods.ts namedPorts), computed on first use. */
  namedPortsOf(pod: IndexedPod): ReadonlyMap<string, number> {
    let hit = this.namedPortCache.get(pod);
    if (!hit) this.namedPortCache.set(pod, (hit = namedPorts(pod.pod)));
    return hit;
  }

  /** Names of the namespaces a namespaceSelector selects, sorted. */
  selectNamespaces(selector: CompiledSelector): readonly string[] {
    let hit = this.nsSelections.get(selector.key);
    if (!hit) {
      hit = this.sortedNamespaces.filter((ns) => selector.matches(this.namespaceLabels(ns)));
      this.nsSelections.set(selector.key, hit);
    }
    return hit;
  }

  /** Enforceable pods of one namespace that a podSelector selects, in IP order. */
  selectPods(namespace: string, selector: CompiledSelector): readonly IndexedPod[] {
    if (selector.matchesAll) return this.podsIn(namespace);
    const cacheKey = `${namespace}\n${selector.key}`;
    let hit = this.podSelections.get(cacheKey);
    if (!hit) {
      const candidates = this.candidates(namespace, selector);
      // A single matchLabels pair is answered by the label index as it stands.
      hit =
        selector.labelsOnly && selector.requiredLabels.length === 1
          ? candidates
          : candidates.filter((p) => selector.matches(p.labels));
      this.podSelections.set(cacheKey, hit);
    }
    return hit;
  }

  /**
   * Pods the given selector peers select together (ORed), in IP order. For one peer:
   * podSelector alone means the policy's own namespace; namespaceSelector alone means every pod
   * of the selected namespaces; both are ANDed.
   */
  selectPeerPods(policyNamespace: string, peers: readonly SelectorPeer[]): readonly IndexedPod[] {
    const cacheKey = peersKey(policyNamespace, peers);
    let hit = this.peerPodSelections.get(cacheKey);
    if (!hit) {
      const parts = peers.map((p) => this.selectOnePeer(policyNamespace, p));
      if (parts.length === 1) hit = parts[0];
      else hit = [...new Set(parts.flat())].sort(byRank);
      this.peerPodSelections.set(cacheKey, hit);
    }
    return hit;
  }

  /** IPs of selectPeerPods(), in IP order, shared between callers: do not modify. */
  selectPeerIPs(policyNamespace: string, peers: readonly SelectorPeer[]): readonly string[] {
    const cacheKey = peersKey(policyNamespace, peers);
    let hit = this.peerIPSelections.get(cacheKey);
    if (!hit) {
      hit = ipsOf(this.selectPeerPods(policyNamespace, peers));
      this.peerIPSelections.set(cacheKey, hit);
    }
    return hit;
  }

  private selectOnePeer(policyNamespace: string, peer: SelectorPeer): readonly IndexedPod[] {
    if (!peer.namespaceSelector) return this.selectPods(policyNamespace, peer.podSelector);
    const namespaces = this.selectNamespaces(peer.namespaceSelector);
    if (namespaces.length === 1) return this.selectPods(namespaces[0], peer.podSelector);
    return namespaces.flatMap((ns) => this.selectPods(ns, peer.podSelector)).sort(byRank);
  }

  /** Pods carrying the rarest of the selector's matchLabels, or the whole namespace. */
  private candidates(namespace: string, selector: CompiledSelector): readonly IndexedPod[] {
    if (selector.requiredLabels.length === 0) return this.podsIn(namespace);
    const index = this.labelIndex(namespace);
    let best: readonly IndexedPod[] | undefined;
    for (const [k, v] of selector.requiredLabels) {
      const list = index.get(k)?.get(v) ?? [];
      if (!best || list.length < best.length) best = list;
    }
    return best ?? [];
  }

  /** label key -> value -> pods (in IP order) of one namespace, built on first use. */
  private labelIndex(namespace: string): Map<string, Map<string, IndexedPod[]>> {
    let index = this.labelIndexByNs.get(namespace);
    if (!index) {
      index = new Map();
      for (const pod of this.podsIn(namespace)) {
        for (const k in pod.labels) {
          const v = pod.labels[k];
          let byValue = index.get(k);
          if (!byValue) index.set(k, (byValue = new Map<string, IndexedPod[]>()));
          let list = byValue.get(v);
          if (!list) byValue.set(v, (list = []));
          list.push(pod);
        }
      }
      this.labelIndexByNs.set(namespace, index);
    }
    return index;
  }
}

/**
 * Canonical identity of a list of selector peers as seen from a policy namespace: equal keys
 * select the same pods, whatever policy or rule they come from.
 */
export function peersKey(policyNamespace: string, peers: readonly SelectorPeer[]): string {
  const parts = peers.map(
    (p) =>
      `${p.namespaceSelector ? `ns:${p.namespaceSelector.key}` : `in:${policyNamespace}`} ${p.podSelector.key}`,
  );
  return [...new Set(parts)].sort().join('\n');
}
