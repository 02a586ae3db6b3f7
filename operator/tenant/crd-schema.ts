// Building blocks for the SoftTenant CRD's OpenAPI schema. The same shapes (label selectors,
// peers, ports, ipBlocks) appear in several places of the CRD; building them from one function
// each keeps their checks identical everywhere while letting each place describe itself.
import { DEFAULT_PROTOCOL } from '../api/networkpolicy-defaults.js';
import { Msg } from './messages.js';
import {
  CIDR_MAX,
  DNS_LABEL_MAX,
  DNS_LABEL_PATTERN,
  LABEL_KEY_MAX,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_MAX,
  LABEL_VALUE_PATTERN,
  PORT_NAME_LETTER_PATTERN,
  PORT_NAME_MAX,
  PORT_NAME_PATTERN,
} from './syntax.js';

export interface ValidationRule {
  rule: string;
  message: string;
  /** CEL giving the message (it may name the offending value); message is the fallback. */
  messageExpression?: string;
  /** Where the error is reported, relative to the node that has the rule (e.g. ".rules"). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps this CRD uses. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  enum?: string[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** Bounds on lists and maps. Besides being sane sizes, they keep CEL's cost estimate in budget. */
export const Limits = {
  namespaceNames: 256,
  matchLabels: 32,
  matchExpressions: 16,
  expressionValues: 64,
  peers: 64,
  tenants: 32,
  ports: 32,
  except: 16,
  // Inside rules[].spec the lists nest three deep (rules, ingress/egress rules, peers), and CEL's
  // estimate multiplies their bounds, so these stay smaller than the tenant-level lists.
  rules: 16,
  ruleNamespaces: 256,
  policyRules: 16,
  policyPeers: 16,
} as const;

/** A CEL string literal holding `text` (for regular expressions in matches()). */
export function celString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function str(description: string, extra: Partial<Schema> = {}): Schema {
  return { type: 'string', description, ...extra };
}

export function obj(
  description: string,
  properties: Record<string, Schema>,
  extra: Partial<Schema> = {},
): Schema {
  return { type: 'object', description, properties, ...extra };
}

export function arr(description: string, items: Schema, extra: Partial<Schema> = {}): Schema {
  return { type: 'array', description, items, ...extra };
}

/** A string that must be a DNS label, with `message` when it is not. */
export function dnsLabel(description: string, message: string): Schema {
  return str(description, {
    maxLength: DNS_LABEL_MAX,
    'x-kubernetes-validations': [{ rule: `self.matches(${celString(DNS_LABEL_PATTERN)})`, message }],
  });
}

export function labelSelector(description: string, options: { nonEmpty?: boolean } = {}): Schema {
  const requirement = obj(
    'A requirement on one label: the label at key, compared with values by operator.',
    {
      key: str('The label key the requirement applies to.', {
        maxLength: LABEL_KEY_MAX,
        pattern: LABEL_KEY_PATTERN,
      }),
      operator: str(
        "How the label's value relates to values: In (one of them), NotIn (none of them; a missing label also matches), Exists (the label is present, any value) or DoesNotExist (the label is absent).",
        { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
      ),
      values: arr(
        'The values to compare with: at least one for In and NotIn, none for Exists and DoesNotExist.',
        str('A label value.', { maxLength: LABEL_VALUE_MAX, pattern: LABEL_VALUE_PATTERN }),
        { maxItems: Limits.expressionValues, 'x-kubernetes-list-type': 'atomic' },
      ),
    },
    {
      required: ['key', 'operator'],
      'x-kubernetes-validations': [
        {
          rule: "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
          message: Msg.expressionNeedsValues,
        },
        {
          rule: "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
          message: Msg.expressionTakesNoValues,
        },
      ],
    },
  );
  const rules: ValidationRule[] = [];
  if (options.nonEmpty) {
    rules.push({
      rule: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
      message: Msg.selectorEmpty,
    });
  }
  return obj(
    description,
    {
      matchLabels: {
        type: 'object',
        description:
          'Labels that must all be present with exactly these values. Each entry is the same as a matchExpressions entry with operator In and that single value.',
        additionalProperties: str('The required value of the label.', {
          maxLength: LABEL_VALUE_MAX,
          pattern: LABEL_VALUE_PATTERN,
        }),
        maxProperties: Limits.matchLabels,
        'x-kubernetes-validations': [
          {
            rule: `self.all(k, size(k) <= ${LABEL_KEY_MAX} && k.matches(${celString(LABEL_KEY_PATTERN)}))`,
            message: Msg.matchLabelsKeys,
          },
        ],
      },
      matchExpressions: arr(
        'Requirements that must all hold, ANDed with each other and with matchLabels.',
        requirement,
        { maxItems: Limits.matchExpressions, 'x-kubernetes-list-type': 'atomic' },
      ),
    },
    { 'x-kubernetes-map-type': 'atomic', ...(rules.length ? { 'x-kubernetes-validations': rules } : {}) },
  );
}

function cidrString(description: string): Schema {
  return str(description, {
    maxLength: CIDR_MAX,
    'x-kubernetes-validations': [
      { rule: 'isCIDR(self)', message: Msg.cidrInvalid },
      { rule: '!isCIDR(self) || cidr(self).ip() == cidr(self).masked().ip()', message: Msg.cidrHostBits },
      { rule: '!isCIDR(self) || string(cidr(self)) == self', message: Msg.cidrCanonical },
    ],
  });
}

export function ipBlock(description: string): Schema {
  return obj(
    description,
    {
      cidr: cidrString(
        'The address range, as a CIDR such as 172.17.0.0/16 or fd00::/8. 0.0.0.0/0 and ::/0 mean every address of that family.',
      ),
      except: arr(
        'Ranges inside cidr to leave out, each strictly narrower than cidr (for example 172.17.1.0/24 inside 172.17.0.0/16). Another entry or policy may still allow them.',
        cidrString('A CIDR inside cidr to leave out.'),
        { maxItems: Limits.except, 'x-kubernetes-list-type': 'atomic' },
      ),
    },
    {
      required: ['cidr'],
      'x-kubernetes-validations': [
        {
          rule: '!has(self.except) || !isCIDR(self.cidr) || self.except.all(e, !isCIDR(e) || (cidr(self.cidr).containsCIDR(e) && cidr(e).prefixLength() > cidr(self.cidr).prefixLength()))',
          message: Msg.exceptOutside,
        },
      ],
    },
  );
}

export function port(description: string): Schema {
  return obj(
    description,
    {
      protocol: str('TCP (the default), UDP or SCTP. The rule only matches traffic of this protocol.', {
        enum: ['TCP', 'UDP', 'SCTP'],
        default: DEFAULT_PROTOCOL,
      }),
      port: {
        description:
          "The destination port: a number (1-65535) or the name of a container port (such as 'http'), which is looked up on each destination pod. Absent: every port of the protocol.",
        'x-kubernetes-int-or-string': true,
        maxLength: PORT_NAME_MAX,
        'x-kubernetes-validations': [
          { rule: 'type(self) != int || (self >= 1 && self <= 65535)', message: Msg.portRange },
          {
            rule: `type(self) != string || (self.matches(${celString(PORT_NAME_PATTERN)}) && self.matches(${celString(PORT_NAME_LETTER_PATTERN)}))`,
            message: Msg.portName,
          },
        ],
      },
      endPort: {
        type: 'integer',
        format: 'int32',
        description:
          'With a numeric port, makes the rule cover the whole range port..endPort (inclusive). Must not be below port.',
        minimum: 1,
        maximum: 65535,
      },
    },
    {
      'x-kubernetes-validations': [
        {
          rule: '!has(self.endPort) || (has(self.port) && type(self.port) == int)',
          message: Msg.endPortNeedsPort,
        },
        {
          rule: '!has(self.endPort) || !has(self.port) || type(self.port) != int || self.endPort >= self.port',
          message: Msg.endPortBelowPort,
        },
      ],
    },
  );
}

export function ports(description: string, maxItems: number): Schema {
  return arr(description, port('A port (or port range) and protocol.'), {
    maxItems,
    'x-kubernetes-list-type': 'atomic',
  });
}
