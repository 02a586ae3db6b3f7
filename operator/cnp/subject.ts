// Whether a ClusterNetworkPolicy's subject selects a pod, as the node model decides it
// (model.ts): the namespace selector on the namespace's labels (its name label included) AND
// the pod selector on the pod's. For the operator, which counts the nodes that must program a
// policy; host-network and address-less pods are left out by the caller (isEnforceablePod).
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import type { Namespace, Pod } from '../api/networkpolicy.js';
import { namespaceLabelsOf, type SelectorPeer } from '../netpol/cluster-index.js';
import type { Labels } from '../netpol/selector.js';
import { compileSubject } from './model.js';

/**
 * A predicate over (policy, pod), each subject compiled once. A subject that cannot be read
 * selects nothing here: the agents leave such a policy out and report it (InvalidPolicy).
 */
export function subjectSelection(
  namespace: (name: string) => Namespace | undefined,
): (policy: ClusterNetworkPolicy, pod: Pod) => boolean {
  const compiled = new Map<ClusterNetworkPolicy, SelectorPeer | undefined>();
  const labels = new Map<string, Labels | undefined>();
  return (policy, pod) => {
    if (!compiled.has(policy)) compiled.set(policy, compileSubject(policy.spec?.subject));
    const subject = compiled.get(policy);
    if (!subject) return false;
    const ns = pod.metadata.namespace ?? 'default';
    if (!labels.has(ns)) {
      const found = namespace(ns);
      labels.set(ns, found ? namespaceLabelsOf(found) : undefined);
    }
    return (
      (subject.namespaceSelector?.matches(labels.get(ns)) ?? true) &&
      subject.podSelector.matches(pod.metadata.labels)
    );
  };
}
