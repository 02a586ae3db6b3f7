// The Programmed condition of every ClusterNetworkPolicy in the cluster (the platform team's as
// well as strict tenants'), kept by a loop of its own, one policy at a time: each pass computes
// the condition from what the caches hold (the policy, the namespaces and pods its subject
// selects, the nodes' reports) and writes it only when it differs from the stored one. The
// tenants' loop does not do it: a platform policy belongs to no tenant.
//
// Work follows what changed (1,000+ tenants, each with its strict policies): each pass remembers
// the namespaces the policy's subject selected and the nodes its pods run on, and an event wakes
// only the policies it can concern: a policy event that policy; a pod event the policies whose
// subject selects its namespace; a namespace event whose labels changed the policies whose
// selection of it changes; a report event that changes what a status reads (report-event-filter)
// the policies that needed that node or that the report names. A periodic resync of the cache
// heals anything else, and a pass asks to run again when a report it counted would turn stale.
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import type { Condition } from '../api/conditions.js';
import type { Namespace, Pod } from '../api/networkpolicy.js';
import type { NodeEnforcement } from '../api/nodeenforcement.js';
import { compileSubject } from '../cnp/model.js';
import { aggregateEnforcement } from '../enforcement/aggregate.js';
import { namespaceLabelsOf, type SelectorPeer } from '../netpol/cluster-index.js';
import type { Labels } from '../netpol/selector.js';
import { isEnforceablePod } from '../netpol/pods.js';
import { systemClock, type Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { logger } from '../util/logger.js';
import { rfc3339 } from '../util/time.js';
import { WriteConflict } from './client.js';
import type { ClusterNetworkPolicyPort } from './cnp-port.js';
import { clusterPolicyConditions, CNP_PROGRAMMED } from './cnp-status.js';
import { storedEqual } from './policy-diff.js';
import { DEFAULT_BACKOFF, WorkQueue, type BackoffOptions } from './queue.js';
import { ReportEventFilter } from './report-event-filter.js';
import type { Watched, WatchedKind, WatchEventType } from './wakeups.js';

/** What a pass reads, all from the watch caches. */
export interface ClusterPolicyStatusReads {
  /** Any ClusterNetworkPolicy by name (not only the generated ones). */
  clusterNetworkPolicy(name: string): ClusterNetworkPolicy | undefined;
  clusterNetworkPolicies(): ClusterNetworkPolicy[];
  namespaces(): Namespace[];
  pods(namespace: string): Pod[];
  reports(): NodeEnforcement[];
}

/** What the computation of one policy's status reads. */
export interface ObservedCluster {
  namespaces(): Namespace[];
  pods(namespace: string): Pod[];
  reports(): NodeEnforcement[];
  now: Date;
}

/** What one pass observed, to know which events concern the policy next. */
export interface Footprint {
  /** Namespaces the subject's namespace selector selects. */
  namespaces: ReadonlySet<string>;
  /** Nodes running pods the subject selects. */
  nodes: ReadonlySet<string>;
}

export interface ClusterPolicyStatus {
  /** The policy's conditions with Programmed set (others kept). */
  conditions: Condition[];
  footprint: Footprint;
  /** When a report counted here turns stale, if one would. */
  recheckAt?: Date;
}

function selectsNamespace(subject: SelectorPeer | undefined, labels: Labels): boolean {
  return subject !== undefined && (subject.namespaceSelector?.matches(labels) ?? true);
}

/**
 * Pure: one policy's Programmed condition from the cluster as observed. A subject that cannot be
 * read selects nothing (the agents refuse such a policy and report it).
 */
export function clusterPolicyStatus(
  policy: ClusterNetworkPolicy,
  observed: ObservedCluster,
  subject: SelectorPeer | undefined = compileSubject(policy.spec?.subject),
): ClusterPolicyStatus {
  const namespaces = new Set<string>();
  const nodes = new Set<string>();
  const pods: Pod[] = [];
  for (const ns of observed.namespaces()) {
    if (!selectsNamespace(subject, namespaceLabelsOf(ns))) continue;
    namespaces.add(ns.metadata.name);
    for (const pod of observed.pods(ns.metadata.name)) {
      if (!subject?.podSelector.matches(pod.metadata.labels)) continue;
      pods.push(pod);
      if (pod.spec.nodeName && isEnforceablePod(pod)) nodes.add(pod.spec.nodeName);
    }
  }
  const result = aggregateEnforcement({
    policies: [],
    selects: () => false,
    clusterNetworkPolicies: [policy],
    cnpSelects: () => true,
    pods,
    reports: observed.reports(),
    now: observed.now,
  });
  return {
    conditions: clusterPolicyConditions(policy, result, rfc3339(observed.now)),
    footprint: { namespaces, nodes },
    recheckAt: result.recheckAt,
  };
}

/** Set-valued index: key -> policy names. */
class Index {
  private readonly map = new Map<string, Set<string>>();
  get(key: string): ReadonlySet<string> {
    return this.map.get(key) ?? new Set();
  }
  add(key: string, name: string): void {
    const set = this.map.get(key) ?? new Set<string>();
    set.add(name);
    this.map.set(key, set);
  }
  delete(key: string, name: string): void {
    const set = this.map.get(key);
    if (set?.delete(name) && set.size === 0) this.map.delete(key);
  }
}

export interface ClusterPolicyStatusOptions {
  reads: ClusterPolicyStatusReads;
  writer: Pick<ClusterNetworkPolicyPort, 'applyStatus'>;
  resyncPeriodMs: number;
  /** Pod events wait this long, merging the rollout's flood (as the tenants' loop does). */
  podDelayMs?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
}

const log = logger('cnp-status');

export class ClusterPolicyStatusLoop {
  private readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly reportFilter = new ReportEventFilter();
  private readonly footprints = new Map<string, Footprint>();
  private readonly subjects = new Map<string, { generation?: number; subject: SelectorPeer | undefined }>();
  private readonly byNamespace = new Index();
  private readonly byNode = new Index();
  /** Each namespace's labels as last seen, so that an event leaving them alone wakes nobody. */
  private readonly namespaceLabels = new Map<string, string>();
  private worker: Promise<void> | undefined;
  private resyncTimer: unknown;
  private stopping = false;

  constructor(private readonly options: ClusterPolicyStatusOptions) {
    this.clock = options.clock ?? systemClock;
    this.queue = new WorkQueue(options.backoff ?? DEFAULT_BACKOFF, this.clock);
  }

  /**
   * Starts the worker and the resync; call once the caches have listed. Without the CRD the
   * reads hold no policy and the loop idles until it appears.
   */
  start(): void {
    this.worker = this.work();
    this.resync();
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.queue.shutDown();
    await this.worker;
  }

  /** A cache event of any kind: queues the policies it concerns. */
  observe<K extends WatchedKind>(kind: K, type: WatchEventType, object: Watched[K]): void {
    if (kind === 'ClusterNetworkPolicy') this.policyChanged(type, object as ClusterNetworkPolicy);
    else if (kind === 'Pod') this.podChanged(object as Pod);
    else if (kind === 'Namespace') this.namespaceChanged(type, object as Namespace);
    else if (kind === 'NodeEnforcement') this.reportChanged(type, object as NodeEnforcement);
  }

  /** Policies waiting and being written now (for tests and metrics). */
  queueStats(): { waiting: number; inFlight: number } {
    return { waiting: this.queue.length, inFlight: this.queue.busy };
  }

  private policyChanged(type: WatchEventType, policy: ClusterNetworkPolicy): void {
    const name = policy.metadata.name;
    if (type === 'DELETED') this.forget(name);
    else this.queue.add(name);
  }

  private podChanged(pod: Pod): void {
    for (const name of this.byNamespace.get(pod.metadata.namespace ?? ''))
      this.queue.addAfter(name, this.options.podDelayMs ?? 2_000);
  }

  private namespaceChanged(type: WatchEventType, ns: Namespace): void {
    const nsName = ns.metadata.name;
    const labels = type === 'DELETED' ? undefined : namespaceLabelsOf(ns);
    const fingerprint = JSON.stringify(labels ?? null);
    if (this.namespaceLabels.get(nsName) === fingerprint) return;
    if (labels) this.namespaceLabels.set(nsName, fingerprint);
    else this.namespaceLabels.delete(nsName);
    const selectedBefore = this.byNamespace.get(nsName);
    for (const [name, { subject }] of this.subjects) {
      const now = labels !== undefined && selectsNamespace(subject, labels);
      if (now !== selectedBefore.has(name)) this.queue.add(name);
    }
  }

  private reportChanged(type: WatchEventType, report: NodeEnforcement): void {
    if (!this.reportFilter.changesEnforcement(report, type)) return;
    const names = new Set(this.byNode.get(report.metadata.name));
    for (const p of report.status?.clusterNetworkPolicies ?? []) names.add(p.name);
    for (const e of report.status?.errors ?? []) if (e.kind === 'ClusterNetworkPolicy') names.add(e.name);
    for (const name of names) this.queue.add(name);
  }

  /** Queues every policy in the cache (the periodic resync; also when the CRD appears). */
  resync(): void {
    if (this.stopping) return;
    const policies = this.options.reads.clusterNetworkPolicies();
    for (const p of policies) this.queue.add(p.metadata.name);
    log.debug('resync', { clusterNetworkPolicies: policies.length });
  }

  private scheduleResync(): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopping) return;
      this.resync();
      this.scheduleResync();
    }, this.options.resyncPeriodMs);
  }

  private remember(name: string, footprint: Footprint): void {
    this.unindex(name);
    this.footprints.set(name, footprint);
    for (const ns of footprint.namespaces) this.byNamespace.add(ns, name);
    for (const node of footprint.nodes) this.byNode.add(node, name);
  }

  private unindex(name: string): void {
    const before = this.footprints.get(name);
    if (!before) return;
    for (const ns of before.namespaces) this.byNamespace.delete(ns, name);
    for (const node of before.nodes) this.byNode.delete(node, name);
    this.footprints.delete(name);
  }

  private forget(name: string): void {
    this.unindex(name);
    this.subjects.delete(name);
    this.queue.forget(name);
  }

  /** The policy's subject, compiled once per generation. */
  private subjectOf(policy: ClusterNetworkPolicy): SelectorPeer | undefined {
    const name = policy.metadata.name;
    const generation = policy.metadata.generation;
    const known = this.subjects.get(name);
    if (known && known.generation === generation) return known.subject;
    const subject = compileSubject(policy.spec?.subject);
    this.subjects.set(name, { generation, subject });
    return subject;
  }

  /** One pass over one policy; throws when the write fails. */
  private async sync(name: string): Promise<void> {
    const { reads, writer } = this.options;
    const policy = reads.clusterNetworkPolicy(name);
    if (!policy) {
      this.forget(name);
      return;
    }
    const now = new Date(this.clock.now());
    const observed: ObservedCluster = {
      namespaces: () => reads.namespaces(),
      pods: (ns) => reads.pods(ns),
      reports: () => reads.reports(),
      now,
    };
    const status = clusterPolicyStatus(policy, observed, this.subjectOf(policy));
    this.remember(name, status.footprint);
    if (status.recheckAt)
      this.queue.addAfter(name, Math.max(0, status.recheckAt.getTime() - this.clock.now()));
    // A policy being deleted keeps the status it has: nothing enforces it much longer.
    if (policy.metadata.deletionTimestamp) return;
    if (storedEqual(status.conditions, policy.status?.conditions ?? [])) return;
    const programmed = status.conditions.filter((c) => c.type === CNP_PROGRAMMED);
    await writer.applyStatus(policy, programmed);
    log.info('cluster network policy status written', {
      clusterNetworkPolicy: name,
      generation: policy.metadata.generation,
      programmed: programmed[0]?.status,
      reason: programmed[0]?.reason,
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      const name = await this.queue.get();
      if (name === undefined) return;
      try {
        await this.sync(name);
        this.queue.forget(name);
      } catch (err) {
        const retryInMs = this.queue.addRateLimited(name);
        const meta = { clusterNetworkPolicy: name, retryInMs, error: errorMessage(err) };
        // A lost race: the watch brings the stored status, and the retry reads it.
        if (err instanceof WriteConflict) log.info('status write raced; retrying', meta);
        else log.warn('write failed', { what: `status of ClusterNetworkPolicy ${name}`, ...meta });
      } finally {
        this.queue.done(name);
      }
    }
  }
}
