// The node agent's loop: the cluster source (watch caches) feeds a one-slot trigger; each sync
// builds the whole desired ruleset for this node from the caches, applies it, and reports what
// is enforced. A periodic full sync re-reads the real iptables/ipset state and repairs drift.
// Everything it talks to is a port (ports.ts), and time comes from a Clock.
import type { EnforcedPolicy, NewPodsStatus, PolicyError } from '../api/nodeenforcement.js';
import type { Condition } from '../api/conditions.js';
import { Backoff } from '../util/backoff.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { countEnforceablePodsOn } from '../netpol/pods.js';
import type { ClusterObjects } from '../netpol/types.js';
import type { ClusterSource, DataplaneApplier, RenderNode, ReportContent, ReportSink } from './ports.js';
import type { NodeRender } from '../dataplane/render-node.js';
import { programmedClusterNetworkPolicies } from '../dataplane/cnp-render.js';
import type { SyncObserver } from '../metrics/agent-metrics.js';
import { SyncTrigger } from './sync-trigger.js';
import { FlowCutter } from './flow-cutter.js';
import { errorMessage } from '../util/errors.js';
import { rfc3339 } from '../util/time.js';

export interface NodeAgentOptions {
  node: string;
  resyncMs: number;
  agentVersion?: string;
  /** Told the outcome of every sync (the agent's metrics). */
  observer?: SyncObserver;
  clock?: Clock;
  /** Random source of the retry jitter (tests make it fixed). */
  random?: () => number;
  /** How the node treats unprogrammed local pod addresses, for the report (fail-closed). */
  newPods?: () => NewPodsStatus;
  /** Told after every successful apply what is now programmed (the readiness gate). */
  programmed?: (snapshot: ClusterObjects, render: NodeRender) => void;
}

export interface SyncRecord {
  at: Date;
  durationMs: number;
  ok: boolean;
  full: boolean;
}

export class NodeAgent {
  private readonly trigger: SyncTrigger;
  /** Revoked flows are cut behind the rules, never on the sync's path. */
  readonly cuts: FlowCutter;
  private readonly retry: Backoff;
  private readonly clock: Clock;
  private resyncTimer: unknown;
  private retryTimer: unknown;
  private lastGood: { at: string; durationMs: number; content: ReportContent } | undefined;
  private started = false;
  lastSync: SyncRecord | undefined;
  syncs = 0;

  constructor(
    private readonly cluster: ClusterSource,
    private readonly render: RenderNode,
    private readonly dataplane: DataplaneApplier,
    private readonly report: ReportSink | undefined,
    private readonly opts: NodeAgentOptions,
    private readonly log: Logger,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.retry = new Backoff(500, 30_000, opts.random);
    this.trigger = new SyncTrigger((full) => this.sync(full), 50, this.clock);
    this.cuts = new FlowCutter((render) => this.dataplane.cutFlows(render), log, 250, this.clock);
  }

  /** Starts the watches, waits for them to list once (never program from a partial view), syncs. */
  async start(): Promise<void> {
    this.cluster.start(() => {
      if (this.started) this.trigger.request();
    });
    await this.cluster.synced();
    this.log.info('caches synced', { node: this.opts.node });
    this.started = true;
    this.trigger.request(true);
    this.scheduleResync();
  }

  private scheduleResync(): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      if (!this.started) return;
      this.trigger.request(true);
      this.scheduleResync();
    }, this.opts.resyncMs);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.clock.clearTimeout(this.resyncTimer);
    this.clock.clearTimeout(this.retryTimer);
    await this.trigger.stop();
    await this.cuts.stop();
    await this.cluster.stop();
    await this.report?.flush();
    this.report?.stop();
  }

  /** Asks for a sync (e.g. when the node's pod ranges become known); `full` renders from scratch. */
  requestSync(full = false): void {
    if (this.started) this.trigger.request(full);
  }

  /** Resolves when no sync is pending or running. */
  idle(): Promise<void> {
    return this.trigger.idle();
  }

  snapshot(): ClusterObjects {
    return this.cluster.snapshot();
  }

  private async sync(full: boolean): Promise<void> {
    const started = this.clock.now();
    const node = this.opts.node;
    const snapshot = this.snapshot();
    let problems: PolicyError[] = [];
    let stage: 'render' | 'apply' = 'render';
    try {
      const out = this.render(snapshot, node, { full });
      problems = [...problems, ...out.problems];
      stage = 'apply';
      // Rules first; the flows they now deny are cut afterwards, in the background.
      const applied = await this.dataplane.apply(out, { full, cutFlows: false });
      if (applied.changed) this.cuts.request(out);
      this.opts.programmed?.(snapshot, out);
      const durationMs = this.clock.now() - started;
      this.syncs++;
      this.lastSync = { at: new Date(this.clock.now()), durationMs, ok: true, full };
      this.retry.reset();
      const failed = new Set(problems.map((p) => `${p.namespace}/${p.name}`));
      const policies: EnforcedPolicy[] = out.summary.policies
        .filter((p) => p.uid !== undefined && !failed.has(`${p.namespace}/${p.name}`))
        .map((p) => ({
          namespace: p.namespace,
          name: p.name,
          uid: p.uid as string,
          generation: p.generation ?? 0,
        }));
      const content: ReportContent = {
        backend: this.dataplane.backend,
        ...(this.opts.agentVersion ? { agentVersion: this.opts.agentVersion } : {}),
        lastSyncTime: rfc3339(new Date(this.clock.now())),
        lastSyncDurationMs: durationMs,
        chains: out.summary.chains,
        rules: out.summary.rules,
        ipsetEntries: out.summary.ipsetEntries,
        families: out.summary.families,
        localPods: countEnforceablePodsOn(snapshot.pods, node),
        policies,
        ...(out.cnp ? { clusterNetworkPolicies: programmedClusterNetworkPolicies(out) } : {}),
        errors: sortErrors(problems),
        ...(this.opts.newPods ? { newPods: this.opts.newPods() } : {}),
        conditions: [
          readyCondition(
            problems.length === 0,
            problems.length ? 'PolicyErrors' : 'Synced',
            problems.length
              ? `${problems.length} policies cannot be programmed on this node`
              : 'all policies selecting local pods are programmed',
          ),
        ],
      };
      this.lastGood = { at: content.lastSyncTime as string, durationMs, content };
      this.opts.observer?.synced({
        full,
        durationMs,
        ok: true,
        programmed: {
          chains: out.summary.chains,
          rules: out.summary.rules,
          ipsetEntries: out.summary.ipsetEntries,
          localPods: content.localPods ?? 0,
          policies: policies.length,
          policyErrors: problems.length,
        },
      });
      this.report?.update(content);
      this.log.info('synced', {
        node,
        full,
        ...(out.mode ? { render: out.mode } : {}),
        ...(out.fullReason ? { fullRenderReason: out.fullReason } : {}),
        durationMs,
        chains: out.summary.chains,
        rules: out.summary.rules,
        policies: policies.length,
      });
    } catch (err) {
      const durationMs = this.clock.now() - started;
      this.lastSync = { at: new Date(this.clock.now()), durationMs, ok: false, full };
      this.opts.observer?.synced({ full, durationMs, ok: false, failedStage: stage });
      const message = errorMessage(err);
      const delay = this.retry.next();
      this.log.error('sync failed; last good rules stay in place', {
        node,
        error: message,
        retryInMs: delay,
      });
      // The report keeps what was last enforced and adds the failure, so status stays honest.
      const base = this.lastGood?.content ?? { backend: this.dataplane.backend, policies: [] };
      this.report?.update({
        ...base,
        errors: sortErrors([...problems, { namespace: '', name: '', reason: 'ApplyFailed', message }]),
        conditions: [readyCondition(false, 'ApplyFailed', message)],
      });
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = this.clock.setTimeout(() => this.trigger.request(full), delay);
    }
  }
}

function sortErrors(errors: PolicyError[]): PolicyError[] {
  return [...errors].sort((a, b) =>
    `${a.namespace}/${a.name}/${a.reason}`.localeCompare(`${b.namespace}/${b.name}/${b.reason}`),
  );
}

function readyCondition(ok: boolean, reason: string, message: string): Condition {
  // lastTransitionTime is filled from the sync that changed the status; it stays fixed while
  // the status does not change so that identical reports compare equal.
  return { type: 'Ready', status: ok ? 'True' : 'False', reason, message, lastTransitionTime: '' };
}
