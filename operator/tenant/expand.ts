// The expansion engine: SoftTenants + Namespaces -> the namespace labels, NetworkPolicies and
// (for strict tenants, strict.ts) ClusterNetworkPolicies the operator should maintain. Pure and deterministic; the operator's reconcile and
// `softtenant expand` both call expandTenants().
//
// Input: every SoftTenant of the cluster (a namespace labelled for a tenant missing from the
// input counts as orphaned and loses its label) and the namespaces to consider.
import type { NetworkPolicy } from '../api/networkpolicy.js';
import type { SoftTenant } from '../api/softtenant.js';
import { isolationOf, withDefaults } from './defaults.js';
import { isDeleting, resolveMembership, type Membership } from './membership.js';
import { comparePolicies, generatedPolicy, isolationSpec, ruleSpec } from './policies.js';
import { specProblems } from './problems.js';
import { strictPolicies } from './strict.js';
import type { ExpansionInput, ExpansionResult, TenantExpansion } from './types.js';

function policiesFor(tenant: SoftTenant, held: readonly string[]): NetworkPolicy[] {
  const isolation = isolationOf(tenant.spec);
  const out: NetworkPolicy[] = [];
  for (const ns of held) {
    // A spec of its own per namespace, as for rules: no two generated objects share one.
    const spec = isolationSpec(tenant, isolation);
    if (spec) out.push(generatedPolicy(tenant, ns, { kind: 'isolation' }, spec));
  }
  const heldSet = new Set(held);
  for (const rule of tenant.spec.rules ?? []) {
    const targets = rule.namespaces ? rule.namespaces.filter((ns) => heldSet.has(ns)) : held;
    for (const ns of new Set(targets)) {
      out.push(generatedPolicy(tenant, ns, { kind: 'rule', rule: rule.name }, ruleSpec(rule)));
    }
  }
  return out.sort(comparePolicies);
}

function expandOne(tenant: SoftTenant, m: Membership): TenantExpansion {
  const name = tenant.metadata.name;
  if (isDeleting(tenant))
    return {
      tenant: name,
      namespaces: [],
      policies: [],
      clusterNetworkPolicies: [],
      conflicts: [],
      problems: [],
    };
  const held = m.held.get(name) ?? [];
  return {
    tenant: name,
    namespaces: held,
    policies: policiesFor(tenant, held),
    clusterNetworkPolicies: strictPolicies(tenant),
    conflicts: m.conflicts.get(name) ?? [],
    problems: specProblems(tenant, m),
  };
}

export function expandTenants(input: ExpansionInput): ExpansionResult {
  const tenants = input.tenants.map(withDefaults);
  const membership = resolveMembership(tenants, input.namespaces);
  const sorted = [...tenants].sort((a, b) =>
    a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
  );
  return {
    tenants: sorted.map((t) => expandOne(t, membership)),
    labelChanges: membership.labelChanges,
  };
}
