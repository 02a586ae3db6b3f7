// Starts one real control plane (etcd, kube-apiserver, kube-controller-manager) for a test run
// through the hack/ scripts, and stops it at the end, also when tests fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ControlPlane {
  kubeconfig: string;
  stateDir: string;
  stop(): void;
}

export function startControlPlane(): ControlPlane {
  const stateDir = mkdtempSync(join(tmpdir(), 'softtenant-cp-'));
  const res = spawnSync('bash', [join(repoRoot, 'hack/controlplane-up.sh'), stateDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const stop = (): void => {
    spawnSync('bash', [join(repoRoot, 'hack/controlplane-down.sh'), stateDir], { stdio: 'inherit' });
  };
  if (res.status !== 0) {
    stop();
    throw new Error(`control plane failed to start (exit ${res.status})`);
  }
  return { kubeconfig: join(stateDir, 'kubeconfig'), stateDir, stop };
}

/** kubectl against the test control plane; returns stdout, throws with stderr on failure. */
export function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', args, {
    encoding: 'utf8',
    input,
    env: process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
