// Which directions of a pod that has no address yet ClusterNetworkPolicies will govern, for the
// fail-closed guard (operator/dataplane/fail-closed.ts): a pod that only a ClusterNetworkPolicy
// isolates (an Admin Deny, say) is as exposed in the window before its address is programmed as
// one a NetworkPolicy isolates, so it arms the guard the same way. Pure.
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import type { Namespace, Pod } from '../api/networkpolicy.js';
import { namespaceLabelsOf } from '../netpol/cluster-index.js';
import type { SelectorPeer } from '../netpol/cluster-index.js';
import { compileSubject } from './model.js';

export interface Governed {
  ingress: boolean;
  egress: boolean;
}

interface Subject {
  peer: SelectorPeer;
  ingress: boolean;
  egress: boolean;
}

const hasRules = (rules: unknown): boolean => Array.isArray(rules) && rules.length > 0;

/**
 * A function telling, for a pod, whether some ClusterNetworkPolicy's subject selects it and has
 * rules in each direction. Policies whose subject cannot be read are not programmed, so they
 * govern nothing here either.
 */
export function cnpGovernance(
  cnps: readonly ClusterNetworkPolicy[],
  namespaces: readonly Namespace[],
): (pod: Pod) => Governed {
  const subjects: Subject[] = [];
  for (const cnp of cnps) {
    const peer = compileSubject(cnp.spec?.subject);
    if (peer) subjects.push({ peer, ingress: hasRules(cnp.spec.ingress), egress: hasRules(cnp.spec.egress) });
  }
  const nsLabels = new Map(namespaces.map((n) => [n.metadata.name, namespaceLabelsOf(n)]));
  return (pod: Pod): Governed => {
    const out = { ingress: false, egress: false };
    if (subjects.length === 0) return out;
    const ns = pod.metadata.namespace ?? 'default';
    const labels = pod.metadata.labels ?? {};
    const nsl = nsLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns };
    for (const s of subjects) {
      if (!(s.peer.namespaceSelector?.matches(nsl) ?? true) || !s.peer.podSelector.matches(labels)) continue;
      out.ingress ||= s.ingress;
      out.egress ||= s.egress;
    }
    return out;
  };
}
