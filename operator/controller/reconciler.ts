// Reconcile(tenant name), level-triggered: read every SoftTenant and Namespace (ownership of a
// namespace depends on all tenants) and the generated policies, expand, then converge this
// tenant (finalizer, namespace labels, policies, status) or, for a tenant being deleted or
// gone, release what it held. Writes happen only where the live state differs.
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { FINALIZER, type SoftTenant } from '../api/softtenant.js';
import { aggregateEnforcement, type EnforcementResult } from '../enforcement/aggregate.js';
import { compileSelector, type CompiledSelector } from '../netpol/selector.js';
import type { ExpansionInput, ExpansionResult, TenantExpansion } from '../tenant/types.js';
import { logger, type Logger } from '../util/logger.js';
import type { TenantClient } from './client.js';
import { ReconcileError, StaleReadError, staleReadAware } from './errors.js';
import { withEnforcement } from './enforcement-status.js';
import { isGeneratedFor, policyKey } from './ownership.js';
import { PlanExecution } from './plan-execution.js';
import { describePlan, planIsEmpty, planTenant } from './plan.js';
import type { EventRecorder } from './recorder.js';
import { Release } from './release.js';
import { finalStatus, progressingStatus } from './status.js';
import { StatusWriter } from './status-writer.js';
import { errorMessage } from '../util/errors.js';

export type ExpandFn = (input: ExpansionInput) => ExpansionResult;

export interface ReconcilerDeps {
  client: TenantClient;
  expand: ExpandFn;
  recorder: EventRecorder;
  now?: () => Date;
}

interface Snapshot {
  tenants: SoftTenant[];
  namespaces: Namespace[];
  managed: NetworkPolicy[];
}

/** What a reconcile learnt that the controller keeps. */
export interface ReconcileResult {
  /** The tenants that exist. */
  tenants: string[];
  /**
   * Reconcile this tenant again after this long even without an event: when a node's report,
   * fresh now, would turn stale (a dead agent announces nothing).
   */
  requeueAfterMs?: number;
}

/** Margin past a report's staleness deadline, so the next look sees it stale. */
const RECHECK_MARGIN_MS = 1_000;

export class Reconciler {
  private readonly client: TenantClient;
  private readonly expand: ExpandFn;
  private readonly recorder: EventRecorder;
  private readonly status: StatusWriter;
  private readonly release: Release;
  private readonly now: () => Date;

  constructor(deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.client = deps.client;
    this.expand = deps.expand;
    this.recorder = deps.recorder;
    this.status = new StatusWriter(deps.client, deps.recorder, this.now);
    this.release = new Release(deps.client, deps.recorder);
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const log = logger('controller', { tenant: name });
    const snapshot = await this.readSnapshot();
    const tenant = snapshot.tenants.find((t) => t.metadata.name === name);
    const result = this.expandSnapshot(snapshot, name);
    const changes = result instanceof Error ? [] : result.labelChanges;
    let recheckAt: Date | undefined;

    if (!tenant) {
      await this.release.releaseNamespaces(name, changes, snapshot.namespaces, undefined, log);
    } else if (tenant.metadata.deletionTimestamp) {
      await this.release.finalize(tenant, changes, snapshot.namespaces, snapshot.managed, log);
    } else {
      recheckAt = await this.converge(tenant, result, snapshot, log);
    }
    const tenants = snapshot.tenants.map((t) => t.metadata.name);
    if (!recheckAt) return { tenants };
    return {
      tenants,
      requeueAfterMs: Math.max(0, recheckAt.getTime() - this.now().getTime()) + RECHECK_MARGIN_MS,
    };
  }

  private async readSnapshot(): Promise<Snapshot> {
    const [tenants, namespaces, managed] = await Promise.all([
      this.client.listSoftTenants(),
      this.client.listNamespaces(),
      this.client.listManagedPolicies(),
    ]);
    return { tenants, namespaces, managed };
  }

  /**
   * Expands the tenants that are not being deleted over the namespaces that are not being
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
      managed: snapshot.managed,
      others: await this.lookUpUnmanaged(expansion, snapshot.managed),
    });
    if (!planIsEmpty(plan)) {
      const progressing = progressingStatus(
        tenant.status,
        tenant.metadata.generation,
        describePlan(plan),
        this.status.stamp(),
      );
      tenant = await this.status.write(tenant, progressing, log);
    }

    const outcome = await new PlanExecution(this.client, this.recorder, tenant, log).run(plan);
    const failures = [...plan.collisions, ...outcome.failures];
    if (outcome.staleRead !== undefined && failures.length === 0) {
      // The Reconciling status stays; the retry, with fresh reads, writes the final one.
      throw new StaleReadError(name, 'an object it writes', { cause: outcome.staleRead });
    }

    const applied = finalStatus(
      tenant.status,
      {
        generation: tenant.metadata.generation,
        expansion,
        policiesInPlace: plan.desired.length - outcome.failedApplies - plan.collisions.length,
        failures,
      },
      this.status.stamp(),
    );
    // Applied policies have new generations the snapshot does not know: read them again.
    const managed = planIsEmpty(plan) ? snapshot.managed : await this.client.listManagedPolicies();
    const enforcement = await this.measureEnforcement(tenant, expansion, managed);
    const next = withEnforcement(tenant.status, applied, enforcement, {
      generation: tenant.metadata.generation,
      now: this.status.stamp(),
      createdAt: tenant.metadata.creationTimestamp,
    });
    tenant = await this.status.write(tenant, next, log);
    await this.status.reportStalled(tenant, conditionsBefore, next);
    if (failures.length > 0) {
      await this.status.reportFailures(tenant, failures);
      throw new ReconcileError(name, failures);
    }
    return enforcement.recheckAt;
  }

  /** Folds the node agents' reports over the nodes that run pods the tenant's policies select. */
  private async measureEnforcement(
    tenant: SoftTenant,
    expansion: TenantExpansion,
    managed: readonly NetworkPolicy[],
  ): Promise<EnforcementResult> {
    const policies = managed.filter((p) => isGeneratedFor(p, tenant.metadata.name, tenant.metadata.uid));
    const [pods, reports] = await Promise.all([
      this.client.listPods(expansion.namespaces),
      this.client.listNodeEnforcements(),
    ]);
    return aggregateEnforcement({ policies, pods, reports, now: this.now(), selects: podSelection() });
  }

  /** Desired policies missing from the managed list may still exist (unmanaged, or hand-stripped). */
  private async lookUpUnmanaged(
    expansion: TenantExpansion,
    managed: readonly NetworkPolicy[],
  ): Promise<Map<string, NetworkPolicy>> {
    const known = new Set(managed.map(policyKey));
    const found = new Map<string, NetworkPolicy>();
    for (const policy of expansion.policies) {
      const key = policyKey(policy);
      if (known.has(key)) continue;
      const live = await this.client.getPolicy(policy.metadata.namespace ?? '', policy.metadata.name);
      if (live) found.set(key, live);
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
