// The tenant-label write on a Namespace. It is a JSON patch that touches only the tenant label
// (so it removes the label whoever set it, and never another label) and starts with a `test`
// of the resourceVersion that was read, so a concurrent change makes it fail and the reconcile
// retry with fresh data instead of acting on a stale view.
import type { KubeAccess } from './config.js';
import type { Namespace } from '../api/networkpolicy.js';
import { TENANT_LABEL } from '../api/softtenant.js';
import { guardedPatch } from './errors.js';
import { pointer, type JsonPatchOp } from './json-patch.js';
import { requestJson } from './raw-request.js';

/** The JSON patch that moves `namespace` to `tenant` (null: no tenant); empty when nothing changes. */
export function tenantLabelPatch(namespace: Namespace, tenant: string | null): JsonPatchOp[] {
  const labels = namespace.metadata.labels;
  const current = labels?.[TENANT_LABEL];
  if ((current ?? null) === tenant) return [];
  const guard: JsonPatchOp = {
    op: 'test',
    path: '/metadata/resourceVersion',
    value: namespace.metadata.resourceVersion,
  };
  if (tenant === null) return [guard, { op: 'remove', path: pointer('metadata', 'labels', TENANT_LABEL) }];
  if (labels === undefined)
    return [guard, { op: 'add', path: '/metadata/labels', value: { [TENANT_LABEL]: tenant } }];
  // `add` on an existing member replaces its value (RFC 6902 4.1).
  return [guard, { op: 'add', path: pointer('metadata', 'labels', TENANT_LABEL), value: tenant }];
}

/** Returns the namespace as the API server stored it, or undefined when nothing had to change. */
export async function setTenantLabel(
  kc: KubeAccess,
  namespace: Namespace,
  tenant: string | null,
): Promise<Namespace | undefined> {
  const ops = tenantLabelPatch(namespace, tenant);
  if (ops.length === 0) return undefined;
  const what =
    tenant === null
      ? `removing label ${TENANT_LABEL} from namespace ${namespace.metadata.name}`
      : `labelling namespace ${namespace.metadata.name} ${TENANT_LABEL}=${tenant}`;
  return guardedPatch(what, () =>
    requestJson<Namespace>(
      kc,
      'PATCH',
      `/api/v1/namespaces/${encodeURIComponent(namespace.metadata.name)}`,
      ops,
      'application/json-patch+json',
    ),
  );
}
