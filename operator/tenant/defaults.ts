// The CRD's defaults applied offline, from the CRD's own schema (structural.ts), so that
// expansion gives the same result for a SoftTenant read from a file as for the same object read
// back from the API server, which has filled them in from the same schema.
import {
  DEFAULT_ALLOW_DNS,
  DEFAULT_EGRESS,
  DEFAULT_INGRESS,
  type EgressIsolation,
  type IngressIsolation,
  type SoftTenant,
  type SoftTenantSpec,
} from '../api/softtenant.js';
import { softTenantSchema } from './crd.js';
import { applyDefaults } from './structural.js';

export interface Isolation {
  ingress: IngressIsolation;
  egress: EgressIsolation;
  allowDNS: boolean;
}

/** The isolation settings, typed as present (they are, once defaults are applied). */
export function isolationOf(spec: SoftTenantSpec): Isolation {
  return {
    ingress: spec.isolation?.ingress ?? DEFAULT_INGRESS,
    egress: spec.isolation?.egress ?? DEFAULT_EGRESS,
    allowDNS: spec.isolation?.allowDNS ?? DEFAULT_ALLOW_DNS,
  };
}

/** A deep copy of tenant with every CRD default filled in; the input is not changed. */
export function withDefaults(tenant: SoftTenant): SoftTenant {
  const copy = structuredClone(tenant);
  copy.spec ??= {};
  applyDefaults(softTenantSchema(), copy);
  return copy;
}
