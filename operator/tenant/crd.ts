// The SoftTenant CustomResourceDefinition, built as data: the one source of the API's schema,
// CEL rules and defaults. crds/tenancy.softtenant.io_softtenants.yaml is this object dumped as
// YAML (a unit test keeps them in step; UPDATE_GOLDEN=1 rewrites the file), `softtenant expand`
// validates and defaults with softTenantSchema() (structural.ts), and a test checks the
// TypeScript types of operator/api/softtenant.ts against it.
import {
  DEFAULT_ALLOW_DNS,
  DEFAULT_EGRESS,
  DEFAULT_INGRESS,
  DEFAULT_STRICT,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
} from '../api/softtenant.js';
import { dumpYaml } from '../util/manifests.js';
import {
  Limits,
  arr,
  celString,
  dnsLabel,
  ipBlock,
  labelSelector,
  obj,
  ports,
  str,
  type Schema,
  type ValidationRule,
} from './crd-schema.js';
import { networkPolicySpec } from './crd-networkpolicy.js';
import { statusSchema } from './crd-status.js';
import { Msg } from './messages.js';
import { DNS_LABEL_MAX, DNS_LABEL_PATTERN } from './syntax.js';
import { strictRules } from './strict-crd.js';

export const CRD_NAME = `${PLURAL}.${GROUP}`;

function tenantPeers(direction: 'from' | 'to'): Schema {
  const inbound = direction === 'from';
  const who = inbound ? 'sources' : 'destinations';
  const mode = inbound ? 'isolation.ingress is Tenant' : 'isolation.egress is Tenant';
  return arr(
    `Extra ${who} the tenant's pods may ${inbound ? 'accept connections from' : 'connect to'}, besides the tenant's own namespaces. Only used while ${mode}. Each entry becomes one ${inbound ? 'ingress' : 'egress'} rule of the tenant's isolation policy: ipBlock, or namespaceSelector/podSelector/tenants (ANDed), limited to ports if given. An entry with only ports allows those ports ${inbound ? 'from' : 'to'} anywhere.`,
    obj(
      `One allowed kind of ${who} (a NetworkPolicy peer plus the tenants shorthand) and its ports.`,
      {
        ipBlock: ipBlock(
          `Addresses (not pods) allowed as ${who}. Cannot be combined with selectors or tenants.`,
        ),
        namespaceSelector: labelSelector(
          `Namespaces whose pods are allowed as ${who}, by namespace labels (every namespace has kubernetes.io/metadata.name=<name>). {} means all namespaces. ANDed with podSelector and tenants.`,
        ),
        podSelector: labelSelector(
          `Pods allowed as ${who}, by pod labels. Alone it looks in the same namespace as the tenant's pod (as in a NetworkPolicy); with namespaceSelector or tenants, in those namespaces.`,
        ),
        tenants: arr(
          `Shorthand for the namespaces of these SoftTenants (by name): becomes a namespaceSelector on the tenancy.softtenant.io/tenant label, ANDed with namespaceSelector and podSelector if given.`,
          str('The name of a SoftTenant.', {
            maxLength: DNS_LABEL_MAX,
            'x-kubernetes-validations': [
              { rule: 'size(self) > 0', message: Msg.tenantRefEmpty },
              {
                rule: `size(self) == 0 || self.matches(${celString(DNS_LABEL_PATTERN)})`,
                message: Msg.tenantRefName,
              },
            ],
          }),
          { minItems: 1, maxItems: Limits.tenants, 'x-kubernetes-list-type': 'set' },
        ),
        ports: ports(
          `Destination ports this entry allows, ORed. Absent: every port and protocol.`,
          Limits.ports,
        ),
      },
      {
        'x-kubernetes-validations': [
          {
            rule: '!has(self.ipBlock) || (!has(self.namespaceSelector) && !has(self.podSelector) && !has(self.tenants))',
            message: Msg.tenantPeerIpBlockCombined,
          },
        ],
      },
    ),
    { maxItems: Limits.peers, 'x-kubernetes-list-type': 'atomic' },
  );
}

/** CEL: is namespace `n` (a CEL expression) listed in spec.namespaces.names? */
const listedName = (n: string): string =>
  `(has(self.namespaces) && has(self.namespaces.names) && ${n} in self.namespaces.names)`;

/**
 * A tenant without a namespace selector holds at most the namespaces it names, so a rule naming
 * any other namespace could never be generated: refused. (A messageExpression naming the rule
 * and the namespace would exceed the API server's CEL cost budget: it lists rules x namespaces x
 * names; the field path and the message say enough to find it.)
 */
const ruleNamespacesHeld: ValidationRule = {
  rule: `(has(self.namespaces) && has(self.namespaces.selector)) || !has(self.rules) || self.rules.all(r, !has(r.namespaces) || r.namespaces.all(n, ${listedName('n')}))`,
  message: Msg.ruleNamespaceNotHeld,
  fieldPath: '.rules',
};

function spec(): Schema {
  return obj(
    'What the tenant is: its namespaces, how they are isolated, and any extra policies.',
    {
      namespaces: obj(
        "The tenant's namespaces: the union of names and of the namespaces matched by selector. Each gets the label tenancy.softtenant.io/tenant=<tenant>. Namespaces that do not exist yet join when they are created; the operator never creates or deletes namespaces. A namespace claimed by two tenants stays with the one that has it (or the older tenant); the other reports Stalled.",
        {
          names: arr('Namespaces of the tenant, by name.', dnsLabel('A namespace name.', Msg.namespaceName), {
            maxItems: Limits.namespaceNames,
            'x-kubernetes-list-type': 'set',
          }),
          selector: labelSelector(
            'Namespaces of the tenant, by namespace labels. Must not be empty (that would claim every namespace).',
            { nonEmpty: true },
          ),
        },
      ),
      isolation: obj(
        "How the tenant's namespaces are isolated by the generated policies.",
        {
          ingress: str(
            "Tenant (default): the isolation policy in each tenant namespace (stn-<tenant>-isolation, one for both directions) lets in only traffic from pods of the tenant's namespaces and from allowFrom. Open: the tenant does not isolate ingress (rules still apply).",
            { enum: ['Tenant', 'Open'], default: DEFAULT_INGRESS },
          ),
          egress: str(
            "Open (default): the tenant does not isolate egress. Tenant: the isolation policy in each tenant namespace lets the tenant's pods connect only to pods of the tenant's namespaces, to allowTo, and (with allowDNS) to the cluster DNS.",
            { enum: ['Tenant', 'Open'], default: DEFAULT_EGRESS },
          ),
          allowDNS: {
            type: 'boolean',
            default: DEFAULT_ALLOW_DNS,
            description:
              'With egress Tenant, also allow UDP and TCP port 53 to the cluster DNS pods (k8s-app=kube-dns in kube-system), so that names still resolve. Default true.',
          },
          strict: {
            type: 'boolean',
            default: DEFAULT_STRICT,
            description:
              "Default false. True: besides the NetworkPolicies, the operator writes two Admin-tier ClusterNetworkPolicies (policy.networking.k8s.io/v1beta1) for the tenant, softtenant-<tenant>-allow (priority 700) and softtenant-<tenant>-deny (priority 750), which the tenant's own NetworkPolicies cannot override: pods outside the tenant cannot connect in (with ingress Tenant) and the tenant's pods cannot connect out (with egress Tenant), except to and from the tenant's own namespaces, allowFrom, allowTo and (with allowDNS) the cluster DNS. Traffic inside the tenant is passed on to the NetworkPolicies. Needs the ClusterNetworkPolicy CRD and an agent that enforces it. While strict, allowFrom and allowTo must be expressible as ClusterNetworkPolicy rules: numeric ports only (at most 25 per entry), at most 24 allowFrom and 23 allowTo entries, no ipBlock.except in allowTo. An ipBlock in allowFrom admits only addresses that are not pods (ClusterNetworkPolicy ingress has no address peer, and every pod outside the tenant is denied).",
          },
        },
        { default: {} },
      ),
      allowFrom: tenantPeers('from'),
      allowTo: tenantPeers('to'),
      rules: arr(
        'Free-form NetworkPolicies of the tenant. Each spec is generated verbatim into the listed tenant namespaces (default: all of them) as stn-<tenant>-rule-<name>, with the defaults the NetworkPolicy API would add written out (policyTypes; protocol TCP). They add to the isolation policies: NetworkPolicies are additive, so a rule can only allow more.',
        obj(
          'One NetworkPolicy to generate.',
          {
            name: dnsLabel(
              'Names the rule; unique within the tenant. Part of the generated policy name.',
              Msg.ruleName,
            ),
            namespaces: arr(
              "The tenant namespaces to generate this policy in. Absent: all of the tenant's namespaces. Without spec.namespaces.selector, each must be one of spec.namespaces.names (no other namespace can ever be the tenant's). A listed namespace the tenant does not hold is reported in the status.",
              dnsLabel('A namespace of this tenant.', Msg.namespaceName),
              { maxItems: Limits.ruleNamespaces, 'x-kubernetes-list-type': 'set' },
            ),
            spec: networkPolicySpec(),
          },
          { required: ['name', 'spec'] },
        ),
        { maxItems: Limits.rules, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
    },
    { 'x-kubernetes-validations': [ruleNamespacesHeld, ...strictRules()] },
  );
}

function rootSchema(): Schema {
  return obj(
    'A SoftTenant is a tenant of the cluster: a set of namespaces that the operator labels and isolates with generated NetworkPolicies (soft multi-tenancy: pods of other tenants cannot connect in unless allowed). Cluster-scoped.',
    {
      apiVersion: str('The versioned schema of this object: tenancy.softtenant.io/v1alpha1.'),
      kind: str('SoftTenant.'),
      metadata: {
        type: 'object',
        properties: {
          name: str(
            'The tenant name, a DNS label: it becomes the value of the tenancy.softtenant.io/tenant label.',
            {
              maxLength: DNS_LABEL_MAX,
              'x-kubernetes-validations': [
                { rule: `self.matches(${celString(DNS_LABEL_PATTERN)})`, message: Msg.tenantName },
              ],
            },
          ),
        },
      },
      spec: spec(),
      status: statusSchema(),
    },
    { required: ['spec'] },
  );
}

export interface PrinterColumn {
  name: string;
  type: 'integer' | 'string' | 'date' | 'boolean';
  jsonPath: string;
  description: string;
}

export const printerColumns: PrinterColumn[] = [
  {
    name: 'Namespaces',
    type: 'integer',
    jsonPath: '.status.namespaceCount',
    description: 'Namespaces the tenant holds.',
  },
  {
    name: 'Policies',
    type: 'integer',
    jsonPath: '.status.policies',
    description: 'NetworkPolicies generated.',
  },
  {
    name: 'Strict',
    type: 'boolean',
    jsonPath: '.spec.isolation.strict',
    description: 'Whether ClusterNetworkPolicies keep the isolation (spec.isolation.strict).',
  },
  {
    name: 'Enforced',
    type: 'string',
    jsonPath: '.status.enforcement.summary',
    description: 'Nodes enforcing the current policies / nodes running tenant pods.',
  },
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Everything applied and enforced.',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
];

let schema: Schema | undefined;

/** The openAPIV3Schema of the CRD, built once: what validation and defaulting read. */
export function softTenantSchema(): Schema {
  schema ??= rootSchema();
  return schema;
}

/** The CRD object, ready to be dumped as YAML or applied. */
export function softTenantCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/part-of': 'softtenant' } },
    spec: {
      group: GROUP,
      scope: 'Cluster',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: 'softtenant',
        shortNames: ['stn'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: { openAPIV3Schema: rootSchema() },
        },
      ],
    },
  };
}

export const CRD_FILE = 'crds/tenancy.softtenant.io_softtenants.yaml';

/** The text of CRD_FILE. */
export function softTenantCrdYaml(): string {
  const header =
    '# Generated from operator/tenant/crd.ts: edit that, then run the unit test\n' +
    '# test/unit/tenant-crd.test.ts with UPDATE_GOLDEN=1 to rewrite this file.\n';
  return header + dumpYaml([softTenantCrd()]);
}
