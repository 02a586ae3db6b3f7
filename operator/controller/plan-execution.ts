// Carries out a live tenant's plan: namespace labels, then policy applies, then prunes. The
// writes of one step go out together (they touch different objects; a tenant's reconcile costs
// a round trip per step, not per object), and the steps stay in this order so that a namespace
// is a tenant peer before a policy of that tenant isolates it. Every write is attempted (one
// failure does not hold back the rest); failures are collected for the status, lost races are
// kept apart so the reconcile can retry quietly. Each kind of change (namespaces joined or left,
// policies created, updated or deleted) is reported in one Event per reconcile, whatever the
// number of objects; Events are sent in the background, on their own budget (recorder.ts).
import type { NetworkPolicy } from '../api/networkpolicy.js';
import { TENANT_LABEL, type SoftTenant } from '../api/softtenant.js';
import type { Logger } from '../util/logger.js';
import { WriteConflict, type TenantClient } from './client.js';
import { policyKey } from './ownership.js';
import { tenantLabel, type LabelMove, type TenantPlan } from './plan.js';
import { clauseList, noteList, type EventRecorder } from './recorder.js';
import { errorMessage } from '../util/errors.js';

export interface ExecutionOutcome {
  /** One message per failed write, naming the object and the API server's reason. */
  failures: string[];
  /** Applies that failed (their policies are not in place). */
  failedApplies: number;
  /** The first write that lost a race with another writer, if any. */
  staleRead?: unknown;
}

export class PlanExecution {
  private readonly outcome: ExecutionOutcome = { failures: [], failedApplies: 0 };

  constructor(
    private readonly client: TenantClient,
    private readonly recorder: EventRecorder,
    private readonly tenant: SoftTenant,
    private readonly log: Logger,
  ) {}

  async run(plan: TenantPlan): Promise<ExecutionOutcome> {
    await this.moveLabels(plan.labels);
    const failed = await this.applyPolicies(plan);
    // A namespace whose apply failed keeps what the tenant generated there before, until the
    // retry has put its successor in place (the last good state stays enforced).
    await this.prunePolicies(plan.prune.filter((p) => !failed.has(p.metadata.namespace ?? '')));
    return this.outcome;
  }

  private async attempt(what: string, write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      if (err instanceof WriteConflict) this.outcome.staleRead ??= err;
      else this.outcome.failures.push(errorMessage(err));
      this.log.warn('write failed', { what, error: errorMessage(err) });
      return false;
    }
  }

  private async moveLabels(moves: readonly LabelMove[]): Promise<void> {
    const name = this.tenant.metadata.name;
    const done = await Promise.all(
      moves.map((move) =>
        this.attempt(`label namespace ${move.namespace.metadata.name}`, () =>
          this.client.setNamespaceTenantLabel(move.namespace, move.tenant),
        ),
      ),
    );
    const joined: string[] = [];
    const left: string[] = [];
    moves.forEach((move, i) => {
      if (!done[i]) return;
      const ns = move.namespace.metadata.name;
      const from = tenantLabel(move.namespace) ?? null;
      this.log.info('namespace label changed', { namespace: ns, from, to: move.tenant });
      if (move.tenant === name)
        joined.push(`namespace ${ns} joined the tenant (label ${TENANT_LABEL}=${name})`);
      else if (move.tenant === null)
        left.push(`namespace ${ns} left the tenant (label ${TENANT_LABEL} removed)`);
      else left.push(`namespace ${ns} left the tenant for tenant ${move.tenant}`);
    });
    // One Event per kind of change and reconcile, not one per namespace: a new tenant of many
    // namespaces is one NamespaceJoined.
    const report = (reason: string, clauses: string[]): void => {
      if (clauses.length === 0) return;
      this.recorder.record({
        tenant: this.tenant,
        type: 'Normal',
        reason,
        action: 'Label',
        note: clauseList(clauses),
      });
    };
    report('NamespaceJoined', joined);
    report('NamespaceLeft', left);
  }

  /** Applies the plan's policies; returns the namespaces where an apply failed. */
  private async applyPolicies(plan: TenantPlan): Promise<Set<string>> {
    const failed = new Set<string>();
    const created: string[] = [];
    const restored: string[] = [];
    const done = await Promise.all(
      plan.apply.map(({ policy }) =>
        this.attempt(`apply NetworkPolicy ${policyKey(policy)}`, () => this.client.applyPolicy(policy)),
      ),
    );
    plan.apply.forEach(({ policy, existing, differences }, i) => {
      const key = policyKey(policy);
      if (!done[i]) {
        this.outcome.failedApplies += 1;
        failed.add(policy.metadata.namespace ?? '');
        return;
      }
      this.log.info(existing ? 'policy updated' : 'policy created', { policy: key, differences });
      if (existing) restored.push(`${key} (${differences.join(', ')})`);
      else created.push(key);
    });
    if (created.length > 0) {
      this.recorder.record({
        tenant: this.tenant,
        type: 'Normal',
        reason: 'PolicyCreated',
        action: 'Apply',
        note: `created NetworkPolicy ${noteList(created)}`,
      });
    }
    if (restored.length > 0) {
      this.recorder.record({
        tenant: this.tenant,
        type: 'Normal',
        reason: 'PolicyUpdated',
        action: 'Apply',
        note: `brought NetworkPolicy ${noteList(restored)} to the generated state`,
      });
    }
    return failed;
  }

  private async prunePolicies(prune: readonly NetworkPolicy[]): Promise<void> {
    const keys = prune.map(policyKey);
    const done = await Promise.all(
      prune.map((policy, i) =>
        this.attempt(`delete NetworkPolicy ${keys[i]}`, () => this.client.deletePolicy(policy)),
      ),
    );
    const deleted = keys.filter((_, i) => done[i]);
    for (const key of deleted) this.log.info('policy deleted', { policy: key });
    if (deleted.length > 0) {
      this.recorder.record({
        tenant: this.tenant,
        type: 'Normal',
        reason: 'PolicyDeleted',
        action: 'Delete',
        note: `deleted NetworkPolicy ${noteList(deleted)} (no longer generated by the tenant's spec)`,
      });
    }
  }
}
