// NodeEnforcement (tenancy.softtenant.io/v1alpha1, cluster-scoped, one per node, named after
// the node): what the node agent programs. The agent writes it; the operator reads it to fill
// each SoftTenant's status.enforcement.
import type { Condition } from './conditions.js';
import type { ObjectMeta } from './networkpolicy.js';
import { API_VERSION } from './softtenant.js';

export const NODE_ENFORCEMENT_KIND = 'NodeEnforcement';
export const NODE_ENFORCEMENT_PLURAL = 'nodeenforcements';
export const NODE_ENFORCEMENT_API_VERSION = API_VERSION;
/** Field manager / Event source of the node agent. */
export const AGENT_FIELD_MANAGER = 'softtenant-agent';

export interface EnforcedPolicy {
  namespace: string;
  name: string;
  uid: string;
  /** metadata.generation of the policy that is programmed. */
  generation: number;
}

/** A ClusterNetworkPolicy (cluster-scoped) that the node programs, as far as it selects local pods. */
export interface EnforcedClusterNetworkPolicy {
  name: string;
  uid: string;
  /** metadata.generation of the policy that is programmed. */
  generation: number;
}

export interface PolicyError {
  /** "ClusterNetworkPolicy" for a ClusterNetworkPolicy (namespace empty); absent otherwise. */
  kind?: 'ClusterNetworkPolicy';
  namespace: string;
  name: string;
  reason: string;
  message: string;
}

/** What the agent programs for one address family: iptables (ipv4) or ip6tables (ipv6). */
export interface FamilyEnforcement {
  chains?: number;
  rules?: number;
  ipsetEntries?: number;
}

/** How the node treats a local pod address its agent has not programmed yet (issue 13). */
export interface NewPodsStatus {
  /**
   * FailClosed: refused while a pod that a policy isolates awaits its address on this node;
   * Strict: always refused; FailOpen: allowed until programmed (fail-closed off, or no pod ranges known).
   */
  mode: 'FailClosed' | 'Strict' | 'FailOpen';
  /** The node's pod address ranges the agent guards (Node.spec.podCIDRs or --pod-cidr). */
  podCIDRs?: string[];
  /** Why the mode is FailOpen although fail-closed was asked for. */
  message?: string;
}

export interface NodeEnforcementStatus {
  /** Which iptables backend the agent uses on this node: "nft" or "legacy". */
  backend?: string;
  agentVersion?: string;
  /** Heartbeat: the agent renews it at least every heartbeatSeconds, also when nothing changes. */
  heartbeatTime?: string;
  heartbeatSeconds?: number;
  lastSyncTime?: string;
  lastSyncDurationMs?: number;
  chains?: number;
  rules?: number;
  ipsetEntries?: number;
  /** chains, rules and ipsetEntries per address family (the fields above are their sums). */
  families?: { ipv4?: FamilyEnforcement; ipv6?: FamilyEnforcement };
  localPods?: number;
  /** Sorted by namespace, name. */
  policies?: EnforcedPolicy[];
  /**
   * The ClusterNetworkPolicies that select a local pod and are programmed as written, by name.
   * One that cannot be (an experimental peer, say) is in errors instead, never here.
   */
  clusterNetworkPolicies?: EnforcedClusterNetworkPolicy[];
  errors?: PolicyError[];
  conditions?: Condition[];
  newPods?: NewPodsStatus;
}

export interface NodeEnforcement {
  apiVersion: typeof NODE_ENFORCEMENT_API_VERSION;
  kind: typeof NODE_ENFORCEMENT_KIND;
  metadata: ObjectMeta;
  status?: NodeEnforcementStatus;
}
