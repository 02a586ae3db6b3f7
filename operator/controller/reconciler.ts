// Reconcile(tenant name), level-triggered, from the caches: the ownership index names the
// namespaces this tenant's reconcile depends on and the tenants competing for them; only those
// are expanded (who holds a namespace depends on its claimants alone, so the answer is the one
// a whole-cluster expansion would give). Then converge this tenant (finalizer, namespace labels,
// policies, status) or, for a tenant being deleted or gone, release what it held. Writes happen
// only where the cached state differs; the caches include the operator's own writes as soon as
// they return, so the next reconcile neither repeats nor undoes them.
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { FINALIZER, type SoftTenant } from '../api/softtenant.js';
import { subjectSelection } from '../cnp/subject.js';
import { aggregateEnforcement, type EnforcementResult } from '../enforcement/aggregate.js';
import { compileSelector, type CompiledSelector } from '../netpol/selector.js';
import type { ExpansionInput, ExpansionResult, TenantExpansion } from '../tenant/types.js';
import { logger, type Logger } from '../util/logger.js';
import type { TenantClient, TenantReads } from './client.js';
import type { ClusterNetworkPolicyPort } from './cnp-port.js';
import { withStrictStatus } from './cnp-status.js';
import { StrictSync, type ObservedNodes } from './cnp-sync.js';
import { ReconcileError, StaleReadError, staleReadAware } from './errors.js';
import { withEnforcement } from './enforcement-status.js';
import type { TenantScope } from './ownership-index.js';
import { isGeneratedFor, policyKey } from './ownership.js';
import { PlanExecution } from './plan-execution.js';
import { describePlan, planIsEmpty, planTenant } from './plan.js';
import type { EventRecorder } from './recorder.js';
import { TenantRelease } from './release.js';
import { finalStatus } from './status.js';
import { StatusWriter } from './status-writer.js';
import { errorMessage } from '../util/errors.js';

export type ExpandFn = (input: ExpansionInput) => ExpansionResult;

export interface ReconcilerDeps {
  reads: TenantReads;
  client: TenantClient;
  /** The namespaces and competing tenants one tenant's reconcile must see. */
  scopeOf: (tenant: string) => TenantScope;
  expand: ExpandFn;
  recorder: EventRecorder;
  /** Strict tenants' ClusterNetworkPolicies; absent when the CRD is not served. */
  clusterNetworkPolicies?: ClusterNetworkPolicyPort;
  now?: () => Date;
}

/** The part of the cluster one reconcile reads. */
interface Snapshot {
  tenants: SoftTenant[];
  namespaces: Namespace[];
  /** Generated policies labelled for the tenant being reconciled. */
  owned: NetworkPolicy[];
}

/** What a reconcile asks of the controller. */
export interface ReconcileResult {
  /**
   * Reconcile this tenant again after this long even without an event: when a node's report,
   * fresh now, would turn stale (a dead agent announces nothing).
   */
  requeueAfterMs?: number;
}

/** Margin past a report's staleness deadline, so the next look sees it stale. */
const RECHECK_MARGIN_MS = 1_000;

function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

export class Reconciler {
  private readonly reads: TenantReads;
  private readonly client: TenantClient;
  private readonly scopeOf: (tenant: string) => TenantScope;
  private readonly expand: ExpandFn;
  private readonly recorder: EventRecorder;
  private readonly status: StatusWriter;
  private readonly release: TenantRelease;
  private readonly strict: StrictSync;
  private readonly now: () => Date;

  constructor(deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.reads = deps.reads;
    this.client = deps.client;
    this.scopeOf = deps.scopeOf;
    this.expand = deps.expand;
    this.recorder = deps.recorder;
    this.status = new StatusWriter(deps.client, deps.recorder, this.now);
    this.release = new TenantRelease(deps.client, deps.recorder);
    this.strict = new StrictSync(deps.clusterNetworkPolicies, deps.recorder);
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const log = logger('controller', { tenant: name });
    const snapshot = this.readSnapshot(name);
    const tenant = this.reads.tenant(name);
    const result = this.expandSnapshot(snapshot, name);
    const changes = result instanceof Error ? [] : result.labelChanges;
    let recheckAt: Date | undefined;

    if (!tenant) {
      await this.release.releaseNamespaces(name, changes, snapshot.namespaces, undefined, log);
    } else if (tenant.metadata.deletionTimestamp) {
      const strictFailures = await this.strict.finalize(tenant, log);
      if (strictFailures.length > 0) throw new ReconcileError(name, strictFailures);
      await this.release.finalize(tenant, changes, snapshot.namespaces, snapshot.owned, log);
    } else {
      recheckAt = await this.converge(tenant, result, snapshot, log);
    }
    if (!recheckAt) return {};
    return {
      requeueAfterMs: Math.max(0, recheckAt.getTime() - this.now().getTime()) + RECHECK_MARGIN_MS,
    };
  }

  private readSnapshot(name: string): Snapshot {
    const scope = this.scopeOf(name);
    return {
      tenants: scope.tenants.map((t) => this.reads.tenant(t)).filter(defined),
      namespaces: scope.namespaces.map((ns) => this.reads.namespace(ns)).filter(defined),
      owned: this.reads.policiesLabelled(name),
    };
  }

  /**
   * Expands the tenants of the snapshot that are not being deleted over the namespaces that are not being
   * deleted: a tenant on its way out releases its namespaces to the others, and a terminating
   * namespace leaves its tenant at once. A failure is returned, not thrown, so that it can end
   * up in the tenant's status.
   */
  private expandSnapshot(snapshot: Snapshot, name: string): ExpansionResult | Error {
    try {
      return this.expand({
        tenants: snapshot.tenants.filter((t) => !t.metadata.deletionTimestamp),
        namespaces: snapshot.namespaces.filter((ns) => !ns.metadata.deletionTimestamp),
      });
    } catch (err) {
      return new Error(`expanding SoftTenants (while reconciling ${name}): ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  private async converge(
    tenant: SoftTenant,
    result: ExpansionResult | Error,
    snapshot: Snapshot,
    log: Logger,
  ): Promise<Date | undefined> {
    const name = tenant.metadata.name;
    // To notice a new Stalled reason against what was there before this reconcile's writes.
    const conditionsBefore = tenant.status?.conditions;
    if (!(tenant.metadata.finalizers ?? []).includes(FINALIZER)) {
      tenant = await staleReadAware(name, 'the SoftTenant', () => this.client.addFinalizer(tenant));
      log.info('added finalizer', { finalizer: FINALIZER });
    }
    const expansion = result instanceof Error ? undefined : result.tenants.find((t) => t.tenant === name);
    if (result instanceof Error || !expansion) {
      const message =
        result instanceof Error ? result.message : `the expansion returned nothing for SoftTenant ${name}`;
      await this.status.reportFailure(tenant, [message], log);
      throw new ReconcileError(name, [message]);
    }

    const plan = planTenant({
      tenant,
      expansion,
      result,
      namespaces: snapshot.namespaces,
      owned: snapshot.owned,
      live: this.livePolicies(expansion),
    });
    // No "Reconciling" status before the writes: they take a few round trips and the final status
    // follows at once, so it would be one more write per change that no one gets to read. A
    // failed write ends up in the final status (Ready=False, Reconciling=True); a lost race
    // leaves the status as it was and retries.
    if (!planIsEmpty(plan)) log.debug('applying changes', { plan: describePlan(plan) });

    const outcome = await new PlanExecution(this.client, this.recorder, tenant, log).run(plan);
    // After the NetworkPolicies, which stand on their own if these cannot be written.
    const strict = await this.strict.converge(tenant, expansion.clusterNetworkPolicies, log);
    const failures = [...plan.collisions, ...outcome.failures, ...strict.failures];
    const staleRead = outcome.staleRead ?? strict.staleRead;
    if (staleRead !== undefined && failures.length === 0) {
      // The retry, with fresh reads, writes the final status.
      throw new StaleReadError(name, 'an object it writes', { cause: staleRead });
    }

    const applied = withStrictStatus(
      tenant,
      finalStatus(
        tenant.status,
        {
          generation: tenant.metadata.generation,
          expansion,
          policiesInPlace: plan.desired.length - outcome.failedApplies - plan.collisions.length,
          failures,
        },
        this.status.nowRfc3339(),
      ),
      strict,
      this.status.nowRfc3339(),
    );
    // Applied policies have new generations: the cache holds them as the applies returned them.
    const enforcement = this.measureEnforcement(tenant, expansion);
    const next = withEnforcement(tenant.status, applied, enforcement, {
      generation: tenant.metadata.generation,
      now: this.status.nowRfc3339(),
      createdAt: tenant.metadata.creationTimestamp,
    });
    tenant = await this.status.write(tenant, next, log);
    this.status.reportStalled(tenant, conditionsBefore, next);
    if (failures.length > 0) {
      this.status.reportFailures(tenant, failures);
      throw new ReconcileError(name, failures);
    }
    // The ClusterNetworkPolicies' own status (Programmed) is their status loop's (cnp-status-loop.ts).
    return enforcement.recheckAt;
  }

  /** Folds the node agents' reports over the nodes that run pods the tenant's policies select. */
  private measureEnforcement(tenant: SoftTenant, expansion: TenantExpansion): EnforcementResult {
    const name = tenant.metadata.name;
    const byKey = new Map(this.reads.policiesLabelled(name).map((p) => [policyKey(p), p]));
    for (const desired of expansion.policies) {
      const live = this.reads.managedPolicy(desired.metadata.namespace ?? '', desired.metadata.name);
      if (live) byKey.set(policyKey(live), live);
    }
    const policies = [...byKey.values()].filter((p) => isGeneratedFor(p, name, tenant.metadata.uid));
    const { pods, reports, now, namespace } = this.observedNodes(expansion);
    return aggregateEnforcement({
      policies,
      pods,
      reports,
      now,
      selects: podSelection(),
      // A strict tenant is enforced on a node only where its ClusterNetworkPolicies are programmed too.
      clusterNetworkPolicies: this.strict.live(tenant),
      cnpSelects: subjectSelection(namespace),
    });
  }

  private observedNodes(expansion: TenantExpansion): ObservedNodes {
    return {
      pods: expansion.namespaces.flatMap((ns) => this.reads.pods(ns)),
      reports: this.reads.reports(),
      namespace: (ns) => this.reads.namespace(ns),
      now: this.now(),
    };
  }

  /**
   * The live object of each desired policy, generated or not (the cache holds every policy), so
   * that a policy the operator did not generate is never taken over, and no GET precedes a create.
   */
  private livePolicies(expansion: TenantExpansion): Map<string, NetworkPolicy> {
    const found = new Map<string, NetworkPolicy>();
    for (const policy of expansion.policies) {
      const live = this.reads.policy(policy.metadata.namespace ?? '', policy.metadata.name);
      if (live) found.set(policyKey(policy), live);
    }
    return found;
  }
}

/** policy.spec.podSelector as a predicate, each selector compiled once per reconcile. */
function podSelection(): (policy: NetworkPolicy, pod: Pod) => boolean {
  const compiled = new Map<NetworkPolicy, CompiledSelector | undefined>();
  return (policy, pod) => {
    if (!compiled.has(policy)) {
      try {
        compiled.set(policy, compileSelector(policy.spec.podSelector, 'spec.podSelector'));
      } catch {
        // The API server validates selectors; one it let through but we cannot read selects
        // nothing here, and the agent reports the policy as an error.
        compiled.set(policy, undefined);
      }
    }
    return compiled.get(policy)?.matches(pod.metadata.labels) ?? false;
  };
}
