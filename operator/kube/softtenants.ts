// The few writes the operator makes to a SoftTenant: the finalizer (JSON patch with test ops)
// and the status subresource (merge patch guarded by resourceVersion). The operator never
// writes a SoftTenant's spec, labels or annotations, so GitOps tools see no drift.
import type { KubeAccess } from './config.js';
import {
  FINALIZER,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type SoftTenant,
  type SoftTenantStatus,
} from '../api/softtenant.js';
import { guardedPatch, isNotFound, kubeCall } from './errors.js';
import { pointer, type JsonPatchOp } from './json-patch.js';
import { requestJson } from './raw-request.js';

const path = (name: string): string => `/apis/${GROUP}/${VERSION}/${PLURAL}/${encodeURIComponent(name)}`;

/** Adds the finalizer; the patch fails (and is retried) if the object changed since it was read. */
export async function addFinalizer(kc: KubeAccess, tenant: SoftTenant): Promise<SoftTenant> {
  const finalizers = tenant.metadata.finalizers;
  const ops: JsonPatchOp[] = [
    { op: 'test', path: '/metadata/resourceVersion', value: tenant.metadata.resourceVersion },
    finalizers === undefined
      ? { op: 'add', path: '/metadata/finalizers', value: [FINALIZER] }
      : { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER },
  ];
  return guardedPatch(`adding finalizer to ${KIND} ${tenant.metadata.name}`, () =>
    requestJson<SoftTenant>(kc, 'PATCH', path(tenant.metadata.name), ops, 'application/json-patch+json'),
  );
}

/**
 * Removes only our finalizer, at the index where it was read (a test op checks it is still
 * there). Returns the object afterwards, or undefined when there was nothing to remove (or the
 * object is gone).
 */
export async function removeFinalizer(kc: KubeAccess, tenant: SoftTenant): Promise<SoftTenant | undefined> {
  const index = (tenant.metadata.finalizers ?? []).indexOf(FINALIZER);
  if (index < 0) return undefined;
  const ops: JsonPatchOp[] = [
    { op: 'test', path: pointer('metadata', 'finalizers', index), value: FINALIZER },
    { op: 'remove', path: pointer('metadata', 'finalizers', index) },
  ];
  try {
    return await guardedPatch(`removing finalizer from ${KIND} ${tenant.metadata.name}`, () =>
      requestJson<SoftTenant>(kc, 'PATCH', path(tenant.metadata.name), ops, 'application/json-patch+json'),
    );
  } catch (err) {
    // Gone already: what removing the finalizer was for (a retry after a lost response, or a
    // cache that had not seen the deletion yet).
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A merge patch merges nested objects key by key, so a key that a written object field no longer
 * has (status.enforcement.lagging once every node caught up) must be sent as null, or the stored
 * one stays: the status would never match and be written on every reconcile.
 */
export function withRemovals(
  status: SoftTenantStatus,
  stored: SoftTenantStatus | undefined,
): SoftTenantStatus {
  const out: Record<string, unknown> = { ...status };
  for (const [key, value] of Object.entries(status)) {
    const before = (stored as Record<string, unknown> | undefined)?.[key];
    if (!isPlainObject(value) || !isPlainObject(before)) continue;
    const removed = Object.keys(before).filter((k) => !(k in value) || value[k] === undefined);
    if (removed.length > 0) out[key] = { ...value, ...Object.fromEntries(removed.map((k) => [k, null])) };
  }
  return out as SoftTenantStatus;
}

/**
 * Merge-patches the status subresource. Only the keys present in `status` change (so fields that
 * other writers own stay); lists such as `conditions` are replaced whole. The resourceVersion in
 * the body makes the API server refuse (409) a write based on a stale read.
 */
export async function patchStatus(
  kc: KubeAccess,
  tenant: SoftTenant,
  status: SoftTenantStatus,
): Promise<SoftTenant> {
  const body = {
    metadata: { resourceVersion: tenant.metadata.resourceVersion },
    status: withRemovals(status, tenant.status),
  };
  return kubeCall(`updating status of ${KIND} ${tenant.metadata.name}`, () =>
    requestJson<SoftTenant>(
      kc,
      'PATCH',
      `${path(tenant.metadata.name)}/status`,
      body,
      'application/merge-patch+json',
    ),
  );
}
