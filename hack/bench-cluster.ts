// Synthetic clusters for `make bench`: namespaces of ~20 pods, four kinds of policy per
// namespace (default-deny ingress; same-namespace allow on a number and a named port; allow from
// one app in every prod namespace (a peer set of hundreds of pods, shared by many policies) and
// from an ipBlock with except, on a named port that resolves to different numbers on different
// pods; egress to DNS by named port, to the internet minus 10/8 on 443, and within the namespace). The measured node's pods are spread evenly over
// all namespaces, which is the worst case: nearly every policy selects a local pod.
import type { Namespace, NetworkPolicy, NetworkPolicySpec, Pod } from '../operator/api/networkpolicy.js';
import { formatIPv4, parseIPv4 } from '../operator/net/address.js';

export interface BenchSize {
  pods: number;
  policies: number;
  local: number;
}

export interface SyntheticCluster {
  node: string;
  namespaces: Namespace[];
  pods: Pod[];
  policies: NetworkPolicy[];
}

export const BENCH_NODE = 'bench-node';
const podBase = parseIPv4('10.64.0.0') as number;

export function benchPod(
  index: number,
  namespace: string,
  labels: Record<string, string>,
  nodeName: string,
): Pod {
  return {
    kind: 'Pod',
    metadata: { name: `p-${index}`, namespace, labels },
    spec: {
      nodeName,
      containers: [
        {
          name: 'app',
          ports: [
            { name: 'http', containerPort: index % 4 === 0 ? 9090 : 8080 },
            { name: 'metrics', containerPort: 9100 },
          ],
        },
      ],
    },
    status: { phase: 'Running', podIP: formatIPv4(podBase + index + 1) },
  };
}

function policySpec(kind: number, k: number): NetworkPolicySpec {
  const app = `app-${k % 5}`;
  switch (kind) {
    case 0:
      return { podSelector: {}, policyTypes: ['Ingress'] };
    case 1:
      return {
        podSelector: { matchLabels: { app } },
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { tier: 'fe' } } }],
            ports: [{ port: 8080 }, { port: 'metrics' }],
          },
        ],
      };
    case 2:
      return {
        podSelector: { matchLabels: { tier: 'be' } },
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { env: 'prod' } },
                podSelector: { matchLabels: { app: `app-${(k + 1) % 5}` } },
              },
              { ipBlock: { cidr: '172.16.0.0/12', except: ['172.16.5.0/24'] } },
            ],
            ports: [{ port: 'http' }],
          },
        ],
      };
    default:
      return {
        podSelector: { matchLabels: { app } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [{ protocol: 'UDP', port: 'dns' }],
          },
          { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 443 }] },
          { to: [{ podSelector: {} }] },
        ],
      };
  }
}

/** A deterministic cluster of the given size; `local` pods run on BENCH_NODE. */
export function syntheticCluster(size: BenchSize): SyntheticCluster {
  const nsCount = Math.max(10, Math.round(size.pods / 20));
  const namespaces: Namespace[] = [{ kind: 'Namespace', metadata: { name: 'kube-system' } }];
  for (let i = 0; i < nsCount; i++) {
    namespaces.push({
      kind: 'Namespace',
      metadata: { name: `ns-${i}`, labels: { team: `t${i % 20}`, env: i % 3 === 0 ? 'prod' : 'dev' } },
    });
  }
  const pods: Pod[] = [];
  for (let j = 0; j < size.pods; j++) {
    // Exactly `local` pods are local: j -> j*7919 mod pods is a permutation (7919 is prime and
    // does not divide the sizes used), which scatters them over all namespaces.
    const isLocal = (j * 7919) % size.pods < size.local;
    const labels = { app: `app-${Math.floor(j / nsCount) % 5}`, tier: j % 2 ? 'fe' : 'be' };
    pods.push(benchPod(j, `ns-${j % nsCount}`, labels, isLocal ? BENCH_NODE : `node-${j % 50}`));
  }
  for (let d = 0; d < 4; d++) {
    pods.push({
      kind: 'Pod',
      metadata: { name: `coredns-${d}`, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        nodeName: `node-${d}`,
        containers: [
          { name: 'coredns', ports: [{ name: 'dns', containerPort: d === 0 ? 5353 : 53, protocol: 'UDP' }] },
        ],
      },
      status: { phase: 'Running', podIP: `10.63.0.${d + 2}` },
    });
  }
  const policies: NetworkPolicy[] = [];
  for (let k = 0; k < size.policies; k++) {
    policies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: `pol-${k}`,
        namespace: `ns-${Math.floor(k / 4) % nsCount}`,
        uid: `uid-${k}`,
        generation: 1,
      },
      spec: policySpec(k % 4, k),
    });
  }
  return { node: BENCH_NODE, namespaces, pods, policies };
}
