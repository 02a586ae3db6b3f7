// The watch runtime: @dot-i/k8s-operator's Operator, used only to watch. Its events are
// wake-ups that name tenants to reconcile; all reads for reconciliation and all writes go
// through operator/kube (client-node 1.x), not through the framework's nested client.
//
// What the framework does that the rest of the design relies on or works around:
// - it restarts a watch that ends without a resourceVersion, so every restart replays ADDED for
//   every object; the queue merges those floods, and the periodic resync notices deletions that
//   happened during the gap;
// - it calls process.exit(1) when a watch fails (API server unreachable, CRD not installed):
//   fine under a Deployment, which restarts the pod. At start-up the gate waits out a watch cache
//   that is still initialising (429) instead of exiting. Its stop() aborts the watch requests, which
//   that same handler takes for a failure, so shutdown does not call stop() (see cli/operator.ts);
// - its constructor loads the default kubeconfig, so an explicit --kubeconfig is loaded over it.
import k8sOperator, { type ResourceEvent } from '@dot-i/k8s-operator';
import { NODE_ENFORCEMENT_PLURAL } from '../api/nodeenforcement.js';
import { GROUP, PLURAL, VERSION } from '../api/softtenant.js';
import { logger } from '../util/logger.js';
import type { WatchedKind } from './wakeups.js';

const FrameworkOperator = k8sOperator.default;

export type WakeHandler = (kind: WatchedKind, object: ResourceEvent['object'], type: string) => void;

const runtimeLog = logger('watch');

/** The framework's logger interface, onto ours. */
const frameworkLogger = {
  debug: (message: string): void => void runtimeLog.debug(message),
  info: (message: string): void => void runtimeLog.info(message),
  warn: (message: string): void => void runtimeLog.warn(message),
  error: (message: string): void => void runtimeLog.error(message),
};

/** What the runtime asks the API server (through client-node 1.x) before it starts watching. */
export interface WatchGate {
  /** NodeEnforcement is served (its CRD installed); without it there are no reports to watch. */
  reportsServed(): Promise<boolean>;
  /** Resolves once a watch on the collection would be accepted (see kube/watch-ready.ts). */
  watchable(collectionPath: string): Promise<void>;
}

const OPEN_GATE: WatchGate = {
  reportsServed: () => Promise.resolve(true),
  watchable: () => Promise.resolve(),
};

export class WatchRuntime extends FrameworkOperator {
  constructor(
    private readonly onWake: WakeHandler,
    kubeconfigPath?: string,
    private readonly gate: WatchGate = OPEN_GATE,
  ) {
    super(frameworkLogger);
    if (kubeconfigPath) this.kubeConfig.loadFromFile(kubeconfigPath);
  }

  protected async init(): Promise<void> {
    await this.watch(GROUP, VERSION, PLURAL, 'SoftTenant');
    await this.watch('', 'v1', 'namespaces', 'Namespace');
    await this.watch('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy');
    // Enforcement status: the agents' reports, and pods moving between nodes.
    if (await this.gate.reportsServed()) {
      await this.watch(GROUP, VERSION, NODE_ENFORCEMENT_PLURAL, 'NodeEnforcement');
    } else {
      runtimeLog.warn(
        `${NODE_ENFORCEMENT_PLURAL}.${GROUP} is not installed: no node can report enforcement, so tenants with pods show Enforced=False until the CRDs in crds/ are applied and the operator restarted`,
      );
    }
    await this.watch('', 'v1', 'pods', 'Pod');
  }

  private async watch(group: string, version: string, plural: string, kind: WatchedKind): Promise<void> {
    await this.gate.watchable(group ? `/apis/${group}/${version}/${plural}` : `/api/${version}/${plural}`);
    await this.watchResource(group, version, plural, (e) => this.deliver(kind, e));
  }

  private deliver(kind: WatchedKind, event: ResourceEvent): Promise<void> {
    this.onWake(kind, event.object, event.type);
    return Promise.resolve();
  }
}
