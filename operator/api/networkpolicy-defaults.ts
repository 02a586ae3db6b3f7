// The defaults the API server applies to a NetworkPolicy (networking/v1 SetDefaults_*) and to a
// container port (core/v1), in one place. Everything that reads a policy written by hand (the
// model, the generator, the write-or-not comparison, offline input) goes through these, so a
// policy means the same whether it was read from a file or from the API server.
import type {
  ContainerPort,
  NetworkPolicyPort,
  NetworkPolicySpec,
  PolicyType,
  Protocol,
} from './networkpolicy.js';

/** A NetworkPolicy port or a container port without `protocol` is TCP. */
export const DEFAULT_PROTOCOL: Protocol = 'TCP';

export function portProtocol(port: NetworkPolicyPort | ContainerPort): Protocol {
  return port.protocol ?? DEFAULT_PROTOCOL;
}

/**
 * spec.policyTypes as the API server stores it: as written when not empty; otherwise Ingress,
 * plus Egress when the spec has at least one egress rule (the API server tests len(egress) > 0,
 * so `egress: []` adds nothing).
 */
export function policyTypesOf(spec: Pick<NetworkPolicySpec, 'policyTypes' | 'egress'>): PolicyType[] {
  const declared = spec.policyTypes ?? [];
  if (declared.length > 0) return [...declared];
  return (spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Ports with their protocol filled in; undefined stays undefined. */
export function portsWithDefaults(
  ports: readonly NetworkPolicyPort[] | undefined,
): NetworkPolicyPort[] | undefined {
  return ports?.map((p) => ({ ...p, protocol: portProtocol(p) }));
}

function rulesWithDefaults<R extends { ports?: NetworkPolicyPort[] }>(
  rules: readonly R[] | undefined,
): R[] | undefined {
  return rules?.map((rule) => (rule.ports ? { ...rule, ports: portsWithDefaults(rule.ports) } : { ...rule }));
}

/**
 * A copy of the spec with every API default filled in (policyTypes, port protocols), as the API
 * server would store it. The input is not changed; absent lists stay absent.
 */
export function specWithDefaults(spec: NetworkPolicySpec): NetworkPolicySpec {
  const out: NetworkPolicySpec = { ...spec, policyTypes: policyTypesOf(spec) };
  const ingress = rulesWithDefaults(spec.ingress);
  const egress = rulesWithDefaults(spec.egress);
  if (ingress) out.ingress = ingress;
  if (egress) out.egress = egress;
  return out;
}
