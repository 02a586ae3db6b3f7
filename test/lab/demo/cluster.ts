// Puts the scenario into the API server: Node objects (so pod garbage collection leaves the
// pods alone), namespaces, and pods bound to their nodes with their IPs set through the status
// subresource, as a kubelet and a CNI would. No kubelet runs; pods are plain API objects.
import type { KubeAccess } from '../../../operator/kube/config.js';
import { ApiError, requestJson } from '../../../operator/kube/raw-request.js';
import type { ScenarioPod } from './scenario.js';

async function createOrKeep(kc: KubeAccess, path: string, body: unknown): Promise<void> {
  try {
    await requestJson(kc, 'POST', path, body);
  } catch (err) {
    if (!(err instanceof ApiError) || err.statusCode !== 409) throw err;
  }
}

export async function createNodes(kc: KubeAccess, nodes: readonly string[]): Promise<void> {
  for (const name of nodes) {
    await createOrKeep(kc, '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    });
  }
}

export async function ensureNamespace(
  kc: KubeAccess,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await createOrKeep(kc, '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
}

/** Waits for the namespace's default ServiceAccount (pod admission requires it). */
export async function waitForServiceAccount(
  kc: KubeAccess,
  namespace: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await requestJson(kc, 'GET', `/api/v1/namespaces/${namespace}/serviceaccounts/default`);
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`no default ServiceAccount in ${namespace} after ${timeoutMs} ms`, { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function createPod(kc: KubeAccess, pod: ScenarioPod): Promise<void> {
  await waitForServiceAccount(kc, pod.namespace);
  await createOrKeep(kc, `/api/v1/namespaces/${pod.namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels },
    spec: {
      nodeName: pod.node,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'main',
          image: 'registry.invalid/softtenant-demo:none',
          ports: pod.ports.map((p) => ({
            ...(p.name ? { name: p.name } : {}),
            containerPort: p.port,
            protocol: p.protocol,
          })),
        },
      ],
      // No kubelet heartbeats here, so the nodes turn NotReady; tolerating that keeps the pods.
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
      ],
    },
  });
  await setPodIP(kc, pod.namespace, pod.name, pod.ip);
}

export async function setPodIP(kc: KubeAccess, namespace: string, name: string, ip: string): Promise<void> {
  await requestJson(
    kc,
    'PATCH',
    `/api/v1/namespaces/${namespace}/pods/${name}/status`,
    {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    },
    'application/merge-patch+json',
  );
}

export async function patchLabels(
  kc: KubeAccess,
  path: string,
  labels: Record<string, string | null>,
): Promise<void> {
  await requestJson(kc, 'PATCH', path, { metadata: { labels } }, 'application/merge-patch+json');
}
