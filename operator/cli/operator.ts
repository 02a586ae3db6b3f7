// `softtenant operator`: runs the SoftTenant controller against the current kubeconfig (or the
// in-cluster config). Stops gracefully on SIGTERM/SIGINT: watches stop, the reconcile in flight
// finishes, exit code 0.
import { TenantController } from '../controller/controller.js';
import { Reconciler } from '../controller/reconciler.js';
import { EventRecorder } from '../controller/recorder.js';
import { WatchRuntime } from '../controller/runtime.js';
import { loadKubeConfig } from '../kube/config.js';
import { KubeTenantClient } from '../kube/tenant-client.js';
import { expandTenants } from '../tenant/expand.js';
import { parseDuration } from '../util/duration.js';
import { logger } from '../util/logger.js';
import { parseArgs, UsageError } from './args.js';

const DEFAULT_RESYNC = '5m';

const usage = `usage: softtenant operator [--kubeconfig PATH] [--resync-period DURATION]

Runs the SoftTenant operator: keeps tenant namespaces labelled and tenant NetworkPolicies
generated, pruned and repaired, and reports status and Events on each SoftTenant.

flags:
  --kubeconfig PATH         kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --resync-period DURATION  how often every tenant is reconciled even without events (default ${DEFAULT_RESYNC};
                            e.g. 30s, 5m, 1h)
  -h, --help                show this help
`;

export async function run(args: string[]): Promise<number> {
  let kubeconfig: string | undefined;
  let resyncPeriodMs: number;
  try {
    const parsed = parseArgs(args, {
      values: ['kubeconfig', 'resync-period'],
      bools: ['help'],
      aliases: { h: 'help' },
    });
    if (parsed.bools.has('help')) {
      process.stdout.write(usage);
      return 0;
    }
    if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0]}`);
    kubeconfig = parsed.flags.get('kubeconfig')?.at(-1);
    resyncPeriodMs = parseDuration(parsed.flags.get('resync-period')?.at(-1) ?? DEFAULT_RESYNC);
    if (resyncPeriodMs <= 0) throw new UsageError('--resync-period must be positive');
  } catch (err) {
    process.stderr.write(
      `softtenant operator: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`,
    );
    return 2;
  }

  const log = logger('operator');
  const kubeConfig = loadKubeConfig(kubeconfig);
  const client = new KubeTenantClient(kubeConfig);
  const reconciler = new Reconciler({ client, expand: expandTenants, recorder: new EventRecorder(client) });
  const controller = new TenantController(reconciler, client, {
    resyncPeriodMs,
    stats: () => ({ writesTotal: client.writes.count }),
  });
  const runtime = new WatchRuntime((kind, object) => controller.wake(kind, object), kubeconfig);

  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });

  controller.start();
  await runtime.start();
  log.info('operator started', { resyncPeriodMs, cluster: kubeConfig.getCurrentCluster()?.server });

  const signal = await stopped;
  log.info('stopping', { signal });
  // From here wake-ups are ignored; the reconcile in flight finishes.
  await controller.stop();
  log.info('stopped', { writesTotal: client.writes.count });
  // Exiting closes the watches. The framework's own stop() is not used: it aborts the watch
  // requests, and its error handler answers the abort with process.exit(1).
  process.exit(0);
}
