// The strict part of a SoftTenant's status, as a pure function over the status finalStatus()
// computed: the Strict condition and status.clusterNetworkPolicies. A strict tenant whose
// ClusterNetworkPolicies cannot be written is not Ready (its isolation is not what it declares)
// and, when the CRD is missing, Stalled: only installing it helps, which the message says.
import { ConditionType, Reason, removeCondition, setCondition, type Condition } from '../api/conditions.js';
import type { SoftTenant } from '../api/softtenant.js';
import type { StrictOutcome } from './cnp-sync.js';
import type { OwnedStatus } from './status.js';

function inPlaceMessage(outcome: StrictOutcome): string {
  const names = outcome.wanted.map((p) => `${p.metadata.name} (${p.spec.tier} ${p.spec.priority})`);
  return `ClusterNetworkPolicies ${names.join(' and ')} in place: NetworkPolicies in the tenant's namespaces cannot open them to pods outside the tenant`;
}

export function withStrictStatus(
  tenant: SoftTenant,
  status: OwnedStatus,
  outcome: StrictOutcome,
  now: string,
): OwnedStatus {
  const generation = tenant.metadata.generation;
  const previous = tenant.status?.clusterNetworkPolicies;
  const next: OwnedStatus = { ...status };
  if (outcome.wanted.length > 0 || previous !== undefined) next.clusterNetworkPolicies = outcome.inPlace;
  let conditions: Condition[] = status.conditions ?? [];
  const set = (type: string, value: Condition['status'], reason: string, message: string): void => {
    conditions = setCondition(
      conditions,
      { type, status: value, reason, message, observedGeneration: generation },
      now,
    );
  };
  if (outcome.wanted.length === 0) {
    next.conditions = removeCondition(conditions, ConditionType.Strict);
    return next;
  }
  if (outcome.unavailable) {
    const reason = Reason.ClusterNetworkPolicyUnavailable;
    set(ConditionType.Strict, 'False', reason, outcome.unavailable);
    set(ConditionType.Ready, 'False', reason, outcome.unavailable);
    const stalled = conditions.find((c) => c.type === ConditionType.Stalled);
    if (stalled?.status !== 'True') set(ConditionType.Stalled, 'True', reason, outcome.unavailable);
  } else if (outcome.failures.length > 0) {
    set(
      ConditionType.Strict,
      'False',
      Reason.ApplyFailed,
      `${outcome.failures.join('; ')} (retrying with backoff)`,
    );
  } else {
    set(ConditionType.Strict, 'True', Reason.Applied, inPlaceMessage(outcome));
  }
  next.conditions = conditions;
  return next;
}
