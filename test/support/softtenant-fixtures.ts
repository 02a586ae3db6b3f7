// SoftTenant objects and status reads for the operator integration tests.
import { expect } from 'chai';
import { applyObjects, getObject, listObjects, type Obj } from './kube-json.js';

export const TENANT_LABEL = 'tenancy.softtenant.io/tenant';
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const FINALIZER = 'tenancy.softtenant.io/finalizer';

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface StatusView {
  observedGeneration?: number;
  namespaces?: string[];
  namespaceCount?: number;
  policies?: number;
  conditions?: ConditionView[];
}

export function softTenant(
  name: string,
  spec: Record<string, unknown>,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Obj {
  return {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'SoftTenant',
    metadata: { name, ...metadata },
    spec,
  };
}

export function applyTenant(tenant: Obj): void {
  applyObjects([tenant]);
}

export function getTenant(name: string): Obj | undefined {
  return getObject('softtenant', name);
}

export function statusOf(name: string): StatusView {
  return (getTenant(name)?.status ?? {}) as StatusView;
}

export function condition(status: StatusView, type: string): ConditionView | undefined {
  return status.conditions?.find((c) => c.type === type);
}

/** Asserts (for eventually) that the tenant's current generation is applied and Ready. */
export function expectReady(name: string): StatusView {
  const tenant = getTenant(name);
  expect(tenant, `SoftTenant ${name}`).to.not.equal(undefined);
  const status = (tenant?.status ?? {}) as StatusView;
  expect(status.observedGeneration, 'observedGeneration').to.equal(tenant?.metadata.generation);
  const ready = condition(status, 'Ready');
  expect(ready, `Ready condition of ${name}: ${JSON.stringify(status)}`).to.include({
    status: 'True',
    reason: 'Applied',
  });
  expect(condition(status, 'Reconciling'), 'Reconciling').to.equal(undefined);
  expect(condition(status, 'Stalled'), 'Stalled').to.equal(undefined);
  return status;
}

/** Generated policies of a tenant (by label), as "namespace/name" -> object. */
export function generatedPolicies(tenant: string): Map<string, Obj> {
  const items = listObjects('networkpolicies', {
    selector: `${MANAGED_BY}=softtenant,${TENANT_LABEL}=${tenant}`,
  });
  return new Map(items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
}

export function namespaceLabels(name: string): Record<string, string> | undefined {
  return getObject('namespace', name)?.metadata.labels;
}
