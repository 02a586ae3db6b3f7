// The tenants of the new-pod tests and of `make bench-enforce` (hack/bench-enforce.ts): an
// isolated tenant (ingress and egress only within its namespace) with an anchor pod on each node
// so both agents program its policy, a namespace no policy isolates, and a prober pod of another
// tenant on node2; and, for the readiness gate, a namespace of a SoftTenant with the opt-in
// admission policy of config/admission/readiness-gate installed. Everything through kubectl
// against the cluster in KUBECONFIG.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/controlplane.js';
import { eventually } from '../support/eventually.js';
import { AGNHOST_IMAGE, getJson, kubectl, SYSTEM_NS } from './cluster.js';

export const ISO = 'fc-iso';
export const OPEN = 'fc-open';
export const PROBER_NS = 'fc-probe';
export const PORT = 8080;
export const GATE = 'tenancy.softtenant.io/enforced';
/** The namespace of the SoftTenant GATED_TENANT, whose pods the readiness-gate policy gates. */
export const GATED_NS = 'fc-gated';
export const GATED_TENANT = 'fc-gated';
/** The opt-in policy that adds GATE to the pods of tenants (not part of config/default). */
export const GATE_POLICY_DIR = join(repoRoot, 'config/admission/readiness-gate');
/** New isolated pods, half on each node (the 100; FC_PODS for a quicker local run). */
export const COUNT = Number(process.env.FC_PODS ?? '100');

export interface Pod {
  metadata: { name: string; namespace: string; uid: string };
  spec: { nodeName?: string };
  status: {
    podIP?: string;
    phase?: string;
    conditions?: { type: string; status: string; reason?: string }[];
  };
}
export interface List<T> {
  items: T[];
}

/** An agnhost pod serving TCP 8080 on a node, Ready once the port answers the kubelet's probe. */
export function agnhost(ns: string, name: string, node: string, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name.replace(/-\d+$/, '') } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'agnhost',
          image: AGNHOST_IMAGE,
          args: ['netexec', `--http-port=${PORT}`, '--udp-port=-1'],
          ports: [{ name: 'http', containerPort: PORT }],
          readinessProbe: { tcpSocket: { port: PORT }, periodSeconds: 1 },
        },
      ],
      ...extra,
    },
  };
}

export function apply(items: object[]): void {
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}

/**
 * kubectl without blocking this process. While a WindowProbe watches, every kubectl must be
 * this one: the probe (the IPAM directory watch, the prober's commands, the ipset poll) runs on
 * this process's event loop, and a synchronous `kubectl wait` stops it until the pods are Ready,
 * so the probe would start on their addresses only once the window is over.
 */
export function kubectlAsync(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'kubectl',
      args,
      { encoding: 'utf8', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`, { cause: err }));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** apply(), without blocking this process (kubectlAsync). */
export async function applyAsync(items: object[]): Promise<void> {
  await kubectlAsync(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}

function ns(name: string, labels: Record<string, string> = {}): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function podsOf(namespace: string): Pod[] {
  return getJson<List<Pod>>(['-n', namespace, 'get', 'pods']).items;
}

/** podsOf(), without blocking this process (kubectlAsync). */
export async function podsOfAsync(namespace: string): Promise<Pod[]> {
  return (JSON.parse(await kubectlAsync(['-n', namespace, 'get', 'pods', '-o', 'json'])) as List<Pod>).items;
}

/** Namespaces, the isolating policy, the anchors and the prober, Ready. */
export function setupTenants(): void {
  // A previous run's namespaces may still be terminating: creating into them would fail.
  kubectl([
    'delete',
    'namespace',
    ISO,
    OPEN,
    PROBER_NS,
    '--ignore-not-found',
    '--wait=true',
    '--timeout=300s',
  ]);
  apply([
    ns(ISO, { tenant: 'fc-iso' }),
    ns(OPEN),
    ns(PROBER_NS, { tenant: 'fc-probe' }),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'same-namespace', namespace: ISO },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      },
    },
  ]);
  apply([
    agnhost(ISO, 'anchor-1', 'node1'),
    agnhost(ISO, 'anchor-2', 'node2'),
    agnhost(PROBER_NS, 'prober', 'node2'),
  ]);
  kubectl(['-n', ISO, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=180s']);
  kubectl(['-n', PROBER_NS, 'wait', '--for=condition=Ready', 'pod/prober', '--timeout=180s']);
}

/** "namespace/name" of the policies a node's agent reports as programmed. */
export function programmedPolicies(node: string): string[] {
  const ne = getJson<{ status?: { policies?: { namespace: string; name: string }[] } }>([
    'get',
    'nodeenforcement',
    node,
  ]);
  return (ne.status?.policies ?? []).map((p) => `${p.namespace}/${p.name}`);
}

/** A JSON patch (RFC 6902, as a JSON text) to the agent DaemonSet installed by config/default. */
export function patchAgentDaemonSet(jsonPatch: string): void {
  kubectl(['-n', SYSTEM_NS, 'patch', 'daemonset', 'softtenant-agent', '--type=json', '-p', jsonPatch]);
}

/**
 * The readiness-gate policy installed and a SoftTenant owning GATED_NS (isolated both ways), the
 * namespace labelled by the operator, and the policy active: a dry run of a pod there is gated.
 */
export async function setupGatedTenant(): Promise<void> {
  kubectl(['delete', 'namespace', GATED_NS, '--ignore-not-found', '--wait=true', '--timeout=300s']);
  kubectl(['apply', '--server-side', '-k', GATE_POLICY_DIR]);
  apply([
    ns(GATED_NS),
    {
      apiVersion: 'tenancy.softtenant.io/v1alpha1',
      kind: 'SoftTenant',
      metadata: { name: GATED_TENANT },
      spec: {
        namespaces: { names: [GATED_NS] },
        isolation: { ingress: 'Tenant', egress: 'Tenant' },
      },
    },
  ]);
  await eventually(
    () => {
      const labels = getJson<{ metadata: { labels?: Record<string, string> } }>([
        'get',
        'namespace',
        GATED_NS,
      ]).metadata.labels;
      if (labels?.['tenancy.softtenant.io/tenant'] !== GATED_TENANT)
        throw new Error(`${GATED_NS} not labelled by the operator yet`);
      const dry = JSON.parse(
        kubectl(
          ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
          JSON.stringify(agnhost(GATED_NS, 'dry-run', 'node1')),
        ),
      ) as { spec: { readinessGates?: { conditionType: string }[] } };
      if (!(dry.spec.readinessGates ?? []).some((g) => g.conditionType === GATE))
        throw new Error('the readiness-gate policy does not gate pods yet');
    },
    { timeoutMs: 120_000 },
  );
}

/** Removes what setupGatedTenant made (the operator removes the tenant's policies). */
export function removeGatedTenant(): void {
  kubectl(['delete', 'softtenant', GATED_TENANT, '--ignore-not-found', '--wait=true', '--timeout=120s']);
  kubectl(['delete', 'namespace', GATED_NS, '--ignore-not-found', '--wait=false']);
  kubectl(['delete', '-k', GATE_POLICY_DIR, '--ignore-not-found']);
}
