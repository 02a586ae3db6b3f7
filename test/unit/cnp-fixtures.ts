// Builders for ClusterNetworkPolicies in unit tests, and a small two-node cluster the semantic
// cases share: namespaces a and b (label tenant), pods on node-a and node-b, and a host-network
// pod on node-a in namespace a.
import type {
  ClusterNetworkPolicy,
  ClusterNetworkPolicySpec,
  ClusterNetworkPolicyTier,
} from '../../operator/api/clusternetworkpolicy.js';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import { ns, pod } from './netpol-fixtures.js';
import type { Cluster } from './cnp-interpreter.js';

export function cnp(
  name: string,
  tier: ClusterNetworkPolicyTier,
  priority: number,
  rest: Partial<ClusterNetworkPolicySpec> = {},
): ClusterNetworkPolicy {
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name, uid: `uid-${name}`, generation: 1 },
    spec: { tier, priority, subject: { namespaces: {} }, ...rest },
  };
}

export const NODES = ['node-a', 'node-b'] as const;

/** a1 10.0.0.1 (node-a, app=web, TCP port "web" 8080), a2 10.0.0.2 (node-b, app=db), b1 10.0.1.1
 * (node-a, app=web, UDP port "web" 5353), b2 10.0.1.2 (node-b), host 10.250.0.11 (node-a, ns a,
 * hostNetwork, app=web). */
export function baseCluster(policies: NetworkPolicy[] = [], cnps: ClusterNetworkPolicy[] = []): Cluster {
  return {
    namespaces: [ns('a', { tenant: 'a' }), ns('b', { tenant: 'b' })],
    pods: [
      pod('a', 'a1', {
        ip: '10.0.0.1',
        node: 'node-a',
        labels: { app: 'web' },
        ports: [{ name: 'web', containerPort: 8080 }],
      }),
      pod('a', 'a2', { ip: '10.0.0.2', node: 'node-b', labels: { app: 'db' } }),
      pod('b', 'b1', {
        ip: '10.0.1.1',
        node: 'node-a',
        labels: { app: 'web' },
        ports: [{ name: 'web', containerPort: 5353, protocol: 'UDP' }],
      }),
      pod('b', 'b2', { ip: '10.0.1.2', node: 'node-b' }),
      pod('a', 'host', { ip: '10.250.0.11', node: 'node-a', labels: { app: 'web' }, hostNetwork: true }),
    ],
    policies,
    clusterNetworkPolicies: cnps,
  };
}

export const IP = {
  a1: '10.0.0.1',
  a2: '10.0.0.2',
  b1: '10.0.1.1',
  b2: '10.0.1.2',
  host: '10.250.0.11',
  ext: '192.0.2.7',
};

export const inNs = (name: string) => ({
  namespaces: { matchLabels: { 'kubernetes.io/metadata.name': name } },
});
