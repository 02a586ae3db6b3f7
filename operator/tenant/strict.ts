// Strict tenants (spec.isolation.strict): the Admin-tier ClusterNetworkPolicies that keep a
// tenant isolated whatever NetworkPolicies its users write. Pure, like the NetworkPolicy
// expansion beside it (policies.ts), and built from the same peers.
//
// Two policies per strict tenant, both with the tenant's namespaces (by the tenant label the
// operator sets) as subject:
//   softtenant-<tenant>-allow, priority 700: Pass for the tenant's own namespaces (the tenant's
//     NetworkPolicies govern traffic inside it), then Accept for DNS and each allowFrom/allowTo
//     entry that names pods or addresses outside the tenant;
//   softtenant-<tenant>-deny, priority 750: Deny from every pod (ingress) and to every address
//     (egress). Pods outside the tenant, and any destination, end here unless the allow policy
//     or a platform policy of a lower priority took them first.
// Admin policies are evaluated before any NetworkPolicy, so neither can be undone by one.
// Ingress from what is not a pod (nodes, host-network pods, addresses outside the cluster) has
// no ClusterNetworkPolicy peer and falls through to the NetworkPolicies, as it does today.
import type {
  ClusterNetworkPolicy,
  ClusterNetworkPolicyEgressPeer,
  ClusterNetworkPolicyEgressRule,
  ClusterNetworkPolicyIngressPeer,
  ClusterNetworkPolicyIngressRule,
  ClusterNetworkPolicyProtocol,
  ClusterNetworkPolicySpec,
} from '../api/clusternetworkpolicy.js';
import { CNP_GROUP, CNP_KIND, CNP_VERSION } from '../api/clusternetworkpolicy.js';
import type { NetworkPolicyPort, ObjectMeta } from '../api/networkpolicy.js';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  TENANT_LABEL,
  type SoftTenant,
  type TenantPeer,
} from '../api/softtenant.js';
import { isolationOf } from './defaults.js';
import { NAMESPACE_NAME_LABEL } from './membership.js';
import { fitName, SOURCE_ANNOTATION } from './naming.js';
import {
  DNS_NAMESPACE,
  DNS_POD_LABELS,
  DNS_PORT,
  namespaceSelectorOf,
  ownedBy,
  tenantNamespaces,
} from './policies.js';

/** The Admin priorities strict tenants use; 0-699 and 800-1000 stay for the platform team. */
export const STRICT_PRIORITY_BAND = { first: 700, last: 799 } as const;
export const STRICT_ALLOW_PRIORITY = 700;
export const STRICT_DENY_PRIORITY = 750;

export const CNP_NAME_PREFIX = 'softtenant-';
export type StrictPurpose = 'allow' | 'deny';

/** Every address of both families: the egress Deny's peer. */
export const ALL_NETWORKS: readonly string[] = ['0.0.0.0/0', '::/0'];
const ALL_PORTS = { range: { start: 1, end: 65535 } };

/** softtenant-<tenant>-<purpose>, at most 63 characters (a hash when longer). */
export function clusterNetworkPolicyName(tenant: string, purpose: StrictPurpose): string {
  return fitName(`${CNP_NAME_PREFIX}${tenant}-${purpose}`);
}

export function isStrict(tenant: SoftTenant): boolean {
  return tenant.spec.isolation?.strict === true;
}

/** NetworkPolicy ports (defaults applied) as ClusterNetworkPolicy protocols; absent: every port. */
function protocolsOf(
  ports: readonly NetworkPolicyPort[] | undefined,
  field: string,
): ClusterNetworkPolicyProtocol[] | undefined {
  if (!ports || ports.length === 0) return undefined;
  return ports.map((p, i): ClusterNetworkPolicyProtocol => {
    if (typeof p.port === 'string') {
      // The CRD's CEL refuses named ports while strict; never widen one to every port.
      throw new Error(`${field}.ports[${i}]: named port ${p.port} cannot be a ClusterNetworkPolicy port`);
    }
    const destinationPort =
      p.port === undefined
        ? ALL_PORTS
        : p.endPort !== undefined && p.endPort > p.port
          ? { range: { start: p.port, end: p.endPort } }
          : { number: p.port };
    const protocol = p.protocol ?? 'TCP';
    if (protocol === 'UDP') return { udp: { destinationPort } };
    if (protocol === 'SCTP') return { sctp: { destinationPort } };
    return { tcp: { destinationPort } };
  });
}

/**
 * The pods an entry names outside the tenant: undefined when it names none (an ipBlock on
 * ingress, or a podSelector alone, which looks in the tenant's own namespace); every pod when it
 * names no peer at all (an entry with only ports).
 */
function podPeerOf(peer: TenantPeer): ClusterNetworkPolicyIngressPeer | undefined {
  if (peer.ipBlock) return undefined;
  const namespaces = namespaceSelectorOf(peer);
  if (!namespaces) return peer.podSelector ? undefined : { namespaces: {} };
  if (!peer.podSelector) return { namespaces };
  return { pods: { namespaceSelector: namespaces, podSelector: structuredClone(peer.podSelector) } };
}

function egressPeerOf(peer: TenantPeer, field: string): ClusterNetworkPolicyEgressPeer | undefined {
  if (!peer.ipBlock) {
    const pods = podPeerOf(peer);
    // An entry with only ports allows those ports to anywhere, pods or not.
    if (pods?.namespaces && Object.keys(pods.namespaces).length === 0) return { networks: [...ALL_NETWORKS] };
    return pods;
  }
  if ((peer.ipBlock.except ?? []).length > 0) {
    // The CRD's CEL refuses this while strict; a network cannot leave ranges out.
    throw new Error(`${field}.ipBlock.except cannot be a ClusterNetworkPolicy network`);
  }
  return { networks: [peer.ipBlock.cidr] };
}

function ingressRules(tenant: SoftTenant): ClusterNetworkPolicyIngressRule[] {
  const rules: ClusterNetworkPolicyIngressRule[] = [
    { name: 'tenant', action: 'Pass', from: [{ namespaces: tenantNamespaces(tenant.metadata.name) }] },
  ];
  (tenant.spec.allowFrom ?? []).forEach((peer, i) => {
    const field = `spec.allowFrom[${i}]`;
    const from = podPeerOf(peer);
    if (!from) return;
    const protocols = protocolsOf(peer.ports, field);
    rules.push({ name: field, action: 'Accept', from: [from], ...(protocols ? { protocols } : {}) });
  });
  return rules;
}

function dnsRule(): ClusterNetworkPolicyEgressRule {
  const destinationPort = { number: DNS_PORT };
  return {
    name: 'dns',
    action: 'Accept',
    to: [
      {
        pods: {
          namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE } },
          podSelector: { matchLabels: { ...DNS_POD_LABELS } },
        },
      },
    ],
    protocols: [{ udp: { destinationPort } }, { tcp: { destinationPort } }],
  };
}

function egressRules(tenant: SoftTenant, allowDNS: boolean): ClusterNetworkPolicyEgressRule[] {
  const rules: ClusterNetworkPolicyEgressRule[] = [
    { name: 'tenant', action: 'Pass', to: [{ namespaces: tenantNamespaces(tenant.metadata.name) }] },
  ];
  if (allowDNS) rules.push(dnsRule());
  (tenant.spec.allowTo ?? []).forEach((peer, i) => {
    const field = `spec.allowTo[${i}]`;
    const to = egressPeerOf(peer, field);
    if (!to) return;
    const protocols = protocolsOf(peer.ports, field);
    rules.push({ name: field, action: 'Accept', to: [to], ...(protocols ? { protocols } : {}) });
  });
  return rules;
}

function metadataOf(tenant: SoftTenant, purpose: StrictPurpose): ObjectMeta {
  const metadata: ObjectMeta = {
    name: clusterNetworkPolicyName(tenant.metadata.name, purpose),
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TENANT_LABEL]: tenant.metadata.name },
    annotations: { [SOURCE_ANNOTATION]: `strict/${purpose}` },
  };
  const owner = ownedBy(tenant);
  if (owner) metadata.ownerReferences = owner;
  return metadata;
}

function policy(
  tenant: SoftTenant,
  purpose: StrictPurpose,
  spec: ClusterNetworkPolicySpec,
): ClusterNetworkPolicy {
  return {
    apiVersion: `${CNP_GROUP}/${CNP_VERSION}`,
    kind: CNP_KIND,
    metadata: metadataOf(tenant, purpose),
    spec,
  };
}

/**
 * The ClusterNetworkPolicies a tenant (defaults applied) wants: none unless it is strict, else
 * the allow and the deny policy, with the directions its isolation covers.
 */
export function strictPolicies(tenant: SoftTenant): ClusterNetworkPolicy[] {
  if (!isStrict(tenant)) return [];
  const isolation = isolationOf(tenant.spec);
  const ingress = isolation.ingress === 'Tenant';
  const egress = isolation.egress === 'Tenant';
  if (!ingress && !egress) return [];
  const subject = { namespaces: tenantNamespaces(tenant.metadata.name) };
  const allow: ClusterNetworkPolicySpec = { tier: 'Admin', priority: STRICT_ALLOW_PRIORITY, subject };
  const deny: ClusterNetworkPolicySpec = {
    tier: 'Admin',
    priority: STRICT_DENY_PRIORITY,
    subject: structuredClone(subject),
  };
  if (ingress) {
    allow.ingress = ingressRules(tenant);
    deny.ingress = [{ name: 'outside-tenant', action: 'Deny', from: [{ namespaces: {} }] }];
  }
  if (egress) {
    allow.egress = egressRules(tenant, isolation.allowDNS);
    deny.egress = [{ name: 'outside-tenant', action: 'Deny', to: [{ networks: [...ALL_NETWORKS] }] }];
  }
  return [policy(tenant, 'allow', allow), policy(tenant, 'deny', deny)];
}
