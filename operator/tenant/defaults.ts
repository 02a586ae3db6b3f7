// The defaults the CRD schema declares, applied in code too, so that expansion gives the same
// result for a SoftTenant read from a file as for the same object read back from the API server
// (which has filled these in). Keep in step with crd.ts; a unit test compares them.
import type { NetworkPolicySpec } from '../api/networkpolicy.js';
import { DEFAULT_PROTOCOL, portsWithDefaults } from '../api/networkpolicy-defaults.js';
import type {
  EgressIsolation,
  IngressIsolation,
  SoftTenant,
  SoftTenantSpec,
  TenantPeer,
} from '../api/softtenant.js';

export const DEFAULT_INGRESS: IngressIsolation = 'Tenant';
export const DEFAULT_EGRESS: EgressIsolation = 'Open';
export const DEFAULT_ALLOW_DNS = true;
// The CRD declares the NetworkPolicy API's own port default; one constant for both.
export { DEFAULT_PROTOCOL };

export interface Isolation {
  ingress: IngressIsolation;
  egress: EgressIsolation;
  allowDNS: boolean;
}

export function isolationOf(spec: SoftTenantSpec): Isolation {
  return {
    ingress: spec.isolation?.ingress ?? DEFAULT_INGRESS,
    egress: spec.isolation?.egress ?? DEFAULT_EGRESS,
    allowDNS: spec.isolation?.allowDNS ?? DEFAULT_ALLOW_DNS,
  };
}

function peerWithDefaults(peer: TenantPeer): TenantPeer {
  const ports = portsWithDefaults(peer.ports);
  return ports ? { ...peer, ports } : { ...peer };
}

function policySpecWithDefaults(spec: NetworkPolicySpec): NetworkPolicySpec {
  const out: NetworkPolicySpec = { ...spec };
  if (spec.ingress)
    out.ingress = spec.ingress.map((r) => (r.ports ? { ...r, ports: portsWithDefaults(r.ports) } : r));
  if (spec.egress)
    out.egress = spec.egress.map((r) => (r.ports ? { ...r, ports: portsWithDefaults(r.ports) } : r));
  return out;
}

/** A deep copy of tenant with every CRD default filled in; the input is not changed. */
export function withDefaults(tenant: SoftTenant): SoftTenant {
  const copy = structuredClone(tenant);
  const spec: SoftTenantSpec = copy.spec ?? {};
  spec.isolation = isolationOf(spec);
  if (spec.allowFrom) spec.allowFrom = spec.allowFrom.map(peerWithDefaults);
  if (spec.allowTo) spec.allowTo = spec.allowTo.map(peerWithDefaults);
  if (spec.rules) spec.rules = spec.rules.map((r) => ({ ...r, spec: policySpecWithDefaults(r.spec) }));
  copy.spec = spec;
  return copy;
}
