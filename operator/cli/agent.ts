// `softtenant agent`: the node agent. Watches Pods, Namespaces and NetworkPolicies, programs this
// node's iptables/ipsets, and reports what it enforces in the node's NodeEnforcement object.
import { NodeAgent } from '../agent/node-agent.js';
import type { RenderNode } from '../agent/ports.js';
import { kubeNodeReports, ReportWriter } from '../agent/report-writer.js';
import { WatchedCluster } from '../agent/cluster-watch.js';
import { NodeDataplane } from '../dataplane/node-dataplane.js';
import { IncrementalNodeRenderer } from '../dataplane/render-incremental.js';
import { renderNode } from '../dataplane/render-node.js';
import { Probes } from '../health/probes.js';
import { loadKubeConfig } from '../kube/config.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { processRegistry } from '../metrics/registry.js';
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
  try {
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
  const nodeRender: RenderNode = (snapshot, n, opts) =>
    n === node ? renderer.render(snapshot, { full: opts?.full ?? false }) : renderNode(snapshot, n);
  const render = seams.wrapRender ? seams.wrapRender(nodeRender) : nodeRender;
  const registry = processRegistry();
  const metrics = new AgentMetrics(registry, {
    reportWrites: () => report?.writes ?? 0,
    flowsCut: () => dataplane.flowsCut,
  });
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
      agent.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.info('starting', { netns: netns ?? '(current)', backend: dataplane.backend, resyncMs, heartbeatMs });
  await agent.start();
  await stopped;
  await served.close();
  // Rules stay in place on a normal stop: pods stay protected while the agent restarts.
  return 0;
}
