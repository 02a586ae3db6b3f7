// Namespace reads and the tenant-label write. The write is a JSON patch that touches only the
// tenant label (so it removes the label whoever set it, and never another label) and starts
// with a `test` of the resourceVersion that was read, so a concurrent change makes it fail
// and the reconcile retry with fresh data instead of acting on a stale view.
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Namespace } from '@kubernetes/client-node';
import type { Namespace } from '../api/networkpolicy.js';
import { TENANT_LABEL } from '../api/softtenant.js';
import { guardedPatch, kubeCall } from './errors.js';
import { pointer, type JsonPatchOp } from './json-patch.js';
import { listAllPages, PAGE_SIZE } from './list.js';
import { rfc3339 } from '../util/time.js';

/** RFC 3339 as the API server writes metav1.Time (whole seconds, UTC). */
function formatTime(time: Date | undefined): string | undefined {
  return time ? rfc3339(time) : undefined;
}

/**
 * The typed client turns timestamps into Date objects; the pure code works on the wire shape,
 * so convert back (keeping only what reconciliation reads).
 */
function toNamespace(ns: V1Namespace): Namespace {
  const meta = ns.metadata ?? {};
  const out: Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: meta.name ?? '',
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      labels: meta.labels,
      annotations: meta.annotations,
      creationTimestamp: formatTime(meta.creationTimestamp),
      deletionTimestamp: formatTime(meta.deletionTimestamp),
    },
  };
  if (ns.status?.phase) out.status = { phase: ns.status.phase };
  return out;
}

export async function listNamespaces(api: CoreV1Api): Promise<Namespace[]> {
  const items = await kubeCall('listing namespaces', () =>
    listAllPages<V1Namespace>(async (token) => {
      const page = await api.listNamespace({ limit: PAGE_SIZE, _continue: token });
      return { items: page.items, metadata: { continue: page.metadata?._continue } };
    }),
  );
  return items.map(toNamespace);
}

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

export async function setTenantLabel(
  api: CoreV1Api,
  namespace: Namespace,
  tenant: string | null,
): Promise<void> {
  const ops = tenantLabelPatch(namespace, tenant);
  if (ops.length === 0) return;
  const what =
    tenant === null
      ? `removing label ${TENANT_LABEL} from namespace ${namespace.metadata.name}`
      : `labelling namespace ${namespace.metadata.name} ${TENANT_LABEL}=${tenant}`;
  await guardedPatch(what, () =>
    api.patchNamespace(
      { name: namespace.metadata.name, body: ops },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ),
  );
}
