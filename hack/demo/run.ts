// `make demo`: a local control plane, the operator, two node agents enforcing in network
// namespaces, the sample tenants, `kubectl get softtenants`, and a connectivity matrix from real
// probes compared with what the tenants declare. Everything is torn down at the end unless
// --keep is given.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeConfig } from '../../operator/kube/config.js';
import { cleanupStaleLabs } from '../../test/lab/build.js';
import { repoRoot } from '../../test/lab/demo/processes.js';
import { EXPECTATIONS } from '../../test/lab/demo/scenario.js';
import { formatVerdicts, kubectl, World } from '../../test/lab/demo/world.js';

const started = Date.now();
const say = (msg: string): void => {
  process.stdout.write(`[demo ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
};

async function main(argv: string[]): Promise<number> {
  const keep = argv.includes('--keep');
  const state = join(repoRoot, '.tmp/demo');
  const cpState = join(state, 'controlplane');
  const logDir = join(state, 'logs');
  mkdirSync(logDir, { recursive: true });
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'make demo needs root: it creates network namespaces and programs iptables inside them\n',
    );
    return 2;
  }
  spawnSync('bash', [join(repoRoot, 'hack/controlplane-down.sh'), cpState], { stdio: 'inherit' });
  await cleanupStaleLabs();

  say('starting the local control plane (etcd, kube-apiserver, kube-controller-manager)');
  const up = spawnSync('bash', [join(repoRoot, 'hack/controlplane-up.sh'), cpState], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (up.status !== 0) return 1;
  const kubeconfigPath = join(cpState, 'kubeconfig');
  const kc = loadKubeConfig(kubeconfigPath);
  const world = new World({ kc, kubeconfigPath, logDir, say });
  let code = 0;
  try {
    world.installCRDs();
    await world.createPods();
    await world.buildLab();
    world.startOperator();
    for (const node of ['node-a', 'node-b']) world.startAgent(node);
    world.applySamples();
    say('waiting for every tenant to be Ready and Enforced on its nodes');
    await world.waitForEnforced(120_000);
    say('kubectl get softtenants');
    process.stdout.write(kubectl(kubeconfigPath, ['get', 'softtenants']));
    say('kubectl get nodeenforcements');
    process.stdout.write(kubectl(kubeconfigPath, ['get', 'nodeenforcements']));
    say(`probing ${EXPECTATIONS.length} connections with real TCP/UDP packets`);
    const results = await world.probe();
    const { text, mismatches } = formatVerdicts(EXPECTATIONS, results);
    process.stdout.write(`${text}\n`);
    if (mismatches > 0) {
      say(`${mismatches} connections differ from what the tenants declare (marked !)`);
      code = 1;
    } else {
      say(`all ${EXPECTATIONS.length} connections match what the tenants declare`);
    }
  } catch (err) {
    say(`demo failed: ${(err as Error).message}`);
    say(`logs: ${logDir}`);
    code = 1;
  } finally {
    if (keep && code === 0) {
      say(`kept running. KUBECONFIG=${kubeconfigPath}; lab ${world.lab?.id}; logs in ${logDir}`);
      say('press Ctrl-C to tear everything down');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    say('tearing down: agents, operator, lab, control plane');
    await world.stop();
    spawnSync('bash', [join(repoRoot, 'hack/controlplane-down.sh'), cpState], { stdio: 'inherit' });
    say(`done in ${((Date.now() - started) / 1000).toFixed(0)}s`);
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
