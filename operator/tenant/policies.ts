// The NetworkPolicies a tenant wants in one of its namespaces: the isolation policies built from
// spec.isolation + allowFrom/allowTo, and the free-form rules copied through.
import type {
  LabelSelector,
  NetworkPolicy,
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
  ObjectMeta,
  OwnerReference,
} from '../api/networkpolicy.js';
import { policyTypesOf } from '../api/networkpolicy-defaults.js';
import {
  API_VERSION,
  KIND,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  TENANT_LABEL,
  type SoftTenant,
  type TenantPeer,
  type TenantRule,
} from '../api/softtenant.js';
import type { Isolation } from './defaults.js';
import { NAMESPACE_NAME_LABEL } from './membership.js';
import { SOURCE_ANNOTATION, policyName, sourceValue, type PolicySource } from './naming.js';

/** Where cluster DNS runs, as every common distribution deploys it (CoreDNS keeps this label). */
export const DNS_NAMESPACE = 'kube-system';
export const DNS_POD_LABELS: Readonly<Record<string, string>> = { 'k8s-app': 'kube-dns' };
export const DNS_PORT = 53;

/** The namespaces of a tenant, by the tenant label the operator sets on them. */
export function tenantNamespaces(tenant: string): LabelSelector {
  return { matchLabels: { [TENANT_LABEL]: tenant } };
}

/** tenants shorthand -> a requirement on the tenant label, ANDed into namespaceSelector. */
export function namespaceSelectorOf(peer: TenantPeer): LabelSelector | undefined {
  if (!peer.tenants) return peer.namespaceSelector ? structuredClone(peer.namespaceSelector) : undefined;
  const selector: LabelSelector = structuredClone(peer.namespaceSelector ?? {});
  const values = [...new Set(peer.tenants)].sort();
  selector.matchExpressions = [
    ...(selector.matchExpressions ?? []),
    { key: TENANT_LABEL, operator: 'In', values },
  ];
  return selector;
}

function peerOf(peer: TenantPeer): NetworkPolicyPeer | undefined {
  if (peer.ipBlock) return { ipBlock: structuredClone(peer.ipBlock) };
  const out: NetworkPolicyPeer = {};
  const namespaceSelector = namespaceSelectorOf(peer);
  if (namespaceSelector) out.namespaceSelector = namespaceSelector;
  if (peer.podSelector) out.podSelector = structuredClone(peer.podSelector);
  return Object.keys(out).length > 0 ? out : undefined;
}

function portsOf(peer: TenantPeer): NetworkPolicyPort[] | undefined {
  return peer.ports && peer.ports.length > 0 ? structuredClone(peer.ports) : undefined;
}

/** One allowFrom entry -> one ingress rule; an entry with no peer fields allows any source. */
export function ingressRuleOf(peer: TenantPeer): NetworkPolicyIngressRule {
  const rule: NetworkPolicyIngressRule = {};
  const from = peerOf(peer);
  if (from) rule.from = [from];
  const ports = portsOf(peer);
  if (ports) rule.ports = ports;
  return rule;
}

export function egressRuleOf(peer: TenantPeer): NetworkPolicyEgressRule {
  const rule: NetworkPolicyEgressRule = {};
  const to = peerOf(peer);
  if (to) rule.to = [to];
  const ports = portsOf(peer);
  if (ports) rule.ports = ports;
  return rule;
}

export function dnsEgressRule(): NetworkPolicyEgressRule {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE } },
        podSelector: { matchLabels: { ...DNS_POD_LABELS } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: DNS_PORT },
      { protocol: 'TCP', port: DNS_PORT },
    ],
  };
}

/** The tenant's own namespaces, and allowFrom: each entry one ingress rule. */
function ingressRules(tenant: SoftTenant): NetworkPolicyIngressRule[] {
  return [
    { from: [{ namespaceSelector: tenantNamespaces(tenant.metadata.name) }] },
    ...(tenant.spec.allowFrom ?? []).map(ingressRuleOf),
  ];
}

/** The tenant's own namespaces, allowTo (each entry one egress rule) and cluster DNS if allowed. */
function egressRules(tenant: SoftTenant, allowDNS: boolean): NetworkPolicyEgressRule[] {
  return [
    { to: [{ namespaceSelector: tenantNamespaces(tenant.metadata.name) }] },
    ...(tenant.spec.allowTo ?? []).map(egressRuleOf),
    ...(allowDNS ? [dnsEgressRule()] : []),
  ];
}

/**
 * The isolation policy of each tenant namespace: every pod, isolated in each direction the
 * tenant isolates (policyTypes), with that direction's rules; none when both are Open. One
 * policy for both directions rather than one per direction: half the objects to write, store
 * and watch, with the same verdicts (a policy's policyTypes isolate each direction on its own,
 * and the rules of one direction never touch the other).
 */
export function isolationSpec(tenant: SoftTenant, isolation: Isolation): NetworkPolicySpec | undefined {
  const ingress = isolation.ingress === 'Tenant';
  const egress = isolation.egress === 'Tenant';
  if (!ingress && !egress) return undefined;
  const spec: NetworkPolicySpec = { podSelector: {} };
  if (ingress) spec.ingress = ingressRules(tenant);
  if (egress) spec.egress = egressRules(tenant, isolation.allowDNS);
  spec.policyTypes = [...(ingress ? ['Ingress' as const] : []), ...(egress ? ['Egress' as const] : [])];
  return spec;
}

/**
 * A rule's spec as written, with the policyTypes the NetworkPolicy API would fill in made
 * explicit (Ingress, plus Egress when there are egress rules), so that the stored policy equals
 * the generated one and a controller comparing them sees no difference where there is none.
 * (Port protocols are CRD defaults, filled by withDefaults.)
 */
export function ruleSpec(rule: TenantRule): NetworkPolicySpec {
  const spec = structuredClone(rule.spec);
  spec.policyTypes = policyTypesOf(spec);
  return spec;
}

/** Wrap a spec as a generated policy: fixed labels (never the tenant's own), source, owner. */
export function generatedPolicy(
  tenant: SoftTenant,
  namespace: string,
  source: PolicySource,
  spec: NetworkPolicySpec,
): NetworkPolicy {
  const metadata: ObjectMeta = {
    name: policyName(tenant.metadata.name, source),
    namespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TENANT_LABEL]: tenant.metadata.name },
    annotations: { [SOURCE_ANNOTATION]: sourceValue(source) },
  };
  const owner = ownedBy(tenant);
  if (owner) metadata.ownerReferences = owner;
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec };
}

/**
 * The controller ownerReference of everything a tenant generates (NetworkPolicies and strict
 * ClusterNetworkPolicies), so garbage collection follows the tenant and pruning knows its own.
 */
export function controllerReference(tenant: SoftTenant): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: tenant.metadata.name,
    uid: tenant.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The expansion's ownerReferences: none without a UID (offline `expand` of a file). */
export function ownedBy(tenant: SoftTenant): ObjectMeta['ownerReferences'] {
  return tenant.metadata.uid ? [controllerReference(tenant)] : undefined;
}

/** Policies in output order: by namespace, then by name. */
export function comparePolicies(a: NetworkPolicy, b: NetworkPolicy): number {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
