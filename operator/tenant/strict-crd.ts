// The CEL rules that keep a strict SoftTenant expressible as ClusterNetworkPolicies: what the
// API server can refuse, it refuses, so the expansion (strict.ts) never has to drop or widen a
// rule. The bounds come from the ClusterNetworkPolicy API (v0.3.0): at most 25 rules per
// direction, 25 protocols per rule, no named ports in the standard channel, networks are plain
// CIDRs.
import type { ValidationRule } from './crd-schema.js';
import { Msg } from './messages.js';

/** Rules per direction of one ClusterNetworkPolicy, and protocols per rule (the API's maxItems). */
export const CNP_MAX_RULES = 25;
export const STRICT_MAX_PORTS = 25;
/** allowFrom entries: the allow policy's ingress also holds the Pass for the tenant itself. */
export const STRICT_MAX_ALLOW_FROM = CNP_MAX_RULES - 1;
/** allowTo entries: the allow policy's egress also holds the tenant's Pass and the DNS rule. */
export const STRICT_MAX_ALLOW_TO = CNP_MAX_RULES - 2;

/** CEL: is the tenant (self = spec) strict? */
const STRICT = '(has(self.isolation) && has(self.isolation.strict) && self.isolation.strict)';

/** CEL: every entry of the list field `list` (allowFrom or allowTo) satisfies `cond(p)`. */
const eachEntry = (list: string, cond: string): string =>
  `!${STRICT} || !has(self.${list}) || self.${list}.all(p, ${cond})`;

const numericPorts = `!has(p.ports) || (size(p.ports) <= ${STRICT_MAX_PORTS} && p.ports.all(q, !has(q.port) || type(q.port) == int))`;

export function strictRules(): ValidationRule[] {
  return [
    {
      rule: `!${STRICT} || (has(self.isolation.ingress) && self.isolation.ingress == 'Tenant') || (has(self.isolation.egress) && self.isolation.egress == 'Tenant')`,
      message: Msg.strictNeedsIsolation,
      fieldPath: '.isolation.strict',
    },
    {
      rule: `!${STRICT} || !has(self.allowFrom) || size(self.allowFrom) <= ${STRICT_MAX_ALLOW_FROM}`,
      message: Msg.strictAllowFromSize,
      fieldPath: '.allowFrom',
    },
    {
      rule: `!${STRICT} || !has(self.allowTo) || size(self.allowTo) <= ${STRICT_MAX_ALLOW_TO}`,
      message: Msg.strictAllowToSize,
      fieldPath: '.allowTo',
    },
    {
      rule: eachEntry('allowFrom', numericPorts),
      message: Msg.strictAllowFromPorts,
      fieldPath: '.allowFrom',
    },
    { rule: eachEntry('allowTo', numericPorts), message: Msg.strictAllowToPorts, fieldPath: '.allowTo' },
    {
      rule: eachEntry('allowTo', '!has(p.ipBlock) || !has(p.ipBlock.except) || size(p.ipBlock.except) == 0'),
      message: Msg.strictAllowToExcept,
      fieldPath: '.allowTo',
    },
  ];
}
