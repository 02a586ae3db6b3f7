// The strict part of a SoftTenant's status, as a pure function over the status finalStatus()
// computed: the Strict condition and status.clusterNetworkPolicies. A strict tenant whose
// ClusterNetworkPolicies cannot be written is not Ready (its isolation is not what it declares)
// and, when the CRD is missing, Stalled: only installing it helps, which the message says.
// Also the status of the ClusterNetworkPolicies themselves: their Programmed condition.
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import { ConditionType, Reason, removeCondition, setCondition, type Condition } from '../api/conditions.js';
import type { SoftTenant } from '../api/softtenant.js';
import { LagReason, type EnforcementResult } from '../enforcement/aggregate.js';
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

/**
 * The condition the operator sets on each ClusterNetworkPolicy it generates. The API's status is
 * a bare list of conditions whose content it leaves to the implementation (network-policy-api
 * v0.3.0, site-src/api-overview.md "Status"); the name follows the Programmed condition of the
 * sig-network Gateway API: the policy is in the dataplane of every node that must enforce it.
 */
export const CNP_PROGRAMMED = 'Programmed';
/** Lagging nodes named in the Programmed message; the rest are counted. */
const MESSAGE_NODES = 10;
export const CnpProgrammedReason = {
  /** Every node running a pod its subject selects programs this generation as written. */
  Programmed: 'Programmed',
  /** Its subject selects no running pod: no node has anything to program. */
  NoSelectedPods: 'NoSelectedPods',
  /** Some nodes have not programmed this generation yet, and none fails. */
  Pending: 'Pending',
  /** A node cannot: its agent is missing or stale, applying failed, or the policy is refused. */
  NotProgrammed: 'NotProgrammed',
} as const;

/**
 * The policy's conditions with Programmed set from the node reports, folded for this policy
 * alone (aggregateEnforcement over the nodes that run pods its subject selects). Other
 * conditions are kept; lastTransitionTime moves only when the status does, so a policy whose
 * state holds gets the same list back and no write.
 */
export function clusterPolicyConditions(
  policy: ClusterNetworkPolicy,
  result: EnforcementResult,
  now: string,
): Condition[] {
  const { nodes, enforced, lagging } = result.status;
  const generation = policy.metadata.generation;
  const at = generation !== undefined ? ` (generation ${generation})` : '';
  let status: Condition['status'];
  let reason: string;
  let message: string;
  if (nodes === 0) {
    [status, reason] = ['True', CnpProgrammedReason.NoSelectedPods];
    message = 'its subject selects no running pod: no node has anything to program';
  } else if (!lagging || lagging.length === 0) {
    [status, reason] = ['True', CnpProgrammedReason.Programmed];
    message = `programmed${at} on ${enforced}/${nodes} nodes running pods its subject selects`;
  } else {
    const pending = lagging.every((l) => l.reason === LagReason.Pending);
    [status, reason] = ['False', pending ? CnpProgrammedReason.Pending : CnpProgrammedReason.NotProgrammed];
    // The CRD caps a condition's message (32768 characters): a few nodes in full, then a count.
    const shown = lagging.slice(0, MESSAGE_NODES).map((l) => `${l.node}: ${l.message ?? l.reason}`);
    const more = lagging.length - shown.length;
    const detail = [...shown, ...(more > 0 ? [`and ${more} more nodes`] : [])].join('; ');
    message = `programmed${at} on ${enforced}/${nodes} nodes running pods its subject selects; ${detail}`;
  }
  return setCondition(
    policy.status?.conditions ?? [],
    { type: CNP_PROGRAMMED, status, reason, message, observedGeneration: generation },
    now,
  );
}
