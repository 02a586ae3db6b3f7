// The ClusterNetworkPolicy writes one reconcile of a strict (or formerly strict) tenant needs,
// computed without I/O: the desired policies with the tenant's controller reference, applied
// only where the live object differs in what the operator owns (spec, its labels and
// annotations, the reference), and the tenant's generated ones that are no longer desired.
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, type SoftTenant } from '../api/softtenant.js';
import { controllerReference } from '../tenant/policies.js';
import { isGeneratedFor } from './ownership.js';
import { metadataDifferences, storedEqual } from './policy-diff.js';

export interface ClusterPolicyApply {
  policy: ClusterNetworkPolicy;
  existing?: ClusterNetworkPolicy;
  /** "missing", "spec", "labels", "annotations", "ownerReferences". */
  differences: string[];
}

export interface ClusterPolicyPlan {
  desired: ClusterNetworkPolicy[];
  apply: ClusterPolicyApply[];
  prune: ClusterNetworkPolicy[];
}

/** The policy as written: its labels plus managed-by and tenant, exactly the tenant's controller reference. */
export function withClusterOwnership(policy: ClusterNetworkPolicy, tenant: SoftTenant): ClusterNetworkPolicy {
  const metadata: ClusterNetworkPolicy['metadata'] = {
    name: policy.metadata.name,
    labels: {
      ...(policy.metadata.labels ?? {}),
      [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      [TENANT_LABEL]: tenant.metadata.name,
    },
    ownerReferences: [controllerReference(tenant)],
  };
  if (policy.metadata.annotations && Object.keys(policy.metadata.annotations).length > 0) {
    metadata.annotations = policy.metadata.annotations;
  }
  return { apiVersion: policy.apiVersion, kind: policy.kind, metadata, spec: policy.spec };
}

export function clusterPolicyDifferences(
  desired: ClusterNetworkPolicy,
  actual: ClusterNetworkPolicy | undefined,
): string[] {
  if (!actual) return ['missing'];
  const diffs = storedEqual(desired.spec, actual.spec) ? [] : ['spec'];
  return [...diffs, ...metadataDifferences(desired, actual)];
}

export interface ClusterPolicyPlanInput {
  tenant: SoftTenant;
  /** The expansion's ClusterNetworkPolicies for this tenant (empty: not strict). */
  wanted: readonly ClusterNetworkPolicy[];
  /** The live generated object of each wanted name, if any. */
  live: (name: string) => ClusterNetworkPolicy | undefined;
  /** Generated ClusterNetworkPolicies labelled for this tenant (candidates for pruning). */
  owned: readonly ClusterNetworkPolicy[];
}

export function planClusterPolicies(input: ClusterPolicyPlanInput): ClusterPolicyPlan {
  const { tenant } = input;
  const desired = input.wanted.map((p) => withClusterOwnership(p, tenant));
  const names = new Set(desired.map((p) => p.metadata.name));
  const apply: ClusterPolicyApply[] = [];
  for (const policy of desired) {
    const existing = input.live(policy.metadata.name);
    const differences = clusterPolicyDifferences(policy, existing);
    if (differences.length > 0) apply.push({ policy, existing, differences });
  }
  const prune = input.owned
    .filter(
      (p) => isGeneratedFor(p, tenant.metadata.name, tenant.metadata.uid) && !names.has(p.metadata.name),
    )
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return { desired, apply, prune };
}
