// The offline validator of `softtenant expand`: a SoftTenant read from a file is checked by the
// CRD's own schema and CEL rules (structural.ts), the same object the API server enforces, so
// that expand refuses what `kubectl apply` refuses, at the same field, with the same words.
// Unknown fields are errors, as with kubectl's default strict field validation.
import { API_VERSION, KIND } from '../api/softtenant.js';
import { softTenantSchema } from './crd.js';
import { Msg } from './messages.js';
import { validateAgainstSchema, type FieldError } from './structural.js';
import { isDnsLabel } from './syntax.js';

export type { FieldError } from './structural.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Errors in a SoftTenant as read from a file (status is ignored: the operator owns it). */
export function validateSoftTenant(value: unknown): FieldError[] {
  if (!isObject(value)) return [{ field: '', message: 'must be of type object' }];
  const errors: FieldError[] = [];
  if (value.apiVersion !== API_VERSION)
    errors.push({ field: 'apiVersion', message: `must be ${API_VERSION}` });
  if (value.kind !== KIND) errors.push({ field: 'kind', message: `must be ${KIND}` });
  const meta = isObject(value.metadata) ? value.metadata : {};
  if (typeof meta.name !== 'string' || meta.name === '')
    errors.push({ field: 'metadata.name', message: 'Required value' });
  // What the API server keeps on create: its own ObjectMeta checks aside, only name is ours to
  // check, and status is dropped (it is written through the status subresource).
  const checked: Json = { apiVersion: value.apiVersion, kind: value.kind, spec: value.spec };
  if (typeof meta.name === 'string' && meta.name !== '') checked.metadata = { name: meta.name };
  errors.push(...validateAgainstSchema(softTenantSchema(), checked));
  return errors;
}

/** Errors in a Namespace as read from a file: only what expansion relies on. */
export function validateNamespace(value: unknown): FieldError[] {
  const meta = isObject(value) ? value.metadata : undefined;
  if (!isObject(meta)) return [{ field: 'metadata', message: 'must be of type object' }];
  const errors: FieldError[] = [];
  if (typeof meta.name !== 'string' || meta.name === '')
    errors.push({ field: 'metadata.name', message: 'Required value' });
  else if (!isDnsLabel(meta.name)) errors.push({ field: 'metadata.name', message: Msg.namespaceName });
  if (meta.labels !== undefined) {
    if (!isObject(meta.labels)) errors.push({ field: 'metadata.labels', message: 'must be of type object' });
    else
      for (const [k, v] of Object.entries(meta.labels))
        if (typeof v !== 'string')
          errors.push({ field: `metadata.labels.${k}`, message: 'must be of type string' });
  }
  return errors;
}
