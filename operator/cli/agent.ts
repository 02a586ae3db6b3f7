// `softtenant agent`: the node agent. Watches Pods, Namespaces and NetworkPolicies, programs this
// node's iptables/ipsets, and reports what it enforces in the node's NodeEnforcement object.
import { NodeAgent } from '../agent/node-agent.js';
import type { RenderNode } from '../agent/ports.js';
import { kubeNodeReports, ReportWriter } from '../agent/report-writer.js';
import { WatchedCluster } from '../agent/cluster-watch.js';
import { NodeDataplane } from '../dataplane/node-dataplane.js';
import {
  NewPodGuard,
  parseFailClosedMode,
  parsePodCidrs,
  type FailClosedMode,
} from '../dataplane/fail-closed.js';
import type { NewPodsStatus } from '../api/nodeenforcement.js';
import { nodePodCidrs, watchPodCidrs } from '../agent/pod-cidrs.js';
import { GateWriter, kubePodConditions, podsToMark } from '../agent/readiness-gate.js';
import type { Cidr } from '../net/address.js';
import { IncrementalNodeRenderer } from '../dataplane/render-incremental.js';
import { withClusterNetworkPolicies } from '../dataplane/cnp-render.js';
import { renderNode } from '../dataplane/render-node.js';
import { Probes } from '../health/probes.js';
import { loadKubeConfig } from '../kube/config.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { processRegistry } from '../metrics/registry.js';
import { meterRestClient } from '../metrics/rest-client-metrics.js';
import { parseDuration } from '../util/duration.js';
import { logger } from '../util/logger.js';
import { parseCommandLine, UsageError } from './args.js';
import {
  ENDPOINT_FLAGS,
  ENDPOINT_FLAGS_HELP,
  endpointAddresses,
  startEndpoints,
  type EndpointAddresses,
} from './endpoint-flags.js';

const HELP = `usage: softtenant agent [flags]

Programs this node's iptables chains and ipsets from the cluster's NetworkPolicies and reports
what it enforces in the NodeEnforcement object named after the node.

flags:
  --node NAME               node to enforce for (default: $NODE_NAME)
  --kubeconfig PATH         kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --netns NAME              program the named network namespace instead of the current one
  --backend auto|nft|legacy iptables backend (default: auto-detect what the node uses)
  --resync-period DURATION  full sync that repairs drift (default 60s)
  --heartbeat DURATION      report heartbeat period (default 10s)
  --report-min-interval D   minimum time between report writes (default 1s)
  --no-report               do not write a NodeEnforcement report
  --fail-closed true|false|strict
                            refuse traffic to and from a local pod address not programmed yet
                            while a pod that a policy isolates awaits its address on this node
                            (true), always (strict), or never (false, the default; the
                            DaemonSet sets true). docs/enforcement.md
  --pod-cidr CIDR           this node's pod range(s), repeatable or comma-separated (default:
                            the Node's spec.podCIDRs)
  --readiness-gate=false    do not set the tenancy.softtenant.io/enforced pod condition
  --cleanup                 remove everything the agent installed (chains, hooks, sets) and exit
${ENDPOINT_FLAGS_HELP}
/readyz answers 200 once the first sync has programmed the node; /healthz while the process runs.
`;

/** Where a caller may wrap the agent's parts (test/support/agent-with-failures.ts injects faults). */
export interface AgentSeams {
  wrapRender?: (render: RenderNode) => RenderNode;
}

export async function run(args: string[], seams: AgentSeams = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args, {
      values: [
        'node',
        'kubeconfig',
        'netns',
        'backend',
        'resync-period',
        'heartbeat',
        'report-min-interval',
        'fail-closed',
        'pod-cidr',
        'readiness-gate',
        ...ENDPOINT_FLAGS,
      ],
      bools: ['cleanup', 'no-report', 'help'],
      aliases: { h: 'help' },
    });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`softtenant agent: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  if (parsed.bools.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const flag = (name: string): string | undefined => parsed.flags.get(name)?.at(-1);
  const netns = flag('netns');
  const backend = flag('backend') ?? 'auto';
  if (!['auto', 'nft', 'legacy'].includes(backend)) {
    process.stderr.write(`softtenant agent: --backend must be auto, nft or legacy (got '${backend}')\n`);
    return 2;
  }

  if (parsed.bools.has('cleanup')) {
    const log = logger('agent', { node: flag('node') ?? process.env.NODE_NAME ?? '' });
    const dp = await NodeDataplane.forNode({ ...(netns ? { netns } : {}), backend });
    await dp.cleanup();
    log.info('removed everything the agent installed', { backend: dp.backend });
    return 0;
  }

  const node = flag('node') ?? process.env.NODE_NAME;
  if (!node) {
    process.stderr.write('softtenant agent: no node name: pass --node or set NODE_NAME\n');
    return 2;
  }
  const log = logger('agent', { node });
  let resyncMs: number, heartbeatMs: number, minIntervalMs: number, endpoints: EndpointAddresses;
  let failClosed: FailClosedMode, flagCidrs: Cidr[] | undefined, gate: boolean;
  try {
    failClosed = parseFailClosedMode(flag('fail-closed') ?? 'false');
    const cidrTexts = (parsed.flags.get('pod-cidr') ?? [])
      .flatMap((v) => v.split(','))
      .filter((v) => v !== '');
    flagCidrs = cidrTexts.length > 0 ? parsePodCidrs(cidrTexts) : undefined;
    const gateFlag = flag('readiness-gate') ?? 'true';
    if (!['true', 'false'].includes(gateFlag))
      throw new Error(`--readiness-gate must be true or false (got '${gateFlag}')`);
    gate = gateFlag === 'true';
    resyncMs = parseDuration(flag('resync-period') ?? '60s');
    heartbeatMs = parseDuration(flag('heartbeat') ?? '10s');
    minIntervalMs = parseDuration(flag('report-min-interval') ?? '1s');
    endpoints = endpointAddresses(flag);
  } catch (err) {
    process.stderr.write(`softtenant agent: ${(err as Error).message}\n`);
    return 2;
  }
  const kc = loadKubeConfig(flag('kubeconfig'));
  const dataplane = await NodeDataplane.forNode({ ...(netns ? { netns } : {}), backend });
  const report = parsed.bools.has('no-report')
    ? undefined
    : new ReportWriter(kubeNodeReports(kc), node, { heartbeatMs, minIntervalMs }, log);
  // Pod churn re-renders from the previous result; anything else, and every resync, in full.
  const renderer = new IncrementalNodeRenderer(node);
  // Fail-closed (issue 13): the guard joins the render once the node's pod ranges are known.
  let guard: NewPodGuard | undefined;
  let podCidrs: Cidr[] | undefined;
  const useCidrs = (cidrs: Cidr[]): void => {
    podCidrs = cidrs;
    if (failClosed !== 'off') guard = new NewPodGuard(node, failClosed, cidrs);
  };
  if (flagCidrs) useCidrs(flagCidrs);
  const newPods = (): NewPodsStatus => {
    if (failClosed === 'off') return { mode: 'FailOpen' };
    if (!guard || !podCidrs)
      return { mode: 'FailOpen', message: 'the pod CIDRs of the node are not known yet' };
    return { mode: failClosed === 'strict' ? 'Strict' : 'FailClosed', podCIDRs: podCidrs.map((c) => c.text) };
  };
  const nodeRender: RenderNode = (snapshot, n, opts) => {
    if (n !== node) return renderNode(snapshot, n);
    // ClusterNetworkPolicy tiers go on top of the NetworkPolicy render, before the guard.
    const out = withClusterNetworkPolicies(
      renderer.render(snapshot, { full: opts?.full ?? false }),
      snapshot,
      n,
    );
    return guard ? guard.apply(out, snapshot) : out;
  };
  const render = seams.wrapRender ? seams.wrapRender(nodeRender) : nodeRender;
  const registry = processRegistry();
  meterRestClient(registry);
  const metrics = new AgentMetrics(registry, {
    reportWrites: () => report?.writes ?? 0,
    flowsCut: () => dataplane.flowsCut,
  });
  const gates = gate ? new GateWriter(kubePodConditions(kc), log) : undefined;
  const agent = new NodeAgent(
    new WatchedCluster(kc, log),
    render,
    dataplane,
    report,
    {
      node,
      resyncMs,
      agentVersion: '0.1.0',
      observer: metrics,
      newPods,
      ...(gates ? { programmed: (snapshot, out) => gates.update(podsToMark(snapshot, out)) } : {}),
    },
    log,
  );
  // Ready once the node is programmed: a rolling update then never leaves a node without rules
  // for longer than one agent start.
  const probes = new Probes().add('readyz', 'synced', () =>
    agent.syncs > 0 ? undefined : 'no successful sync yet',
  );
  const served = await startEndpoints(endpoints, registry, probes, log);

  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info('stopping', { signal });
      stopCidrWatch();
      gates?.stop();
      agent.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  const stopCidrWatch =
    failClosed !== 'off' && !flagCidrs
      ? watchPodCidrs(
          () => nodePodCidrs(kc, node),
          (cidrs) => {
            useCidrs(cidrs);
            log.info('guarding new pods', { mode: failClosed, podCIDRs: cidrs.map((c) => c.text) });
            agent.requestSync(true);
          },
          log,
        )
      : () => undefined;
  log.info('starting', {
    netns: netns ?? '(current)',
    backend: dataplane.backend,
    resyncMs,
    heartbeatMs,
    failClosed,
    readinessGate: gate,
  });
  await agent.start();
  await stopped;
  await served.close();
  // Rules stay in place on a normal stop: pods stay protected while the agent restarts.
  return 0;
}
