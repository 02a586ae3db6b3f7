// `softtenant operator`: runs the SoftTenant controller against the current kubeconfig (or the
// in-cluster config). With --leader-elect, only the replica holding the Lease watches and
// reconciles; the others stand by (and are Ready) until the Lease is free or expires. Stops
// gracefully on SIGTERM/SIGINT: no new work, the reconcile in flight finishes (bounded by
// --graceful-shutdown-timeout), the Lease is released, exit code 0. A leader that loses its
// Lease exits 1 at once, so that it never reconciles next to a new leader.
import { ClusterPolicyStatusLoop } from '../controller/cnp-status-loop.js';
import { TenantController } from '../controller/controller.js';
import { OwnershipIndex } from '../controller/ownership-index.js';
import { Reconciler } from '../controller/reconciler.js';
import { EVENT_DEFAULTS, EventRecorder } from '../controller/recorder.js';
import { Probes } from '../health/probes.js';
import { NODE_ENFORCEMENT_PLURAL } from '../api/nodeenforcement.js';
import { GROUP, VERSION } from '../api/softtenant.js';
import { loadKubeConfig } from '../kube/config.js';
import { CNP_GROUP, CNP_PLURAL, CNP_VERSION } from '../api/clusternetworkpolicy.js';
import { KubeClusterNetworkPolicies } from '../kube/clusternetworkpolicies.js';
import { awaitCrd } from '../kube/crd-arrival.js';
import { resourceServed } from '../kube/discovery.js';
import {
  DEFAULT_LEASE_NAME,
  DEFAULT_LEASE_NAMESPACE,
  DEFAULT_TIMINGS,
  defaultIdentity,
  LeaderElector,
  validateTimings,
  type LeaderElectionTimings,
} from '../kube/leader-election.js';
import { KubeLeaseClient } from '../kube/leases.js';
import { OperatorCaches } from '../kube/operator-caches.js';
import { KubeTenantClient } from '../kube/tenant-client.js';
import { TokenBucket } from '../util/token-bucket.js';
import { limitRequests } from '../kube/raw-request.js';
import { MeteredReconciler } from '../controller/metered-reconciler.js';
import { OperatorMetrics } from '../metrics/operator-metrics.js';
import { processRegistry } from '../metrics/registry.js';
import { meterRestClient } from '../metrics/rest-client-metrics.js';
import type { WatchedTenant } from '../metrics/tenant-conditions.js';
import { expandTenants } from '../tenant/expand.js';
import { parseDuration } from '../util/duration.js';
import { logger } from '../util/logger.js';
import { withTimeout } from '../util/timeout.js';
import { parseCommandLine, UsageError } from './args.js';
import {
  ENDPOINT_FLAGS,
  ENDPOINT_FLAGS_HELP,
  endpointAddresses,
  startEndpoints,
  type EndpointAddresses,
} from './endpoint-flags.js';
import { errorMessage } from '../util/errors.js';

const DEFAULT_RESYNC = '5m';
/**
 * Reconciles of different tenants at once. A reconcile mostly waits for the API server (a new
 * tenant: four round trips in sequence), so workers fill the time one would spend waiting. With
 * 8, `make bench-operator` on 2 shared cores was bound by latency, not by the request limit: at
 * about 200 ms a round trip, 8 workers reconcile about 10 new tenants a second where the limit
 * allows 25 (5,000 tenants Ready after 412 s, 5.7 times the 1,000 figure); with 32, 262 s and 4.0
 * times (docs/design.md). The request limit, not the worker count, bounds the load.
 */
const DEFAULT_WORKERS = 32;
/**
 * Client-side limit on API requests (watches aside), as client-go's QPS and burst. The API
 * server's Priority and Fairness is what protects it; this keeps one operator from ever sending
 * more than a bounded rate (a first sync of 1,000 tenants is 6,000 writes, Events aside), with a burst
 * that lets a handful of tenants change at once without waiting. At 200/s the limit itself set
 * the pace on a 2-core control plane (requests waited 95-114 ms for a token on average; 1,000
 * tenants in 40 s, 5,000 in 204 s); at 400/s the requests never wait for a token there and the
 * API server's answers set the pace instead (32-36 s and 176-190 s; docs/design.md, run E).
 */
const DEFAULT_QPS = 400;
const DEFAULT_BURST = 800;
/**
 * The Events' own budget, apart from the limit above (client-go's broadcaster has its own too):
 * Events are sent in the background and never take a token a reconcile needs. A new tenant
 * reports two (NamespaceJoined, PolicyCreated), so 200/s keeps up, with room, with the 52 new
 * tenants a second measured at the limit above on a 2-core control plane (docs/design.md, run F:
 * at 100/s, 400 of a 5,000-tenant convergence's Events were still waiting when the last tenant
 * was Ready). Past the recorder's backlog, Events are dropped rather than delaying anything.
 */
const DEFAULT_EVENT_QPS = 200;
const DEFAULT_EVENT_BURST = 400;
const DEFAULT_GRACE = '10s';
/** Releasing the Lease is one or two requests; do not let an unreachable API server hold exit up. */
const RELEASE_TIMEOUT_MS = 5_000;
/** How often API discovery is asked whether a ClusterNetworkPolicy CRD missing at start is served now. */
const CRD_RECHECK_MS = 15_000;

const seconds = (ms: number): string => `${ms / 1000}s`;

const usage = `usage: softtenant operator [flags]

Runs the SoftTenant operator: keeps tenant namespaces labelled and tenant NetworkPolicies
generated, pruned and repaired, and reports status and Events on each SoftTenant.

flags:
  --kubeconfig PATH                 kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --resync-period DURATION          how often every tenant is reconciled even without events
                                    (default ${DEFAULT_RESYNC}; e.g. 30s, 5m, 1h)
  --leader-elect                    run as one of several replicas: only the holder of the Lease
                                    ${DEFAULT_LEASE_NAME} reconciles (default off: a single instance)
  --leader-election-namespace NS    namespace of that Lease (default ${DEFAULT_LEASE_NAMESPACE})
  --leader-election-lease-duration D  how long a Lease stays valid without renewal; a standby takes
                                    over at most this long after the leader dies (default ${seconds(DEFAULT_TIMINGS.leaseDurationMs)})
  --leader-election-renew-deadline D  a leader that cannot renew for this long stops and exits 1
                                    (default ${seconds(DEFAULT_TIMINGS.renewDeadlineMs)}; shorter than the lease duration)
  --leader-election-retry-period D  time between attempts to acquire or renew (default ${seconds(DEFAULT_TIMINGS.retryPeriodMs)})
  --workers N                       tenants reconciled at once, never one tenant twice at once
                                    (default ${DEFAULT_WORKERS})
  --kube-api-qps N                  API requests per second this process may send, watches aside
                                    (default ${DEFAULT_QPS})
  --kube-api-burst N                requests that may go out at once above that rate (default ${DEFAULT_BURST})
  --event-qps N                     Events per second (their own budget, outside --kube-api-qps;
                                    sent in the background, dropped past a backlog of ${EVENT_DEFAULTS.maxBacklog})
                                    (default ${DEFAULT_EVENT_QPS})
  --event-burst N                   Events that may go out at once above that rate (default ${DEFAULT_EVENT_BURST})
  --graceful-shutdown-timeout D     on SIGTERM, how long the reconcile in flight may take before it
                                    is abandoned (default ${DEFAULT_GRACE})
${ENDPOINT_FLAGS_HELP}  -h, --help                        show this help

/readyz answers 200 when the watches run, and on a healthy standby (so rolling updates
proceed); /healthz while the process runs and, on the leader, while renewals succeed.
The leader-election identity is $POD_NAME, or the host name with a random suffix.
`;

interface OperatorFlags {
  kubeconfig: string | undefined;
  resyncPeriodMs: number;
  graceMs: number;
  workers: number;
  qps: number;
  burst: number;
  eventQps: number;
  eventBurst: number;
  leaderElection: (LeaderElectionTimings & { namespace: string }) | undefined;
  endpoints: EndpointAddresses;
}

function parseFlags(args: string[]): OperatorFlags | 'help' {
  const parsed = parseCommandLine(args, {
    values: [
      'kubeconfig',
      'resync-period',
      'graceful-shutdown-timeout',
      'workers',
      'kube-api-qps',
      'kube-api-burst',
      'event-qps',
      'event-burst',
      'leader-election-namespace',
      'leader-election-lease-duration',
      'leader-election-renew-deadline',
      'leader-election-retry-period',
      ...ENDPOINT_FLAGS,
    ],
    bools: ['help', 'leader-elect'],
    aliases: { h: 'help' },
  });
  if (parsed.bools.has('help')) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0]}`);
  const flag = (name: string): string | undefined => parsed.flags.get(name)?.at(-1);
  const duration = (name: string, fallback: string): number => {
    const ms = parseDuration(flag(name) ?? fallback);
    if (ms <= 0) throw new UsageError(`--${name} must be positive`);
    return ms;
  };
  const positive = (name: string, fallback: number, integer: boolean): number => {
    const text = flag(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not ${text}`);
    }
    return n;
  };
  let leaderElection: OperatorFlags['leaderElection'];
  if (parsed.bools.has('leader-elect')) {
    leaderElection = {
      namespace: flag('leader-election-namespace') ?? DEFAULT_LEASE_NAMESPACE,
      leaseDurationMs: duration('leader-election-lease-duration', seconds(DEFAULT_TIMINGS.leaseDurationMs)),
      renewDeadlineMs: duration('leader-election-renew-deadline', seconds(DEFAULT_TIMINGS.renewDeadlineMs)),
      retryPeriodMs: duration('leader-election-retry-period', seconds(DEFAULT_TIMINGS.retryPeriodMs)),
    };
    try {
      validateTimings(leaderElection);
    } catch (err) {
      throw new UsageError(errorMessage(err));
    }
  }
  return {
    kubeconfig: flag('kubeconfig'),
    resyncPeriodMs: duration('resync-period', DEFAULT_RESYNC),
    graceMs: duration('graceful-shutdown-timeout', DEFAULT_GRACE),
    workers: positive('workers', DEFAULT_WORKERS, true),
    qps: positive('kube-api-qps', DEFAULT_QPS, false),
    burst: positive('kube-api-burst', DEFAULT_BURST, true),
    eventQps: positive('event-qps', DEFAULT_EVENT_QPS, false),
    eventBurst: positive('event-burst', DEFAULT_EVENT_BURST, true),
    leaderElection,
    endpoints: endpointAddresses(flag),
  };
}

export async function run(args: string[]): Promise<number> {
  let flags: OperatorFlags;
  try {
    const parsed = parseFlags(args);
    if (parsed === 'help') {
      process.stdout.write(usage);
      return 0;
    }
    flags = parsed;
  } catch (err) {
    process.stderr.write(`softtenant operator: ${errorMessage(err)}\n\n${usage}`);
    return 2;
  }

  const log = logger('operator');
  limitRequests(new TokenBucket(flags.qps, flags.burst));
  const kubeConfig = loadKubeConfig(flags.kubeconfig);
  const registry = processRegistry();
  meterRestClient(registry);
  const metrics = new OperatorMetrics(registry);
  const reportsServed = await resourceServed(kubeConfig, GROUP, VERSION, NODE_ENFORCEMENT_PLURAL);
  if (!reportsServed) {
    log.warn(
      `${NODE_ENFORCEMENT_PLURAL}.${GROUP} is not installed: no node can report enforcement, so tenants with pods show Enforced=False until the CRDs in crds/ are applied and the operator restarted`,
    );
  }
  const clusterNetworkPoliciesServed = await resourceServed(kubeConfig, CNP_GROUP, CNP_VERSION, CNP_PLURAL);
  if (!clusterNetworkPoliciesServed) {
    log.warn(
      `${CNP_PLURAL}.${CNP_GROUP} is not installed: strict SoftTenants keep their NetworkPolicies but get no ClusterNetworkPolicies (their status says so), and no ClusterNetworkPolicy gets a status, until config/crd/network-policy-api/ is applied (checked every ${CRD_RECHECK_MS / 1000} s)`,
    );
  }
  // The read path: informers. The write path: the client, which puts what it wrote into them.
  const caches = new OperatorCaches(kubeConfig, { reportsServed, clusterNetworkPoliciesServed });
  const client = new KubeTenantClient(kubeConfig, caches);
  const clusterNetworkPolicies = new KubeClusterNetworkPolicies(
    kubeConfig,
    () => caches.clusterNetworkPolicies,
    client.writes,
  );
  client.writes.onWrite((write) => metrics.countWrite(write));
  const ownership = new OwnershipIndex();
  const recorder = new EventRecorder(client, { budget: new TokenBucket(flags.eventQps, flags.eventBurst) });
  const reconciler = new MeteredReconciler(
    new Reconciler({
      reads: caches,
      client,
      scopeOf: (tenant) => ownership.scopeOf(tenant),
      expand: expandTenants,
      recorder,
      clusterNetworkPolicies,
    }),
    metrics,
  );
  const controller = new TenantController(reconciler, caches, {
    resyncPeriodMs: flags.resyncPeriodMs,
    workers: flags.workers,
    ownership,
    stats: () => ({ writesTotal: client.writes.count, cached: caches.sizes(), events: recorder.stats() }),
  });
  metrics.readQueueFrom(() => controller.queueStats());
  // Every ClusterNetworkPolicy's Programmed condition, the platform team's too (none until served).
  const cnpStatus = new ClusterPolicyStatusLoop({
    reads: caches.clusterPolicyStatusReads(),
    writer: clusterNetworkPolicies,
    resyncPeriodMs: flags.resyncPeriodMs,
  });
  caches.onEvent((kind, type, object) => {
    if (kind === 'SoftTenant') metrics.observeTenantEvent(type, object as WatchedTenant);
    controller.observe(kind, type, object);
    cnpStatus.observe(kind, type, object);
  });

  const election = flags.leaderElection;
  const elector = election
    ? new LeaderElector(
        new KubeLeaseClient(kubeConfig, election.namespace, DEFAULT_LEASE_NAME),
        { ...election, identity: defaultIdentity() },
        logger('leader-election'),
      )
    : undefined;
  let watching = false;
  metrics.readLeadershipFrom(() => (elector ? elector.isLeader : watching));
  const probes = new Probes()
    .add('healthz', 'leader-election', () => elector?.renewalProblem())
    .add('readyz', 'operator', () => {
      if (watching) return undefined;
      if (elector && !elector.isLeader) {
        return elector.hasReachedApiServer ? undefined : 'standby has not reached the API server yet';
      }
      return 'the caches have not listed yet';
    });
  const served = await startEndpoints(flags.endpoints, registry, probes, log);

  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // A standby told to stop just stops trying; a leader keeps renewing until it releases below.
  void stopped.then(() => {
    if (elector && !elector.isLeader) elector.stop();
  });

  if (elector) {
    const leading = await elector.acquire((reason) => {
      log.error('leadership lost; exiting so that no two replicas reconcile at once', { reason });
      process.exit(1);
    });
    if (!leading) {
      log.info('stopped while standing by', { signal: await stopped });
      await withTimeout(elector.release(), RELEASE_TIMEOUT_MS).catch(() => false);
      await served.close();
      process.exit(0);
    }
  }

  await caches.start();
  controller.start();
  cnpStatus.start();
  watching = true;
  // A ClusterNetworkPolicy CRD installed later: its informer starts, and both loops pass over
  // what it brings (strict tenants write their policies; every policy gets its status).
  const cnpArrival = clusterNetworkPoliciesServed
    ? undefined
    : awaitCrd(
        kubeConfig,
        { group: CNP_GROUP, version: CNP_VERSION, plural: CNP_PLURAL },
        { intervalMs: CRD_RECHECK_MS, log },
      );
  void cnpArrival?.served.then(async (served) => {
    if (!served) return;
    log.info(`${CNP_PLURAL}.${CNP_GROUP} is served now: watching ClusterNetworkPolicies`);
    await caches.serveClusterNetworkPolicies();
    controller.resync();
    cnpStatus.resync();
  });
  log.info('operator started', {
    resyncPeriodMs: flags.resyncPeriodMs,
    workers: flags.workers,
    kubeApiQps: flags.qps,
    kubeApiBurst: flags.burst,
    eventQps: flags.eventQps,
    eventBurst: flags.eventBurst,
    cluster: kubeConfig.getCurrentCluster()?.server,
    ...(elector ? { leader: elector.identity } : {}),
  });

  const signal = await stopped;
  log.info('stopping', { signal });
  // From here wake-ups are ignored; the reconcile in flight finishes, within the bound.
  cnpArrival?.stop();
  const loopsStopped = Promise.all([controller.stop(), cnpStatus.stop()]);
  if ((await withTimeout(loopsStopped, flags.graceMs)) === 'timeout') {
    log.warn('abandoning the reconcile in flight: graceful shutdown timeout', { graceMs: flags.graceMs });
  }
  // Events the last reconciles queued (sent in the background) and the counts of open series,
  // within the same bound.
  if ((await withTimeout(recorder.close(), flags.graceMs)) === 'timeout') {
    log.warn('dropping unsent Events: graceful shutdown timeout', { graceMs: flags.graceMs });
  }
  if (elector) {
    const released = await withTimeout(elector.release(), RELEASE_TIMEOUT_MS).catch((err: unknown) => {
      log.warn('releasing the Lease failed; a standby takes over when it expires', {
        error: errorMessage(err),
      });
      return false;
    });
    if (released === 'timeout')
      log.warn('releasing the Lease timed out; a standby takes over when it expires');
  }
  await caches.stop();
  log.info('stopped', { writesTotal: client.writes.count, events: recorder.stats() });
  process.exit(0);
}
