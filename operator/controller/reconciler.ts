// Reconcile(tenant name), level-triggered: read every SoftTenant and Namespace (ownership of a
// namespace depends on all tenants) and the generated policies, expand, then converge this
// tenant (finalizer, namespace labels, policies, status) or, for a tenant being deleted or
// gone, release what it held. Writes happen only where the live state differs.
import type { Namespace, NetworkPolicy } from '../api/networkpolicy.js';
import { FINALIZER, type SoftTenant } from '../api/softtenant.js';
import type { ExpansionInput, ExpansionResult, TenantExpansion } from '../tenant/types.js';
import { logger, type Logger } from '../util/logger.js';
import type { TenantClient } from './client.js';
import { errorMessage, ReconcileError, StaleReadError, staleReadAware } from './errors.js';
import { policyKey } from './ownership.js';
import { PlanExecution } from './plan-execution.js';
import { describePlan, planIsEmpty, planTenant } from './plan.js';
import type { EventRecorder } from './recorder.js';
import { Release } from './release.js';
import { finalStatus, progressingStatus } from './status.js';
import { StatusWriter } from './status-writer.js';

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

/** What a reconcile learnt that the controller keeps: the tenants that exist. */
export interface ReconcileResult {
  tenants: string[];
}

export class Reconciler {
  private readonly client: TenantClient;
  private readonly expand: ExpandFn;
  private readonly recorder: EventRecorder;
  private readonly status: StatusWriter;
  private readonly release: Release;

  constructor(deps: ReconcilerDeps) {
    this.client = deps.client;
    this.expand = deps.expand;
    this.recorder = deps.recorder;
    this.status = new StatusWriter(deps.client, deps.recorder, deps.now ?? (() => new Date()));
    this.release = new Release(deps.client, deps.recorder);
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const log = logger('controller', { tenant: name });
    const snapshot = await this.readSnapshot();
    const tenant = snapshot.tenants.find((t) => t.metadata.name === name);
    const result = this.expandSnapshot(snapshot, name);
    const changes = result instanceof Error ? [] : result.labelChanges;

    if (!tenant) {
      await this.release.releaseNamespaces(name, changes, snapshot.namespaces, undefined, log);
    } else if (tenant.metadata.deletionTimestamp) {
      await this.release.finalize(tenant, changes, snapshot.namespaces, snapshot.managed, log);
    } else {
      await this.converge(tenant, result, snapshot, log);
    }
    return { tenants: snapshot.tenants.map((t) => t.metadata.name) };
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
  ): Promise<void> {
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

    const next = finalStatus(
      tenant.status,
      {
        generation: tenant.metadata.generation,
        expansion,
        policiesInPlace: plan.desired.length - outcome.failedApplies - plan.collisions.length,
        failures,
      },
      this.status.stamp(),
    );
    tenant = await this.status.write(tenant, next, log);
    await this.status.reportStalled(tenant, conditionsBefore, next);
    if (failures.length > 0) {
      await this.status.reportFailures(tenant, failures);
      throw new ReconcileError(name, failures);
    }
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
