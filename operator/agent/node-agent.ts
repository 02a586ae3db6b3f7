// The node agent's loop: watch caches feed a one-slot trigger; each sync builds the whole
// desired ruleset for this node from the caches, applies it, and reports what is enforced.
// A periodic full sync re-reads the real iptables/ipset state and repairs drift.
import type { KubeConfig } from '@kubernetes/client-node';
import type { EnforcedPolicy, PolicyError } from '../api/nodeenforcement.js';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { Condition } from '../api/conditions.js';
import { requestJson } from '../kube/raw-request.js';
import { effectivePolicyTypes } from '../netpol/model.js';
import { countEnforceablePodsOn } from '../netpol/pods.js';
import { Backoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import type { ClusterObjects } from '../netpol/types.js';
import type { DataplaneApplier, RenderNode } from './ports.js';
import type { ReportContent, ReportWriter } from './report-writer.js';
import type { SyncObserver } from './sync-observer.js';
import { SyncTrigger } from './sync-trigger.js';
import { trimPod } from './pod-trim.js';
import { WatchCache, type PlainList } from './watch-cache.js';
import { errorMessage } from '../util/errors.js';
import { rfc3339 } from '../util/time.js';

export interface NodeAgentOptions {
  node: string;
  resyncMs: number;
  /** Policies ("namespace/name") to treat as unprogrammable: fault injection for tests. */
  failPolicies?: ReadonlySet<string>;
  agentVersion?: string;
  /** Told the outcome of every sync (the agent's metrics). */
  observer?: SyncObserver;
}

export interface SyncRecord {
  at: Date;
  durationMs: number;
  ok: boolean;
  full: boolean;
}

export class NodeAgent {
  private readonly pods: WatchCache<Pod>;
  private readonly namespaces: WatchCache<Namespace>;
  private readonly policies: WatchCache<NetworkPolicy>;
  private readonly trigger: SyncTrigger;
  private readonly retry = new Backoff(500, 30_000);
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastGood: { at: string; durationMs: number; content: ReportContent } | undefined;
  private started = false;
  lastSync: SyncRecord | undefined;
  syncs = 0;

  constructor(
    kc: KubeConfig,
    private readonly render: RenderNode,
    private readonly dataplane: DataplaneApplier,
    private readonly report: ReportWriter | undefined,
    private readonly opts: NodeAgentOptions,
    private readonly log: Logger,
  ) {
    this.trigger = new SyncTrigger((full) => this.sync(full));
    const poke = (): void => {
      if (this.started) this.trigger.request();
    };
    this.pods = new WatchCache(
      kc,
      '/api/v1/pods',
      () => requestJson<PlainList<Pod>>(kc, 'GET', '/api/v1/pods'),
      poke,
      log,
      trimPod,
    );
    this.namespaces = new WatchCache(
      kc,
      '/api/v1/namespaces',
      () => requestJson<PlainList<Namespace>>(kc, 'GET', '/api/v1/namespaces'),
      poke,
      log,
    );
    this.policies = new WatchCache(
      kc,
      '/apis/networking.k8s.io/v1/networkpolicies',
      () => requestJson<PlainList<NetworkPolicy>>(kc, 'GET', '/apis/networking.k8s.io/v1/networkpolicies'),
      poke,
      log,
    );
  }

  /** Starts the watches, waits for them to list once (never program from a partial view), syncs. */
  async start(): Promise<void> {
    this.pods.start();
    this.namespaces.start();
    this.policies.start();
    await Promise.all([this.pods.synced, this.namespaces.synced, this.policies.synced]);
    this.log.info('caches synced', { node: this.opts.node });
    this.started = true;
    this.trigger.request(true);
    this.resyncTimer = setInterval(() => this.trigger.request(true), this.opts.resyncMs);
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.trigger.stop();
    await Promise.all([this.pods.stop(), this.namespaces.stop(), this.policies.stop()]);
    await this.report?.flush();
    this.report?.stop();
  }

  /** Resolves when no sync is pending or running. */
  idle(): Promise<void> {
    return this.trigger.idle();
  }

  snapshot(): ClusterObjects {
    return { namespaces: this.namespaces.items(), pods: this.pods.items(), policies: this.policies.items() };
  }

  private async sync(full: boolean): Promise<void> {
    const started = Date.now();
    const node = this.opts.node;
    const snapshot = this.withoutFailedPolicies(this.snapshot());
    let problems: PolicyError[] = snapshot.injected;
    let stage: 'render' | 'apply' = 'render';
    try {
      const out = this.render(snapshot, node, { full });
      problems = [...problems, ...out.problems];
      stage = 'apply';
      await this.dataplane.apply(out, { full });
      const durationMs = Date.now() - started;
      this.syncs++;
      this.lastSync = { at: new Date(), durationMs, ok: true, full };
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
        lastSyncTime: rfc3339(new Date()),
        lastSyncDurationMs: durationMs,
        chains: out.summary.chains,
        rules: out.summary.rules,
        ipsetEntries: out.summary.ipsetEntries,
        localPods: countEnforceablePodsOn(snapshot.pods, node),
        policies,
        errors: sortErrors(problems),
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
      const durationMs = Date.now() - started;
      this.lastSync = { at: new Date(), durationMs, ok: false, full };
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
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.trigger.request(full), delay);
    }
  }

  /**
   * Fault injection: a listed policy keeps selecting its pods but allows nothing — the same
   * fail-closed treatment the model gives a policy it cannot program — and is reported as an error.
   */
  private withoutFailedPolicies(s: ClusterObjects): ClusterObjects & { injected: PolicyError[] } {
    const fail = this.opts.failPolicies;
    if (!fail || fail.size === 0) return { ...s, injected: [] };
    const injected: PolicyError[] = [];
    const policies = s.policies.map((p) => {
      const key = `${p.metadata.namespace ?? ''}/${p.metadata.name}`;
      if (!fail.has(key)) return p;
      injected.push({
        namespace: p.metadata.namespace ?? '',
        name: p.metadata.name,
        reason: 'InjectedFailure',
        message: 'programming this policy was made to fail (--fail-policy)',
      });
      const types = effectivePolicyTypes(p);
      const policyTypes = [
        ...(types.ingress ? ['Ingress' as const] : []),
        ...(types.egress ? ['Egress' as const] : []),
      ];
      return { ...p, spec: { podSelector: p.spec.podSelector, policyTypes } };
    });
    return { ...s, policies, injected };
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
