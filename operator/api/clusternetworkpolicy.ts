// Plain JSON shapes of ClusterNetworkPolicy, policy.networking.k8s.io/v1beta1 (v1alpha2 is served
// with the same schema), as sig-network's network-policy-api v0.3.0 defines it. The CRD itself is
// vendored from that release (config/crd/network-policy-api/, hack/vendor-network-policy-api.sh)
// and is the source of validation; these types only let the pure code read what the API server
// stored. Fields of the experimental channel (egress peers `nodes` and `domainNames`, the
// protocol `destinationNamedPort`) are declared so that the model can recognise them: it refuses
// the first two (fail closed, see operator/cnp/) and resolves named ports.
import type { Condition } from './conditions.js';
import type { LabelSelector, ObjectMeta } from './networkpolicy.js';

export const CNP_GROUP = 'policy.networking.k8s.io';
export const CNP_VERSION = 'v1beta1';
/** Also served by the CRD, with the same schema (storage is v1beta1). */
export const CNP_VERSION_ALPHA = 'v1alpha2';
export const CNP_KIND = 'ClusterNetworkPolicy';
export const CNP_PLURAL = 'clusternetworkpolicies';
/** Release of the module the vendored CRD and these types follow. */
export const NETWORK_POLICY_API_VERSION = 'v0.3.0';

/** Admin is evaluated before NetworkPolicies, Baseline after them. */
export type ClusterNetworkPolicyTier = 'Admin' | 'Baseline';
export const CNP_TIERS: readonly ClusterNetworkPolicyTier[] = ['Admin', 'Baseline'];

/**
 * Accept and Deny end the evaluation of the direction (Accept: allowed, though the other end's
 * ingress still applies to egress); Pass skips the rest of the tier (Admin: on to NetworkPolicies;
 * Baseline: on to the default, which allows).
 */
export type ClusterNetworkPolicyRuleAction = 'Accept' | 'Deny' | 'Pass';
export const CNP_ACTIONS: readonly ClusterNetworkPolicyRuleAction[] = ['Accept', 'Deny', 'Pass'];

/** Lowest and highest `spec.priority`; a lower value is evaluated first within its tier. */
export const CNP_PRIORITY_MIN = 0;
export const CNP_PRIORITY_MAX = 1000;

/** Pods in namespaces the namespaceSelector selects whose labels the podSelector selects. */
export interface NamespacedPod {
  /** Empty or absent: every namespace. */
  namespaceSelector?: LabelSelector;
  /** Required by the schema; empty: every pod of those namespaces. */
  podSelector: LabelSelector;
}

/** Exactly one field (MinProperties = MaxProperties = 1). Host-network pods are never subjects. */
export interface ClusterNetworkPolicySubject {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
}

/** Exactly one of `number` (1-65535) and `range`. */
export interface ClusterNetworkPolicyPort {
  number?: number;
  /** Inclusive; the CRD requires start < end (CEL). */
  range?: { start: number; end: number };
}

/** The schema requires destinationPort (MinProperties = 1). */
export interface ClusterNetworkPolicyProtocolPort {
  destinationPort?: ClusterNetworkPolicyPort;
}

/** Exactly one field. */
export interface ClusterNetworkPolicyProtocol {
  tcp?: ClusterNetworkPolicyProtocolPort;
  udp?: ClusterNetworkPolicyProtocolPort;
  sctp?: ClusterNetworkPolicyProtocolPort;
  /**
   * Experimental channel: the destination pod's container port of that name (with the protocol
   * the container declares). Pruned by the standard-channel CRD.
   */
  destinationNamedPort?: string;
}

/** Exactly one field. Namespaces and pods never include host-network pods. */
export interface ClusterNetworkPolicyIngressPeer {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
}

/** Exactly one field. */
export interface ClusterNetworkPolicyEgressPeer {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
  /**
   * CIDRs (IPv4 or IPv6, host bits clear; at most 25). They match in-cluster addresses too: a
   * Deny to 0.0.0.0/0 denies pod-to-pod traffic as well.
   */
  networks?: string[];
  /** Experimental channel: node addresses by node labels. Refused by softtenant (fail closed). */
  nodes?: LabelSelector;
  /** Experimental channel, Accept rules only: DNS names. Refused by softtenant (fail closed). */
  domainNames?: string[];
}

export interface ClusterNetworkPolicyIngressRule {
  /** At most 100 characters; for observability only. */
  name?: string;
  action: ClusterNetworkPolicyRuleAction;
  /** 1-25 peers, ORed. */
  from: ClusterNetworkPolicyIngressPeer[];
  /** Absent: every protocol and port. Otherwise 1-25 entries, ORed. */
  protocols?: ClusterNetworkPolicyProtocol[];
}

export interface ClusterNetworkPolicyEgressRule {
  name?: string;
  action: ClusterNetworkPolicyRuleAction;
  /** 1-25 peers, ORed. */
  to: ClusterNetworkPolicyEgressPeer[];
  protocols?: ClusterNetworkPolicyProtocol[];
}

export interface ClusterNetworkPolicySpec {
  tier: ClusterNetworkPolicyTier;
  /** 0-1000. Policies of one tier with the same priority have no order the API defines. */
  priority: number;
  subject: ClusterNetworkPolicySubject;
  /** At most 25 rules, evaluated in order; absent: the policy does not affect ingress. */
  ingress?: ClusterNetworkPolicyIngressRule[];
  /** At most 25 rules, evaluated in order; absent: the policy does not affect egress. */
  egress?: ClusterNetworkPolicyEgressRule[];
}

export interface ClusterNetworkPolicyStatus {
  conditions?: Condition[];
}

export interface ClusterNetworkPolicy {
  apiVersion: `${typeof CNP_GROUP}/${typeof CNP_VERSION | typeof CNP_VERSION_ALPHA}`;
  kind: typeof CNP_KIND;
  /** Cluster-scoped: no namespace. */
  metadata: ObjectMeta;
  spec: ClusterNetworkPolicySpec;
  status?: ClusterNetworkPolicyStatus;
}
