// Installing every CRD in crds/ for a test file, and removing afterwards the ones it created
// (so a later file that installs them itself finds the cluster as it would be without us).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { kubectl, repoRoot } from './controlplane.js';
import { eventually } from './eventually.js';
import { kubectlDelete, tryKubectl } from './kube-json.js';

const CRD_DIR = join(repoRoot, 'crds');

function crdNames(): string[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml') && f.includes('_'))
    .map((f) => {
      const [group, plural] = f.replace(/\.yaml$/, '').split('_');
      return `${plural}.${group}`;
    });
}

/** Applies crds/ server-side and waits until each is Established; returns those that were new. */
export function installAllCrds(): string[] {
  const created = crdNames().filter((name) => tryKubectl(['get', 'crd', name]).code !== 0);
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_DIR]);
  for (const name of crdNames()) {
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${name}`]);
  }
  return created;
}

export function removeCrds(names: string[]): void {
  if (names.length > 0) kubectlDelete(['crd', ...names]);
}

/** Waits until watches of a resource are served (a CRD just installed answers 429 for a moment). */
export async function waitForWatch(path: string): Promise<void> {
  await eventually(
    () => {
      const res = tryKubectl(['get', '--raw', `${path}?watch=1&timeoutSeconds=1`]);
      expect(res.code, res.stderr).to.equal(0);
    },
    { timeoutMs: 30_000 },
  );
}

/** The ClusterNetworkPolicy CRD vendored from sig-network's network-policy-api (standard channel). */
export const CLUSTER_NETWORK_POLICY_CRD = 'clusternetworkpolicies.policy.networking.k8s.io';
export const CLUSTER_NETWORK_POLICY_CRD_FILE = join(
  repoRoot,
  'config/crd/network-policy-api/policy.networking.k8s.io_clusternetworkpolicies.yaml',
);

/** Applies the vendored ClusterNetworkPolicy CRD, waits until it is Established; true if it was new. */
export function installClusterNetworkPolicyCrd(): boolean {
  const created = tryKubectl(['get', 'crd', CLUSTER_NETWORK_POLICY_CRD]).code !== 0;
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', CLUSTER_NETWORK_POLICY_CRD_FILE]);
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${CLUSTER_NETWORK_POLICY_CRD}`]);
  return created;
}
