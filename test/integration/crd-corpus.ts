// Bad SoftTenants, each with the field and the message substring it must be rejected with.
// The integration test sends each to the real API server; the unit test runs each through the
// offline validator. Both must reject it for the same reason at the same field.
import { Msg } from '../../operator/tenant/messages.js';

export interface BadInput {
  name: string;
  spec: Record<string, unknown>;
  /** metadata.name, when the case is about the name. */
  tenantName?: string;
  field: string;
  message: string;
}

const peer = (p: Record<string, unknown>): Record<string, unknown> => ({
  namespaces: { names: ['a'] },
  allowFrom: [p],
});
const rule = (
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  rules: [{ name: 'r', spec, ...extra }],
});

export const badInputs: BadInput[] = [
  {
    name: 'CIDR prefix too long',
    spec: peer({ ipBlock: { cidr: '10.0.0.0/33' } }),
    field: 'spec.allowFrom[0].ipBlock.cidr',
    message: Msg.cidrInvalid,
  },
  {
    name: 'CIDR with three octets',
    spec: peer({ ipBlock: { cidr: '10.0.0/8' } }),
    field: 'spec.allowFrom[0].ipBlock.cidr',
    message: Msg.cidrInvalid,
  },
  {
    name: 'CIDR without prefix',
    spec: peer({ ipBlock: { cidr: '10.1.2.3' } }),
    field: 'spec.allowFrom[0].ipBlock.cidr',
    message: Msg.cidrInvalid,
  },
  {
    name: 'CIDR with host bits',
    spec: peer({ ipBlock: { cidr: '10.0.0.1/8' } }),
    field: 'spec.allowFrom[0].ipBlock.cidr',
    message: Msg.cidrHostBits,
  },
  {
    name: 'IPv6 CIDR not canonical',
    spec: peer({ ipBlock: { cidr: '2001:DB8::/32' } }),
    field: 'spec.allowFrom[0].ipBlock.cidr',
    message: Msg.cidrCanonical,
  },
  {
    name: 'except outside cidr',
    spec: peer({ ipBlock: { cidr: '172.17.0.0/16', except: ['172.18.1.0/24'] } }),
    field: 'spec.allowFrom[0].ipBlock',
    message: Msg.exceptOutside,
  },
  {
    name: 'except equal to cidr (not narrower)',
    spec: peer({ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.0.0/16'] } }),
    field: 'spec.allowFrom[0].ipBlock',
    message: Msg.exceptOutside,
  },
  {
    name: 'except of the other family',
    spec: peer({ ipBlock: { cidr: '0.0.0.0/0', except: ['fd00::/8'] } }),
    field: 'spec.allowFrom[0].ipBlock',
    message: Msg.exceptOutside,
  },
  {
    name: 'malformed except',
    spec: peer({ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1/24'] } }),
    field: 'spec.allowFrom[0].ipBlock.except[0]',
    message: Msg.cidrInvalid,
  },
  {
    name: 'except in a rule outside its cidr',
    spec: rule({
      podSelector: {},
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.0.1.0/25'] } }] }],
    }),
    field: 'spec.rules[0].spec.egress[0].to[0].ipBlock',
    message: Msg.exceptOutside,
  },
  {
    name: 'port 0',
    spec: peer({ ports: [{ port: 0 }] }),
    field: 'spec.allowFrom[0].ports[0].port',
    message: Msg.portRange,
  },
  {
    name: 'port 65536',
    spec: peer({ ports: [{ port: 65536 }] }),
    field: 'spec.allowFrom[0].ports[0].port',
    message: Msg.portRange,
  },
  {
    name: 'port out of range in a rule',
    spec: rule({ podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP', port: 70000 }] }] }),
    field: 'spec.rules[0].spec.ingress[0].ports[0].port',
    message: Msg.portRange,
  },
  {
    name: 'endPort without port',
    spec: peer({ ports: [{ endPort: 90 }] }),
    field: 'spec.allowFrom[0].ports[0]',
    message: Msg.endPortNeedsPort,
  },
  {
    name: 'endPort with a named port',
    spec: peer({ ports: [{ port: 'http', endPort: 90 }] }),
    field: 'spec.allowFrom[0].ports[0]',
    message: Msg.endPortNeedsPort,
  },
  {
    name: 'endPort below port',
    spec: peer({ ports: [{ port: 100, endPort: 90 }] }),
    field: 'spec.allowFrom[0].ports[0]',
    message: Msg.endPortBelowPort,
  },
  {
    name: 'unknown protocol',
    spec: peer({ ports: [{ protocol: 'ICMP', port: 1 }] }),
    field: 'spec.allowFrom[0].ports[0].protocol',
    message: 'Unsupported value: "ICMP"',
  },
  {
    name: 'lowercase protocol',
    spec: peer({ ports: [{ protocol: 'tcp', port: 1 }] }),
    field: 'spec.allowFrom[0].ports[0].protocol',
    message: 'Unsupported value: "tcp"',
  },
  {
    name: 'bad named port',
    spec: peer({ ports: [{ port: 'HTTP' }] }),
    field: 'spec.allowFrom[0].ports[0].port',
    message: Msg.portName,
  },
  {
    name: 'numeric string port',
    spec: peer({ ports: [{ port: '80' }] }),
    field: 'spec.allowFrom[0].ports[0].port',
    message: Msg.portName,
  },
  {
    name: 'empty tenant name',
    spec: peer({ tenants: [''] }),
    field: 'spec.allowFrom[0].tenants[0]',
    message: Msg.tenantRefEmpty,
  },
  {
    name: 'non-DNS tenant name',
    spec: peer({ tenants: ['Team_B'] }),
    field: 'spec.allowFrom[0].tenants[0]',
    message: Msg.tenantRefName,
  },
  {
    name: 'empty tenants list',
    spec: peer({ tenants: [] }),
    field: 'spec.allowFrom[0].tenants',
    message: 'should have at least 1 items',
  },
  {
    name: 'duplicate tenants',
    spec: peer({ tenants: ['b', 'b'] }),
    field: 'spec.allowFrom[0].tenants[1]',
    message: 'Duplicate value',
  },
  {
    name: 'ipBlock with tenants in one entry',
    spec: peer({ ipBlock: { cidr: '10.0.0.0/8' }, tenants: ['b'] }),
    field: 'spec.allowFrom[0]',
    message: Msg.tenantPeerIpBlockCombined,
  },
  {
    name: 'ipBlock with podSelector in one allowTo entry',
    spec: { allowTo: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] },
    field: 'spec.allowTo[0]',
    message: Msg.tenantPeerIpBlockCombined,
  },
  {
    name: 'ipBlock with namespaceSelector in one rule peer',
    spec: rule({
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, namespaceSelector: {} }] }],
    }),
    field: 'spec.rules[0].spec.ingress[0].from[0]',
    message: Msg.peerIpBlockCombined,
  },
  {
    name: 'empty peer in a rule',
    spec: rule({ podSelector: {}, ingress: [{ from: [{}] }] }),
    field: 'spec.rules[0].spec.ingress[0].from[0]',
    message: Msg.peerEmpty,
  },
  {
    name: 'duplicate rule names',
    spec: {
      rules: [
        { name: 'web', spec: { podSelector: {} } },
        { name: 'web', spec: { podSelector: {} } },
      ],
    },
    field: 'spec.rules[1]',
    message: 'Duplicate value',
  },
  {
    name: 'rule name not a DNS label',
    spec: { rules: [{ name: 'Web_Rule', spec: { podSelector: {} } }] },
    field: 'spec.rules[0].name',
    message: Msg.ruleName,
  },
  {
    name: 'rule without spec.podSelector',
    spec: rule({ policyTypes: ['Ingress'] }),
    field: 'spec.rules[0].spec.podSelector',
    message: 'Required value',
  },
  {
    name: 'unknown policy type',
    spec: rule({ podSelector: {}, policyTypes: ['Both'] }),
    field: 'spec.rules[0].spec.policyTypes[0]',
    message: 'Unsupported value: "Both"',
  },
  {
    name: 'rule namespace not a DNS name',
    spec: rule({ podSelector: {} }, { namespaces: ['Default'] }),
    field: 'spec.rules[0].namespaces[0]',
    message: Msg.namespaceName,
  },
  {
    name: 'namespace name not a DNS label',
    spec: { namespaces: { names: ['team.a'] } },
    field: 'spec.namespaces.names[0]',
    message: Msg.namespaceName,
  },
  {
    name: 'duplicate namespace names',
    spec: { namespaces: { names: ['a', 'a'] } },
    field: 'spec.namespaces.names[1]',
    message: 'Duplicate value',
  },
  {
    name: 'empty namespace selector',
    spec: { namespaces: { selector: {} } },
    field: 'spec.namespaces.selector',
    message: Msg.selectorEmpty,
  },
  {
    name: 'unknown selector operator',
    spec: {
      namespaces: { selector: { matchExpressions: [{ key: 'team', operator: 'Equals', values: ['a'] }] } },
    },
    field: 'spec.namespaces.selector.matchExpressions[0].operator',
    message: 'Unsupported value: "Equals"',
  },
  {
    name: 'In without values',
    spec: { namespaces: { selector: { matchExpressions: [{ key: 'team', operator: 'In' }] } } },
    field: 'spec.namespaces.selector.matchExpressions[0]',
    message: Msg.expressionNeedsValues,
  },
  {
    name: 'Exists with values',
    spec: peer({ podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } }),
    field: 'spec.allowFrom[0].podSelector.matchExpressions[0]',
    message: Msg.expressionTakesNoValues,
  },
  {
    name: 'bad matchLabels key',
    spec: peer({ namespaceSelector: { matchLabels: { 'bad key': 'x' } } }),
    field: 'spec.allowFrom[0].namespaceSelector.matchLabels',
    message: Msg.matchLabelsKeys,
  },
  {
    name: 'bad label value',
    spec: peer({ podSelector: { matchLabels: { app: 'not ok' } } }),
    field: 'spec.allowFrom[0].podSelector.matchLabels.app',
    message: 'should match',
  },
  {
    name: 'unknown ingress isolation',
    spec: { isolation: { ingress: 'Closed' } },
    field: 'spec.isolation.ingress',
    message: 'Unsupported value: "Closed"',
  },
  {
    name: 'allowDNS not a boolean',
    spec: { isolation: { allowDNS: 'yes' } },
    field: 'spec.isolation.allowDNS',
    message: 'must be of type boolean',
  },
  {
    name: 'unknown field',
    spec: { isolation: { ingres: 'Open' } },
    field: 'spec.isolation.ingres',
    message: 'unknown field',
  },
  {
    name: 'too many allowFrom entries',
    spec: { allowFrom: Array.from({ length: 65 }, (_, i) => ({ ports: [{ port: i + 1 }] })) },
    field: 'spec.allowFrom',
    message: 'Too many',
  },
  {
    name: 'a names-only tenant with a rule naming a namespace outside its names (never generated)',
    spec: {
      namespaces: { names: ['a'] },
      rules: [
        { name: 'ok', namespaces: ['a'], spec: { podSelector: {} } },
        { name: 'web', namespaces: ['a', 'b'], spec: { podSelector: {} } },
      ],
    },
    field: 'spec.rules',
    message: Msg.ruleNamespaceNotHeld,
  },
  {
    name: 'a tenant without namespaces whose rule names one',
    spec: { rules: [{ name: 'web', namespaces: ['b'], spec: { podSelector: {} } }] },
    field: 'spec.rules',
    message: Msg.ruleNamespaceNotHeld,
  },
  {
    name: 'a names-only tenant: only selector-less rules are checked, an empty names list holds nothing',
    spec: {
      namespaces: { names: [] },
      rules: [{ name: 'web', namespaces: ['a'], spec: { podSelector: {} } }],
    },
    field: 'spec.rules',
    message: Msg.ruleNamespaceNotHeld,
  },
  {
    name: 'port a float',
    spec: peer({ ports: [{ port: 80.5 }] }),
    field: 'spec.allowFrom[0].ports[0].port',
    message: 'must be of type',
  },
  {
    name: 'endPort out of range',
    spec: peer({ ports: [{ port: 80, endPort: 70000 }] }),
    field: 'spec.allowFrom[0].ports[0].endPort',
    message: 'should be less than or equal to 65535',
  },
  {
    name: 'named port too long',
    spec: peer({ ports: [{ port: 'abcdefghijklmnop' }] }),
    field: 'spec.allowFrom[0].ports[0].port',
    message: 'Too long',
  },
  {
    name: 'rules an object, not a list (its fields are unknown)',
    spec: { rules: { name: 'web' } },
    field: 'spec.rules.name',
    message: 'unknown field "spec.rules.name"',
  },
  {
    name: 'namespace names a string, not a list',
    spec: { namespaces: { names: 'a' } },
    field: 'spec.namespaces.names',
    message: 'must be of type array',
  },
  {
    name: 'a namespace name a number',
    spec: { namespaces: { names: [1, 'a'] } },
    field: 'spec.namespaces.names[0]',
    message: 'must be of type string',
  },
  {
    name: 'endPort a float',
    spec: peer({ ports: [{ port: 80, endPort: 80.5 }] }),
    field: 'spec.allowFrom[0].ports[0].endPort',
    message: 'must be of type int32',
  },
  {
    name: 'rule without a name',
    spec: { rules: [{ spec: { podSelector: {} } }] },
    field: 'spec.rules[0].name',
    message: 'Required value',
  },
  {
    name: 'unknown field deep in a rule',
    spec: rule({ podSelector: {}, ingress: [{ form: [] }] }),
    field: 'spec.rules[0].spec.ingress[0].form',
    message: 'unknown field "spec.rules[0].spec.ingress[0].form"',
  },
  {
    name: 'duplicate policy types',
    spec: rule({ podSelector: {}, policyTypes: ['Ingress', 'Ingress'] }),
    field: 'spec.rules[0].spec.policyTypes[1]',
    message: 'Duplicate value: "Ingress"',
  },
  {
    name: 'too many matchLabels',
    spec: peer({
      podSelector: { matchLabels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) },
    }),
    field: 'spec.allowFrom[0].podSelector.matchLabels',
    message: 'Too many: 33: must have at most 32 items',
  },
  {
    name: 'ipBlock without cidr',
    spec: peer({ ipBlock: { except: ['10.0.0.0/8'] } }),
    field: 'spec.allowFrom[0].ipBlock.cidr',
    message: 'Required value',
  },
  {
    name: 'IPv4-mapped IPv6 CIDR',
    spec: peer({ ipBlock: { cidr: '::ffff:10.0.0.0/104' } }),
    field: 'spec.allowFrom[0].ipBlock.cidr',
    message: Msg.cidrInvalid,
  },
  {
    name: 'egress isolation lowercase',
    spec: { isolation: { egress: 'tenant' } },
    field: 'spec.isolation.egress',
    message: 'Unsupported value: "tenant": supported values: "Tenant", "Open"',
  },
  {
    name: 'tenant name with a dot',
    tenantName: 'team.a',
    spec: {},
    field: 'metadata.name',
    message: Msg.tenantName,
  },
];

export interface GoodInput {
  name: string;
  spec: Record<string, unknown>;
  tenantName?: string;
}

/** Valid SoftTenants at the edges of what the schema allows; both sides must accept them. */
export const goodInputs: GoodInput[] = [
  {
    name: 'edge ports: 1, 65535, endPort equal to port, SCTP, a 15-character named port',
    spec: {
      allowFrom: [
        {
          ports: [
            { port: 1 },
            { port: 65535, protocol: 'SCTP' },
            { port: 80, endPort: 80 },
            { port: 'abcdefghijklmno' },
            { protocol: 'UDP' },
          ],
        },
      ],
    },
  },
  {
    name: '/0 CIDRs of both families, with excepts',
    spec: {
      allowTo: [
        { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16'] } },
        { ipBlock: { cidr: '::/0', except: ['fd00::/8'] } },
      ],
    },
  },
  {
    name: 'tenants with selectors, prefixed label keys, NotIn with an empty value',
    spec: {
      allowFrom: [
        {
          tenants: ['b', 'c'],
          namespaceSelector: { matchLabels: { 'example.com/env': 'prod' } },
          podSelector: {
            matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'NotIn', values: ['x', ''] }],
          },
        },
      ],
    },
  },
  { name: 'an entry with only ports (any source)', spec: { allowFrom: [{ ports: [{ port: 443 }] }] } },
  {
    name: 'a selector with only matchExpressions',
    spec: { namespaces: { selector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } } },
  },
  {
    name: 'rules: egress only, allow-all ingress, empty egress',
    spec: {
      namespaces: { names: ['a'] },
      rules: [
        { name: 'out', spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } },
        {
          name: 'in',
          namespaces: ['a'],
          spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}], egress: [] },
        },
      ],
    },
  },
  {
    name: 'a names-only tenant whose rules name only its own namespaces',
    spec: {
      namespaces: { names: ['a', 'b'] },
      rules: [
        { name: 'one', namespaces: ['b'], spec: { podSelector: {} } },
        { name: 'all', spec: { podSelector: {} } },
      ],
    },
  },
  {
    name: 'a tenant with a selector may name namespaces outside its names (they may match later)',
    spec: {
      namespaces: { names: ['a'], selector: { matchLabels: { team: 'x' } } },
      rules: [{ name: 'web', namespaces: ['later'], spec: { podSelector: {} } }],
    },
  },
  { name: 'nulls are dropped and defaulted', spec: { isolation: null, allowFrom: null } },
  { name: 'a 63-character tenant name', tenantName: 't'.repeat(63), spec: {} },
  { name: 'an empty spec', spec: {} },
];
