// The per-node ClusterNetworkPolicy model: for the pods of one node, the Admin-tier and
// Baseline-tier rules that apply to them, per direction and in evaluation order, with subjects,
// peers and ports resolved. It is data only, shaped like the NetworkPolicy model
// (operator/netpol/types.ts): every rule is a netpol RuleModel (peer set key and IPs, CIDR
// blocks, port ranges, named-port groups) plus an action, so the render can reuse the same
// ipsets and match text, and put Admin chains before the NetworkPolicy chains and Baseline
// chains after them.
import type {
  ClusterNetworkPolicy,
  ClusterNetworkPolicyRuleAction,
  ClusterNetworkPolicyTier,
} from '../api/clusternetworkpolicy.js';
import type { Namespace, Pod } from '../api/networkpolicy.js';
import type { Direction, RuleModel } from '../netpol/types.js';

export type { Direction };

export interface CnpModelInput {
  namespaces: readonly Namespace[];
  pods: readonly Pod[];
  clusterNetworkPolicies: readonly ClusterNetworkPolicy[];
  /** Name of the node whose local pods are enforced (spec.nodeName). */
  node: string;
}

/**
 * One rule of a policy, in the netpol rule shape. It matches a connection as a netpol rule
 * allows one (peer, then ports or named groups); what a match means is `action`.
 * A rule the model cannot use is kept in the API's fail-closed form (`failClosed` says why): an
 * Accept rule matches nothing, a Deny or Pass rule becomes a Deny of everything.
 */
export interface CnpRuleModel extends RuleModel {
  action: ClusterNetworkPolicyRuleAction;
  /** The rule's `name`, for observability (chain comments, logs). */
  name?: string;
  failClosed?: string;
}

export interface CnpPolicyModel {
  name: string;
  uid?: string;
  generation?: number;
  tier: ClusterNetworkPolicyTier;
  priority: number;
  /** In spec order; empty when the policy has no rules in that direction (it does not affect it). */
  ingress: CnpRuleModel[];
  egress: CnpRuleModel[];
  /** "namespace/name" of the local pods its subject selects; sorted, never empty. */
  localPods: string[];
  /**
   * False when a part of the policy cannot be enforced as written (an experimental or unknown
   * peer, an invalid port or CIDR, an unknown action): those rules are in fail-closed form, and
   * the policy is reported as not programmable with `reasons`, never as enforced.
   */
  programmable: boolean;
  reasons: string[];
}

export interface TierPolicies {
  /** Names of the policies whose rules apply, in evaluation order. */
  ingress: string[];
  egress: string[];
}

export interface CnpLocalPodModel {
  namespace: string;
  name: string;
  ips: readonly string[];
  admin: TierPolicies;
  baseline: TierPolicies;
}

/** A policy (or a part of it) the model could not use; becomes a status condition and a report error. */
export interface CnpProblem {
  name: string;
  reason: string;
  message: string;
}

export interface CnpNodeModel {
  node: string;
  /** Enforceable pods of the node (have an IP, running, not hostNetwork); sorted by namespace/name. */
  pods: CnpLocalPodModel[];
  /**
   * Policies that select at least one local pod, in evaluation order: Admin before Baseline,
   * then priority (lower first), then name (the API leaves equal priorities unordered; the name
   * makes the order deterministic on every node).
   */
  policies: CnpPolicyModel[];
  problems: CnpProblem[];
}

/** One rule in the evaluation order of a pod, tier and direction. */
export interface OrderedRule {
  policy: CnpPolicyModel;
  rule: CnpRuleModel;
}
