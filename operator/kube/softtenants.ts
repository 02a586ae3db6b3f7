// SoftTenant reads and the few writes the operator makes to it: the finalizer (JSON patch with
// test ops) and the status subresource (merge patch guarded by resourceVersion). The operator
// never writes a SoftTenant's spec, labels or annotations, so GitOps tools see no drift.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import {
  FINALIZER,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type SoftTenant,
  type SoftTenantStatus,
} from '../api/softtenant.js';
import { guardedPatch, kubeCall } from './errors.js';
import { pointer, type JsonPatchOp } from './json-patch.js';
import { listAllPages, PAGE_SIZE, type RawList } from './list.js';

const resource = { group: GROUP, version: VERSION, plural: PLURAL } as const;

export async function listSoftTenants(api: CustomObjectsApi): Promise<SoftTenant[]> {
  return kubeCall(`listing ${PLURAL}.${GROUP}`, () =>
    listAllPages<SoftTenant>(
      (token) =>
        api.listClusterCustomObject({ ...resource, limit: PAGE_SIZE, _continue: token }) as Promise<
          RawList<SoftTenant>
        >,
    ),
  );
}

/** Adds the finalizer; the patch fails (and is retried) if the object changed since it was read. */
export async function addFinalizer(api: CustomObjectsApi, tenant: SoftTenant): Promise<SoftTenant> {
  const finalizers = tenant.metadata.finalizers;
  const ops: JsonPatchOp[] = [
    { op: 'test', path: '/metadata/resourceVersion', value: tenant.metadata.resourceVersion },
    finalizers === undefined
      ? { op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }
      : { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER },
  ];
  return guardedPatch(
    `adding finalizer to ${KIND} ${tenant.metadata.name}`,
    () =>
      api.patchClusterCustomObject(
        { ...resource, name: tenant.metadata.name, body: ops },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ) as Promise<SoftTenant>,
  );
}

/** Removes only our finalizer, at the index where it was read (a test op checks it is still there). */
export async function removeFinalizer(api: CustomObjectsApi, tenant: SoftTenant): Promise<void> {
  const index = (tenant.metadata.finalizers ?? []).indexOf(FINALIZER);
  if (index < 0) return;
  const ops: JsonPatchOp[] = [
    { op: 'test', path: pointer('metadata', 'finalizers', index), value: FINALIZER },
    { op: 'remove', path: pointer('metadata', 'finalizers', index) },
  ];
  await guardedPatch(`removing finalizer from ${KIND} ${tenant.metadata.name}`, () =>
    api.patchClusterCustomObject(
      { ...resource, name: tenant.metadata.name, body: ops },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ),
  );
}

/**
 * Merge-patches the status subresource. Only the keys present in `status` change (so fields that
 * other writers own, like `enforcement`, stay); lists such as `conditions` are replaced whole.
 * The resourceVersion in the body makes the API server refuse a write based on a stale read.
 */
export async function patchStatus(
  api: CustomObjectsApi,
  tenant: SoftTenant,
  status: SoftTenantStatus,
): Promise<SoftTenant> {
  const body = { metadata: { resourceVersion: tenant.metadata.resourceVersion }, status };
  return kubeCall(
    `updating status of ${KIND} ${tenant.metadata.name}`,
    () =>
      api.patchClusterCustomObjectStatus(
        { ...resource, name: tenant.metadata.name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ) as Promise<SoftTenant>,
  );
}
