// The SoftTenant status the controller writes, as pure functions of what reconciliation found.
// Conditions follow kstatus: Ready summarises (Unknown while work is in flight, True only when
// everything is applied, False otherwise); Reconciling and Stalled are present only while true.
// Conditions of other types (Enforced, written by later work) are carried over untouched.
import { ConditionType, Reason, removeCondition, setCondition, type Condition } from '../api/conditions.js';
import type { SoftTenantStatus } from '../api/softtenant.js';
import type { TenantExpansion } from '../tenant/types.js';
import { sortKeysDeep } from '../util/canonical-json.js';

/** What one reconcile of a live tenant achieved. */
export interface TenantOutcome {
  generation: number | undefined;
  expansion: TenantExpansion;
  /** Desired policies that are in place now (desired minus failed writes). */
  policiesInPlace: number;
  /** One message per failed write, naming the object and the API server's reason. */
  failures: string[];
}

/** The status fields this controller owns; everything else in status belongs to someone else. */
const OWNED_FIELDS = [
  'observedGeneration',
  'namespaces',
  'namespaceCount',
  'policies',
  'clusterNetworkPolicies',
  'enforcement',
  'conditions',
] as const;
type OwnedField = (typeof OWNED_FIELDS)[number];
export type OwnedStatus = Pick<SoftTenantStatus, OwnedField>;

function count(n: number, singular: string, plural: string): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

function conflictMessage(expansion: TenantExpansion): string {
  const parts = expansion.conflicts.map(
    (c) =>
      `namespace "${c.namespace}" is already held by tenant "${c.owner}"; remove it from this tenant's spec.namespaces or release it from tenant "${c.owner}"`,
  );
  return `${parts.join('; ')}. The other namespaces are applied.`;
}

function problemMessage(expansion: TenantExpansion): string {
  const parts = expansion.problems.map((p) => `${p.field}: ${p.message}`);
  return `the spec cannot be applied as written: ${parts.join('; ')}. Fix the SoftTenant's spec.`;
}

function appliedMessage(expansion: TenantExpansion, policies: number): string {
  if (expansion.namespaces.length === 0) return 'applied; no namespace matches spec.namespaces yet';
  const n = expansion.namespaces.length;
  return `${count(policies, 'NetworkPolicy', 'NetworkPolicies')} applied in ${count(n, 'namespace', 'namespaces')}`;
}

/** The status after a reconcile of a live tenant. */
export function finalStatus(
  prev: SoftTenantStatus | undefined,
  outcome: TenantOutcome,
  now: string,
): OwnedStatus {
  const { expansion, generation, failures } = outcome;
  let conditions: Condition[] = prev?.conditions ?? [];
  const set = (type: string, status: Condition['status'], reason: string, message: string): void => {
    conditions = setCondition(
      conditions,
      { type, status, reason, message, observedGeneration: generation },
      now,
    );
  };

  const stalledReason =
    expansion.problems.length > 0
      ? Reason.InvalidSpec
      : expansion.conflicts.length > 0
        ? Reason.NamespaceConflict
        : undefined;
  const stalledMessage = [
    expansion.problems.length > 0 ? problemMessage(expansion) : '',
    expansion.conflicts.length > 0 ? conflictMessage(expansion) : '',
  ]
    .filter((m) => m !== '')
    .join(' ');

  if (failures.length > 0) {
    const message = `${failures.join('; ')} (retrying with backoff)`;
    set(ConditionType.Ready, 'False', Reason.ApplyFailed, message);
    set(ConditionType.Reconciling, 'True', Reason.ApplyFailed, message);
  } else {
    conditions = removeCondition(conditions, ConditionType.Reconciling);
    if (stalledReason) set(ConditionType.Ready, 'False', stalledReason, stalledMessage);
    else set(ConditionType.Ready, 'True', Reason.Applied, appliedMessage(expansion, outcome.policiesInPlace));
  }
  if (stalledReason) set(ConditionType.Stalled, 'True', stalledReason, stalledMessage);
  else conditions = removeCondition(conditions, ConditionType.Stalled);

  const namespaces = [...expansion.namespaces].sort();
  return {
    observedGeneration: generation,
    namespaces,
    namespaceCount: namespaces.length,
    policies: outcome.policiesInPlace,
    // Until this reconcile measures enforcement (withEnforcement), the last measurement stands.
    ...(prev?.enforcement ? { enforcement: prev.enforcement } : {}),
    conditions,
  };
}

/** Only the owned fields, with conditions in a stable order, for comparing. */
function ownedView(status: SoftTenantStatus | undefined, ignore: ReadonlySet<string>): string {
  const view: Record<string, unknown> = {};
  for (const field of OWNED_FIELDS) {
    if (ignore.has(field)) continue;
    let value: unknown = status?.[field];
    if (field === 'conditions') {
      value = [...(status?.conditions ?? [])]
        .sort((a, b) => a.type.localeCompare(b.type))
        .map((c) => ({
          type: c.type,
          status: c.status,
          reason: c.reason,
          message: c.message,
          observedGeneration: c.observedGeneration,
          lastTransitionTime: c.lastTransitionTime,
        }));
    }
    if (field === 'namespaces') value = status?.namespaces ?? [];
    // The API server returns object keys sorted; compare in a key-order-free form.
    if (field === 'enforcement') value = sortKeysDeep(status?.enforcement);
    view[field] = value;
  }
  return JSON.stringify(view);
}

/**
 * True when writing `next` would change nothing the controller owns. `ignore` names fields the
 * API server is known to drop (a CRD schema without them), which must not cause a write forever.
 */
export function ownedStatusEqual(
  current: SoftTenantStatus | undefined,
  next: OwnedStatus,
  ignore: ReadonlySet<string> = new Set(),
): boolean {
  return ownedView(current, ignore) === ownedView(next, ignore);
}

/** Owned fields present in what was sent but missing from what the API server stored. */
export function droppedFields(sent: OwnedStatus, stored: SoftTenantStatus | undefined): string[] {
  return OWNED_FIELDS.filter((f) => sent[f] !== undefined && stored?.[f] === undefined);
}
