// Folds the aggregated enforcement into the status a reconcile writes, as a pure function:
// status.enforcement, the Enforced condition, and Ready, which means applied AND enforced.
// Nodes still catching up are progress (Reconciling=True, reason AwaitingEnforcement, so
// kstatus tools wait); a node that cannot enforce (agent missing, stale or failing) is a fault
// (Ready=False, reason NotEnforced).
import { ConditionType, findCondition, Reason, removeCondition, setCondition } from '../api/conditions.js';
import type { SoftTenantStatus } from '../api/softtenant.js';
import type { EnforcementResult } from '../enforcement/aggregate.js';
import type { OwnedStatus } from './status.js';

export interface EnforcementContext {
  generation: number | undefined;
  /** metav1.Time of this reconcile. */
  now: string;
  /** When the tenant was created: the start of its first wait for enforcement. */
  createdAt: string | undefined;
}

/**
 * Seconds from the moment the tenant stopped being enforced (a change that new policy
 * generations had to reach the nodes, or its creation) to now, when it is enforced again.
 */
function secondsToEnforced(
  prev: SoftTenantStatus | undefined,
  result: EnforcementResult,
  ctx: EnforcementContext,
): number | undefined {
  const before = findCondition(prev?.conditions, ConditionType.Enforced);
  const kept = prev?.enforcement?.lastEnforcedSeconds;
  if (result.condition.status !== 'True' || before?.status === 'True') return kept;
  const from = before?.lastTransitionTime ?? ctx.createdAt;
  if (!from) return kept;
  return Math.max(0, Math.round((Date.parse(ctx.now) - Date.parse(from)) / 1000));
}

export function withEnforcement(
  prev: SoftTenantStatus | undefined,
  next: OwnedStatus,
  result: EnforcementResult,
  ctx: EnforcementContext,
): OwnedStatus {
  const { condition } = result;
  const set = (
    conditions: OwnedStatus['conditions'],
    type: string,
    status: 'True' | 'False',
    reason: string,
    message: string,
  ): NonNullable<OwnedStatus['conditions']> =>
    setCondition(
      conditions ?? [],
      { type, status, reason, message, observedGeneration: ctx.generation },
      ctx.now,
    );

  let conditions = set(
    next.conditions,
    ConditionType.Enforced,
    condition.status,
    condition.reason,
    condition.message,
  );
  const ready = findCondition(conditions, ConditionType.Ready);
  // Only an applied tenant's readiness depends on enforcement; a failed or stalled one already
  // says why it is not Ready.
  if (ready?.status === 'True') {
    if (condition.status === 'True') {
      const where = result.status.nodes > 0 ? `, enforced on ${result.status.summary ?? ''} nodes` : '';
      conditions = set(
        conditions,
        ConditionType.Ready,
        'True',
        ready.reason,
        `${stripEnforcedSuffix(ready.message)}${where}`,
      );
    } else {
      conditions = set(conditions, ConditionType.Ready, 'False', condition.reason, condition.message);
      if (condition.reason === Reason.AwaitingEnforcement) {
        conditions = set(conditions, ConditionType.Reconciling, 'True', condition.reason, condition.message);
      }
    }
  }
  if (condition.status === 'True' || condition.reason !== Reason.AwaitingEnforcement) {
    const reconciling = findCondition(conditions, ConditionType.Reconciling);
    if (reconciling?.reason === Reason.AwaitingEnforcement) {
      conditions = removeCondition(conditions, ConditionType.Reconciling);
    }
  }

  const lastEnforcedSeconds = secondsToEnforced(prev, result, ctx);
  return {
    ...next,
    enforcement: {
      ...result.status,
      ...(lastEnforcedSeconds !== undefined ? { lastEnforcedSeconds } : {}),
    },
    conditions,
  };
}

/** Ready's message is rebuilt each time; never let the suffix pile up. */
function stripEnforcedSuffix(message: string): string {
  return message.replace(/, enforced on \d+\/\d+ nodes$/, '');
}
