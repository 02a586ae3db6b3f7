// Starts one real control plane (etcd, kube-apiserver, kube-controller-manager) for a test run
// through the hack/ scripts, and stops it at the end, also when tests fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The cached control-plane bin dir (hack/controlplane-env.sh), put first on PATH for kubectl. */
export function controlPlaneBinDir(): string {
  return execFileSync(
    'bash',
    ['-c', `. "${join(repoRoot, 'hack/controlplane-env.sh')}" && printf %s "$CP_BIN_DIR"`],
    {
      encoding: 'utf8',
    },
  );
}

export function useControlPlaneBinaries(): void {
  const bin = controlPlaneBinDir();
  if (!(process.env.PATH ?? '').split(':').includes(bin))
    process.env.PATH = `${bin}:${process.env.PATH ?? ''}`;
}

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
