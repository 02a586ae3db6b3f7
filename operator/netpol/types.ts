// The per-node allow model: what the NetworkPolicies of the cluster mean for the pods of one
// node, with selectors, peers, named ports and policyTypes already resolved. It is data only;
// the render turns it into ipsets and chains, and evaluate.ts answers "is this connection
// allowed" from it (the reference the render is checked against).
import type { Namespace, NetworkPolicy, Pod, Protocol } from '../api/networkpolicy.js';
import type { PolicyError } from '../api/nodeenforcement.js';
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';

/**
 * The cluster objects NetworkPolicy enforcement reads: every Namespace, Pod and NetworkPolicy.
 * The agent's caches, a snapshot file and the render all hand this one shape around.
 */
export interface ClusterObjects {
  namespaces: readonly Namespace[];
  pods: readonly Pod[];
  policies: readonly NetworkPolicy[];
  /** ClusterNetworkPolicies (policy.networking.k8s.io); absent or empty: none (operator/cnp/). */
  clusterNetworkPolicies?: readonly ClusterNetworkPolicy[];
}

export interface ModelInput extends ClusterObjects {
  /** Name of the node whose local pods are enforced (spec.nodeName). */
  node: string;
}

export type Direction = 'ingress' | 'egress';

/** A numeric port match: one protocol, and a port, a range, or (port absent) every port. */
export interface PortRange {
  protocol: Protocol;
  port?: number;
  /** Inclusive upper end of a range that starts at `port`. */
  endPort?: number;
}

/** An ipBlock: canonical CIDR minus canonical excepts (all inside the CIDR). */
export interface CidrBlock {
  cidr: string;
  except: string[];
}

/** Who the other side of a connection may be (the source for ingress, the destination for egress). */
export interface PeerModel {
  /** The rule has no `from`/`to` (or an empty one): any address. */
  any: boolean;
  /**
   * Canonical identity of the rule's podSelector/namespaceSelector peers, '' when it has none.
   * Equal keys select the same pods (in any policy), so the render can share one set per key.
   */
  podPeersKey: string;
  /** IPs of the pods its podSelector/namespaceSelector peers select; sorted, unique. Shared: do not modify. */
  podIPs: readonly string[];
  /** Its ipBlock peers, in spec order. */
  blocks: CidrBlock[];
}

/**
 * A named port resolved to one number on a group of pods. For ingress the group is the local
 * pods the policy selects that declare the name (the port lives on the destination pod); for
 * egress it is the peer pods that declare it (already limited to the rule's peers).
 */
export interface NamedPortGroup {
  protocol: Protocol;
  name: string;
  port: number;
  podIPs: readonly string[];
}

/**
 * One ingress or egress rule. It allows a connection when the peer matches and
 * - `anyPort`, or the protocol/port is in `ports`; or
 * - for a named group: ingress — the peer matches, the destination is in the group and the
 *   protocol/port equal the group's; egress — the destination is in the group (the group is
 *   already peer-filtered) and the protocol/port equal the group's.
 */
export interface RuleModel {
  /** Index of the rule in spec.ingress / spec.egress (stable identity for names). */
  index: number;
  peers: PeerModel;
  anyPort: boolean;
  ports: PortRange[];
  named: NamedPortGroup[];
}

export interface PolicyModel {
  namespace: string;
  name: string;
  uid?: string;
  generation?: number;
  /** policyTypes after API defaulting. */
  isolatesIngress: boolean;
  isolatesEgress: boolean;
  /** Empty when the policy does not isolate that direction. */
  ingress: RuleModel[];
  egress: RuleModel[];
  /** "namespace/name" of the local pods it selects; sorted, never empty. */
  localPods: string[];
}

export interface LocalPodModel {
  namespace: string;
  name: string;
  /** The pod's IPs (status.podIPs, else status.podIP), in status order. */
  ips: readonly string[];
  /** "namespace/name" of the policies that isolate it for ingress; empty = not isolated. */
  ingressPolicies: string[];
  egressPolicies: string[];
}

export interface NodeModel {
  node: string;
  /** Enforceable pods of the node (have an IP, running, not hostNetwork); sorted by namespace/name. */
  pods: LocalPodModel[];
  /** Policies that select at least one local pod; sorted by namespace/name. */
  policies: PolicyModel[];
  /**
   * Policies, or parts of them, that cannot be programmed; such a part allows nothing (fail
   * closed). The same shape as a NodeEnforcement report's errors, which they become.
   */
  problems: PolicyError[];
}

export { objectKey } from '../util/object-key.js';
