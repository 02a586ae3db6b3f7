// Spec problems that only show up against the cluster's state (the CRD schema cannot see other
// objects): settings that have no effect, rules aimed at namespaces the tenant does not hold.
import type { SoftTenant } from '../api/softtenant.js';
import { isolationOf } from './defaults.js';
import type { Membership } from './membership.js';
import type { SpecProblem } from './types.js';

function ruleNamespaceProblem(tenant: SoftTenant, namespace: string, m: Membership): string | undefined {
  const name = tenant.metadata.name;
  const holder = m.holder.get(namespace);
  if (holder === name) return undefined;
  if (holder !== undefined)
    return `namespace ${namespace} is held by tenant ${holder}; the rule is not generated there`;
  if (m.active.has(namespace)) {
    return `namespace ${namespace} is not one of the tenant's namespaces (not in spec.namespaces.names and not matched by spec.namespaces.selector); the rule is not generated there`;
  }
  // Listed in names but not created yet: it joins when it exists, nothing is wrong.
  if (tenant.spec.namespaces?.names?.includes(namespace)) return undefined;
  return `namespace ${namespace} does not exist and is not in spec.namespaces.names; the rule is not generated there`;
}

export function specProblems(tenant: SoftTenant, m: Membership): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const isolation = isolationOf(tenant.spec);
  if (isolation.ingress === 'Open' && (tenant.spec.allowFrom?.length ?? 0) > 0) {
    problems.push({
      field: 'spec.allowFrom',
      message: 'allowFrom has no effect while spec.isolation.ingress is Open: ingress is not isolated',
    });
  }
  if (isolation.egress === 'Open' && (tenant.spec.allowTo?.length ?? 0) > 0) {
    problems.push({
      field: 'spec.allowTo',
      message: 'allowTo has no effect while spec.isolation.egress is Open: egress is not isolated',
    });
  }
  (tenant.spec.rules ?? []).forEach((rule, i) => {
    (rule.namespaces ?? []).forEach((ns, j) => {
      const message = ruleNamespaceProblem(tenant, ns, m);
      if (message) problems.push({ field: `spec.rules[${i}].namespaces[${j}]`, message });
    });
  });
  return problems;
}
