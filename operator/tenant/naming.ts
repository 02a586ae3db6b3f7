// Names and metadata of generated NetworkPolicies. Names are deterministic so that the operator
// finds its own policies again, and at most 63 characters so that they stay valid wherever a
// name is used as a label value (the node agent's reports, for one).
import { createHash } from 'node:crypto';
import { GROUP } from '../api/softtenant.js';

export const POLICY_NAME_PREFIX = 'stn-';
export const MAX_POLICY_NAME = 63;
/** Annotation on each generated policy naming what in the SoftTenant produced it. */
export const SOURCE_ANNOTATION = `${GROUP}/source`;

/**
 * What in the SoftTenant a generated policy comes from: its isolation (spec.isolation with
 * allowFrom and allowTo: one policy per namespace for both directions) or one of its rules.
 */
export type PolicySource = { kind: 'isolation' } | { kind: 'rule'; rule: string };

export function sourceValue(source: PolicySource): string {
  return source.kind === 'rule' ? `rule/${source.rule}` : source.kind;
}

/**
 * stn-<tenant>-isolation, stn-<tenant>-rule-<rule>. Too long: a prefix of it plus a hash of the
 * whole, so distinct sources never share a name.
 */
export function policyName(tenant: string, source: PolicySource): string {
  const suffix = source.kind === 'rule' ? `rule-${source.rule}` : source.kind;
  return fitName(`${POLICY_NAME_PREFIX}${tenant}-${suffix}`);
}

/** `full` if it fits in MAX_POLICY_NAME, else a prefix of it plus a hash of the whole. */
export function fitName(full: string): string {
  if (full.length <= MAX_POLICY_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 10);
  const head = full.slice(0, MAX_POLICY_NAME - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}
