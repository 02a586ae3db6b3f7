// The schema of a networking.k8s.io/v1 NetworkPolicySpec, for the CRD's rules[].spec: the same
// fields as the NetworkPolicy API with the same checks, so a rule the CRD accepts is a policy
// the API server accepts.
import { Limits, arr, ipBlock, labelSelector, obj, ports, str, type Schema } from './crd-schema.js';
import { Msg } from './messages.js';

function networkPolicyPeer(direction: 'from' | 'to'): Schema {
  const who = direction === 'from' ? 'sources' : 'destinations';
  return obj(
    `One kind of ${who}: an ipBlock, or pods chosen by namespaceSelector and/or podSelector (ANDed when both are given). Exactly as in a NetworkPolicy.`,
    {
      ipBlock: ipBlock(`Addresses (not pods) that are allowed as ${who}. Cannot be combined with selectors.`),
      namespaceSelector: labelSelector(
        `Namespaces whose pods are allowed as ${who}, chosen by namespace labels (every namespace has kubernetes.io/metadata.name=<name>). {} means all namespaces. With podSelector: only the matching pods of these namespaces.`,
      ),
      podSelector: labelSelector(
        `Pods allowed as ${who}, chosen by pod labels. Alone it looks in the policy's own namespace; with namespaceSelector, in the selected namespaces. {} means all pods.`,
      ),
    },
    {
      'x-kubernetes-validations': [
        {
          rule: '!has(self.ipBlock) || (!has(self.namespaceSelector) && !has(self.podSelector))',
          message: Msg.peerIpBlockCombined,
        },
        {
          rule: 'has(self.ipBlock) || has(self.namespaceSelector) || has(self.podSelector)',
          message: Msg.peerEmpty,
        },
      ],
    },
  );
}

function networkPolicyRules(direction: 'ingress' | 'egress'): Schema {
  const peers = direction === 'ingress' ? 'from' : 'to';
  const verb = direction === 'ingress' ? 'in from' : 'out to';
  return arr(
    `Allow rules for ${direction} traffic; a connection is allowed if any rule allows it. An empty list allows nothing (the selected pods are isolated for ${direction} if policyTypes contains ${direction === 'ingress' ? 'Ingress' : 'Egress'}).`,
    obj(`Traffic ${verb} any of ${peers} on any of ports is allowed.`, {
      [peers]: arr(
        `The allowed ${direction === 'ingress' ? 'sources' : 'destinations'}, ORed. Empty or absent: any ${direction === 'ingress' ? 'source' : 'destination'}.`,
        networkPolicyPeer(peers),
        { maxItems: Limits.policyPeers, 'x-kubernetes-list-type': 'atomic' },
      ),
      ports: ports(
        'The allowed destination ports, ORed. Empty or absent: every port and protocol.',
        Limits.ports,
      ),
    }),
    { maxItems: Limits.policyRules, 'x-kubernetes-list-type': 'atomic' },
  );
}

export function networkPolicySpec(): Schema {
  return obj(
    'A networking.k8s.io/v1 NetworkPolicySpec, copied verbatim into each namespace the rule applies to. See `kubectl explain networkpolicy.spec`.',
    {
      podSelector: labelSelector(
        'The pods of the namespace this policy applies to. {} selects every pod of the namespace.',
      ),
      policyTypes: arr(
        'Which directions this policy isolates: Ingress, Egress or both. When absent, Kubernetes sets Ingress, plus Egress if the spec has egress rules.',
        str('Ingress or Egress.', { enum: ['Ingress', 'Egress'] }),
        { maxItems: 2, 'x-kubernetes-list-type': 'set' },
      ),
      ingress: networkPolicyRules('ingress'),
      egress: networkPolicyRules('egress'),
    },
    { required: ['podSelector'] },
  );
}
