// Reconcile(tenant name), level-triggered: read every SoftTenant and Namespace (ownership of a
// namespace depends on all tenants) and the generated policies, expand, then converge this
// tenant: finalizer, namespace labels, policies, status; or, for a tenant being deleted or
// gone, release what it held. Writes happen only where the live state differs.
import { ConditionType, findCondition, type Condition } from '../api/conditions.js';
import type { Namespace, NetworkPolicy } from '../api/networkpolicy.js';
import { FINALIZER, TENANT_LABEL, type SoftTenant } from '../api/softtenant.js';
import type { ExpansionInput, ExpansionResult, TenantExpansion } from '../tenant/types.js';
import { logger, type Logger } from '../util/logger.js';
import { isConflict } from '../kube/errors.js';
import type { TenantClient } from './client.js';
import { ReconcileError, StaleReadError } from './errors.js';
import { isGeneratedFor, policyKey } from './ownership.js';
import {
  describePlan,
  planIsEmpty,
  planTenant,
  tenantLabel,
  type LabelMove,
  type TenantPlan,
} from './plan.js';
import type { EventRecorder } from './recorder.js';
import {
  droppedFields,
  finalStatus,
  ownedStatusEqual,
  progressingStatus,
  type OwnedStatus,
} from './status.js';

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

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Lists objects as "a/b, c/d" for Event notes, shortened when long. */
function objectList(keys: string[], limit = 10): string {
  const shown = keys.slice(0, limit).join(', ');
  return keys.length > limit ? `${shown} and ${keys.length - limit} more` : shown;
}

export class Reconciler {
  private readonly client: TenantClient;
  private readonly expand: ExpandFn;
  private readonly recorder: EventRecorder;
  private readonly now: () => Date;
  /** Status fields the CRD schema turned out to drop; comparing them would mean a write forever. */
  private readonly droppedStatusFields = new Set<string>();

  constructor(deps: ReconcilerDeps) {
    this.client = deps.client;
    this.expand = deps.expand;
    this.recorder = deps.recorder;
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const log = logger('controller', { tenant: name });
    const snapshot = await this.readSnapshot();
    const tenant = snapshot.tenants.find((t) => t.metadata.name === name);
    const result = this.expandSnapshot(snapshot, name);
    const names = snapshot.tenants.map((t) => t.metadata.name);

    if (!tenant) {
      await this.releaseNamespaces(name, result, snapshot.namespaces, undefined, log);
    } else if (tenant.metadata.deletionTimestamp) {
      await this.finalize(tenant, result, snapshot, log);
    } else {
      await this.converge(tenant, result, snapshot, log);
    }
    return { tenants: names };
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
   * namespace leaves its tenant at once. An expansion failure is returned, not thrown, so that
   * it ends up in the tenant's status.
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

  // ---- live tenant -------------------------------------------------------------------------

  private async converge(
    tenant: SoftTenant,
    result: ExpansionResult | Error,
    snapshot: Snapshot,
    log: Logger,
  ): Promise<void> {
    const name = tenant.metadata.name;
    if (!(tenant.metadata.finalizers ?? []).includes(FINALIZER)) {
      tenant = await this.guard(name, 'the SoftTenant', () => this.client.addFinalizer(tenant));
      log.info('added finalizer', { finalizer: FINALIZER });
    }
    if (result instanceof Error) {
      await this.reportFailure(tenant, [result.message], log);
      throw new ReconcileError(name, [result.message]);
    }
    const expansion = result.tenants.find((t) => t.tenant === name);
    if (!expansion) {
      const message = `the expansion returned nothing for SoftTenant ${name}`;
      await this.reportFailure(tenant, [message], log);
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
        this.stamp(),
      );
      tenant = await this.writeStatus(tenant, progressing, log);
    }

    const failures = [...plan.collisions];
    let stale: unknown;
    const attempt = async (what: string, write: () => Promise<void>): Promise<boolean> => {
      try {
        await write();
        return true;
      } catch (err) {
        if (isConflict(err)) stale ??= err;
        else failures.push(errorMessage(err));
        log.warn('write failed', { what, error: errorMessage(err) });
        return false;
      }
    };

    await this.moveLabels(tenant, plan.labels, attempt, log);
    const failedApplies = await this.applyPolicies(tenant, plan, attempt, log);
    await this.prunePolicies(tenant, plan.prune, attempt, log);

    if (stale !== undefined && failures.length === 0) {
      // The Reconciling status stays; the retry, with fresh reads, writes the final one.
      throw new StaleReadError(name, 'an object it writes', { cause: stale });
    }

    const next = finalStatus(
      tenant.status,
      {
        generation: tenant.metadata.generation,
        expansion,
        policiesInPlace: plan.desired.length - failedApplies - plan.collisions.length,
        failures,
      },
      this.stamp(),
    );
    const before = tenant.status;
    tenant = await this.writeStatus(tenant, next, log);
    await this.reportStalled(tenant, before?.conditions, next);
    if (failures.length > 0) {
      for (const failure of failures) {
        await this.recorder.record({
          tenant,
          type: 'Warning',
          reason: 'ApplyFailed',
          action: 'Reconcile',
          note: failure,
        });
      }
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

  private async moveLabels(
    tenant: SoftTenant,
    moves: LabelMove[],
    attempt: (what: string, write: () => Promise<void>) => Promise<boolean>,
    log: Logger,
  ): Promise<void> {
    const name = tenant.metadata.name;
    for (const move of moves) {
      const ns = move.namespace.metadata.name;
      const from = tenantLabel(move.namespace);
      const ok = await attempt(`label namespace ${ns}`, () =>
        this.client.setNamespaceTenantLabel(move.namespace, move.tenant),
      );
      if (!ok) continue;
      log.info('namespace label changed', { namespace: ns, from: from ?? null, to: move.tenant });
      const note =
        move.tenant === name
          ? `namespace ${ns} joined the tenant (label ${TENANT_LABEL}=${name})`
          : move.tenant === null
            ? `namespace ${ns} left the tenant (label ${TENANT_LABEL} removed)`
            : `namespace ${ns} left the tenant for tenant ${move.tenant}`;
      await this.recorder.record({
        tenant,
        type: 'Normal',
        reason: move.tenant === name ? 'NamespaceJoined' : 'NamespaceLeft',
        action: 'Label',
        note,
      });
    }
  }

  /** Applies what differs; returns how many applies failed. */
  private async applyPolicies(
    tenant: SoftTenant,
    plan: TenantPlan,
    attempt: (what: string, write: () => Promise<void>) => Promise<boolean>,
    log: Logger,
  ): Promise<number> {
    const created: string[] = [];
    const updated: string[] = [];
    let failed = 0;
    for (const { policy, existing, differences } of plan.apply) {
      const key = policyKey(policy);
      const ok = await attempt(`apply NetworkPolicy ${key}`, () => this.client.applyPolicy(policy));
      if (!ok) {
        failed += 1;
        continue;
      }
      log.info(existing ? 'policy updated' : 'policy created', { policy: key, differences });
      (existing ? updated : created).push(existing ? `${key} (${differences.join(', ')})` : key);
    }
    if (created.length > 0) {
      await this.recorder.record({
        tenant,
        type: 'Normal',
        reason: 'PolicyCreated',
        action: 'Apply',
        note: `created NetworkPolicy ${objectList(created)}`,
      });
    }
    if (updated.length > 0) {
      await this.recorder.record({
        tenant,
        type: 'Normal',
        reason: 'PolicyUpdated',
        action: 'Apply',
        note: `restored NetworkPolicy ${objectList(updated)} to the generated state`,
      });
    }
    return failed;
  }

  private async prunePolicies(
    tenant: SoftTenant,
    prune: NetworkPolicy[],
    attempt: (what: string, write: () => Promise<void>) => Promise<boolean>,
    log: Logger,
  ): Promise<void> {
    const deleted: string[] = [];
    for (const policy of prune) {
      const key = policyKey(policy);
      if (await attempt(`delete NetworkPolicy ${key}`, () => this.client.deletePolicy(policy))) {
        log.info('policy deleted', { policy: key });
        deleted.push(key);
      }
    }
    if (deleted.length > 0) {
      await this.recorder.record({
        tenant,
        type: 'Normal',
        reason: 'PolicyDeleted',
        action: 'Delete',
        note: `deleted NetworkPolicy ${objectList(deleted)} (no longer generated by the tenant's spec)`,
      });
    }
  }

  // ---- status ------------------------------------------------------------------------------

  private stamp(): string {
    return rfc3339(this.now());
  }

  /** Writes the owned status fields when they differ from what is stored; returns the tenant after. */
  private async writeStatus(tenant: SoftTenant, next: OwnedStatus, log: Logger): Promise<SoftTenant> {
    if (ownedStatusEqual(tenant.status, next, this.droppedStatusFields)) return tenant;
    const updated = await this.guard(tenant.metadata.name, 'the SoftTenant status', () =>
      this.client.patchStatus(tenant, next),
    );
    for (const field of droppedFields(next, updated.status)) {
      if (this.droppedStatusFields.has(field)) continue;
      this.droppedStatusFields.add(field);
      log.warn('the SoftTenant CRD drops a status field the operator writes; ignoring it from now on', {
        field: `status.${field}`,
      });
    }
    log.info('status updated', {
      ready: findCondition(next.conditions, ConditionType.Ready)?.status,
      reason: findCondition(next.conditions, ConditionType.Ready)?.reason,
    });
    return updated;
  }

  /** Best effort: a failure is already in the log and the error goes back to the queue. */
  private async reportFailure(tenant: SoftTenant, failures: string[], log: Logger): Promise<void> {
    try {
      const expansion: TenantExpansion = {
        tenant: tenant.metadata.name,
        namespaces: tenant.status?.namespaces ?? [],
        policies: [],
        conflicts: [],
        problems: [],
      };
      const next = finalStatus(
        tenant.status,
        {
          generation: tenant.metadata.generation,
          expansion,
          policiesInPlace: tenant.status?.policies ?? 0,
          failures,
        },
        this.stamp(),
      );
      await this.writeStatus(tenant, next, log);
    } catch (err) {
      log.warn('could not write the failure into the status', { error: errorMessage(err) });
    }
    for (const failure of failures) {
      await this.recorder.record({
        tenant,
        type: 'Warning',
        reason: 'ApplyFailed',
        action: 'Reconcile',
        note: failure,
      });
    }
  }

  /** An Event when the tenant becomes Stalled (or stalls for a new reason). */
  private async reportStalled(
    tenant: SoftTenant,
    before: readonly Condition[] | undefined,
    next: OwnedStatus,
  ): Promise<void> {
    const was = findCondition(before, ConditionType.Stalled);
    const now = findCondition(next.conditions, ConditionType.Stalled);
    if (!now || now.status !== 'True') return;
    if (was && was.status === 'True' && was.reason === now.reason && was.message === now.message) return;
    await this.recorder.record({
      tenant,
      type: 'Warning',
      reason: now.reason,
      action: 'Reconcile',
      note: now.message,
    });
  }

  /** Runs a guarded write; a lost race becomes a StaleReadError (quiet retry). */
  private async guard<T>(tenant: string, what: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isConflict(err)) throw new StaleReadError(tenant, what, { cause: err });
      throw err;
    }
  }

  // ---- tenant deleted or gone --------------------------------------------------------------

  /** SoftTenant being deleted: delete its policies, release its namespaces, drop the finalizer. */
  private async finalize(
    tenant: SoftTenant,
    result: ExpansionResult | Error,
    snapshot: Snapshot,
    log: Logger,
  ): Promise<void> {
    if (!(tenant.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const name = tenant.metadata.name;
    const failures: string[] = [];
    const policies = snapshot.managed.filter((p) => isGeneratedFor(p, name, tenant.metadata.uid));
    const deleted: string[] = [];
    for (const policy of policies) {
      try {
        await this.client.deletePolicy(policy);
        log.info('policy deleted', { policy: policyKey(policy), why: 'tenant deleted' });
        deleted.push(policyKey(policy));
      } catch (err) {
        failures.push(errorMessage(err));
      }
    }
    if (deleted.length > 0) {
      await this.recorder.record({
        tenant,
        type: 'Normal',
        reason: 'PolicyDeleted',
        action: 'Delete',
        note: `deleted NetworkPolicy ${objectList(deleted)} (the tenant is being deleted)`,
      });
    }
    try {
      await this.releaseNamespaces(name, result, snapshot.namespaces, tenant, log);
    } catch (err) {
      failures.push(errorMessage(err));
    }
    if (failures.length > 0) {
      for (const failure of failures) {
        await this.recorder.record({
          tenant,
          type: 'Warning',
          reason: 'CleanupFailed',
          action: 'Delete',
          note: failure,
        });
      }
      throw new ReconcileError(name, failures);
    }
    await this.guard(name, 'the SoftTenant', () => this.client.removeFinalizer(tenant));
    log.info('released the tenant and removed the finalizer', { policiesDeleted: policies.length });
  }

  /**
   * Namespaces still labelled for `name` (a tenant being deleted, or one that no longer
   * exists) go to whichever tenant the expansion gives them, else lose the label. Namespaces
   * are never deleted.
   */
  private async releaseNamespaces(
    name: string,
    result: ExpansionResult | Error,
    namespaces: readonly Namespace[],
    tenant: SoftTenant | undefined,
    log: Logger,
  ): Promise<void> {
    const changes = result instanceof Error ? [] : result.labelChanges;
    const failures: string[] = [];
    for (const namespace of namespaces) {
      if (tenantLabel(namespace) !== name || namespace.metadata.deletionTimestamp) continue;
      const ns = namespace.metadata.name;
      const next = changes.find((c) => c.namespace === ns)?.tenant ?? null;
      if (next === name) continue;
      try {
        await this.guard(name, `namespace ${ns}`, () => this.client.setNamespaceTenantLabel(namespace, next));
      } catch (err) {
        if (err instanceof StaleReadError) throw err;
        failures.push(errorMessage(err));
        continue;
      }
      log.info('namespace released', { namespace: ns, to: next });
      if (tenant) {
        await this.recorder.record({
          tenant,
          type: 'Normal',
          reason: 'NamespaceLeft',
          action: 'Label',
          note:
            next === null
              ? `namespace ${ns} released (label ${TENANT_LABEL} removed)`
              : `namespace ${ns} handed to tenant ${next}`,
        });
      }
    }
    if (failures.length > 0) throw new ReconcileError(name, failures);
  }
}
