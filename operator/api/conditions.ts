// Conditions in the Kubernetes shape, following kstatus: Ready is the summary; Reconciling and
// Stalled are "abnormal-true" and only present (True) while that is the case.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  Enforced: 'Enforced',
  /** Strict tenants only: their ClusterNetworkPolicies are in place (True) or not (False). */
  Strict: 'Strict',
} as const;

/** Reasons are CamelCase constants so that tools and people can match on them. */
export const Reason = {
  Reconciling: 'Reconciling',
  Applied: 'Applied',
  NamespaceConflict: 'NamespaceConflict',
  InvalidSpec: 'InvalidSpec',
  ApplyFailed: 'ApplyFailed',
  Terminating: 'Terminating',
  Enforced: 'Enforced',
  NotEnforced: 'NotEnforced',
  AwaitingEnforcement: 'AwaitingEnforcement',
  NoNodes: 'NoNodes',
  ClusterNetworkPolicyUnavailable: 'ClusterNetworkPolicyUnavailable',
} as const;

/**
 * Returns conditions with `next` set, keeping lastTransitionTime when the status did not
 * change so that an unchanged status produces no write.
 */
export function setCondition(
  existing: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const prev = existing.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now;
  const merged: Condition = { ...next, lastTransitionTime };
  return [...existing.filter((c) => c.type !== next.type), merged].sort((a, b) =>
    a.type.localeCompare(b.type),
  );
}

export function removeCondition(existing: readonly Condition[], type: string): Condition[] {
  return existing.filter((c) => c.type !== type);
}

export function findCondition(
  existing: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return existing?.find((c) => c.type === type);
}
