// Messages for the checks that the CRD's CEL rules and the offline validator both perform.
// One table, so that `kubectl apply` and `softtenant expand` say the same thing about the same
// mistake (a test runs every bad input through both and compares).

export const Msg = {
  tenantName:
    "SoftTenant names must be DNS labels (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit) because the name is used as a label value",
  namespaceName:
    "namespace names must be DNS labels: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
  tenantRefEmpty: 'tenant names must not be empty',
  tenantRefName:
    "tenant names must be DNS labels: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
  ruleName:
    "rule names must be DNS labels: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
  selectorEmpty:
    'namespaces.selector must not be empty: an empty selector would claim every namespace of the cluster; list them in namespaces.names instead',
  matchLabelsKeys:
    "matchLabels keys must be label keys: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric",
  expressionNeedsValues: 'operators In and NotIn need at least one value',
  expressionTakesNoValues: 'operators Exists and DoesNotExist take no values',
  cidrInvalid: 'must be a valid CIDR such as 10.0.0.0/16 or fd00::/8',
  cidrHostBits:
    'must not have bits set beyond the prefix length (write the network address, e.g. 10.0.0.0/8)',
  cidrCanonical: 'an IPv6 CIDR must be written in canonical form (RFC 5952: lowercase, zeros compressed)',
  exceptOutside: 'every except entry must lie inside cidr and be strictly narrower than it',
  peerIpBlockCombined:
    'ipBlock cannot be combined with namespaceSelector or podSelector in the same peer; use separate entries',
  tenantPeerIpBlockCombined:
    'ipBlock cannot be combined with namespaceSelector, podSelector or tenants in the same entry; use separate entries',
  peerEmpty: 'a peer needs at least one of ipBlock, namespaceSelector or podSelector',
  portRange: 'port must be between 1 and 65535',
  portName:
    "a named port must be an IANA service name: at most 15 lowercase letters, digits and '-', with at least one letter and no leading, trailing or doubled '-'",
  endPortNeedsPort: 'endPort requires a numeric port',
  endPortBelowPort: 'endPort must not be below port',
  ruleNamespaceNotHeld:
    'a rule may name only namespaces listed in spec.namespaces.names while spec.namespaces has no selector: the tenant can never hold another namespace, so the rule would never be generated there',
  strictNeedsIsolation:
    'isolation.strict needs isolation.ingress or isolation.egress to be Tenant: with both Open there is no isolation to keep',
  strictAllowFromSize:
    'with isolation.strict, allowFrom takes at most 24 entries: each becomes one rule of the ClusterNetworkPolicy softtenant-<tenant>-allow, which holds at most 25 and keeps one for the tenant itself',
  strictAllowToSize:
    'with isolation.strict, allowTo takes at most 23 entries: each becomes one rule of the ClusterNetworkPolicy softtenant-<tenant>-allow, which holds at most 25 and keeps two for the tenant itself and DNS',
  strictAllowFromPorts:
    'with isolation.strict, the ports of every allowFrom entry must be numbers, at most 25: ClusterNetworkPolicy (standard channel) has no named ports and at most 25 protocols per rule',
  strictAllowToPorts:
    'with isolation.strict, the ports of every allowTo entry must be numbers, at most 25: ClusterNetworkPolicy (standard channel) has no named ports and at most 25 protocols per rule',
  strictAllowToExcept:
    'with isolation.strict, an allowTo ipBlock cannot have except: a ClusterNetworkPolicy network is a plain CIDR; list the allowed CIDRs as separate entries instead',
} as const;

export type MessageKey = keyof typeof Msg;
