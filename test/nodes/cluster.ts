// A real cluster for the nodes suite: hack/cluster/cluster-up.sh (control plane, scheduler,
// kubelet nodes in network namespaces) and softtenant installed from config/default the way a
// user installs it (hack/cluster/install-softtenant.sh). Torn down by hack/cluster/cluster-down.sh.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/controlplane.js';

/** SOFTTENANT_CLUSTER names the state dir of a cluster already up with softtenant installed. */
export const reuseCluster = process.env.SOFTTENANT_CLUSTER;
export const clusterDir = reuseCluster ?? join(repoRoot, '.tmp/nodes-cluster');
export const AGNHOST_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.63.0';
export const SYSTEM_NS = 'softtenant-system';

function script(name: string, args: string[]): void {
  const res = spawnSync('bash', [join(repoRoot, 'hack/cluster', name), ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (res.status !== 0) throw new Error(`hack/cluster/${name} failed (exit ${res.status})`);
}

export function clusterUp(): string {
  script('cluster-up.sh', [clusterDir]);
  const kubeconfig = join(clusterDir, 'controlplane/kubeconfig');
  script('install-softtenant.sh', [kubeconfig]);
  return kubeconfig;
}

export function clusterDown(): void {
  script('cluster-down.sh', [clusterDir]);
}

/** The network namespace cluster-up made for a node ("node1" -> "stk-node1"). */
export function nodeNetns(node: string): string {
  return `${readFileSync(join(clusterDir, 'prefix'), 'utf8').trim()}-${node}`;
}

/** kubectl against the cluster (KUBECONFIG is set by the hooks); stdout, throws with stderr. */
export function kubectl(args: string[], input?: string): string {
  try {
    return execFileSync('kubectl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')}: ${e.stderr ?? e.message}`, { cause: err });
  }
}

export function getJson<T>(args: string[]): T {
  return JSON.parse(kubectl([...args, '-o', 'json'])) as T;
}
