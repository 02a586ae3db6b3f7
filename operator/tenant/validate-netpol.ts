// Offline checks of the NetworkPolicy-shaped parts of a SoftTenant (selectors, ipBlocks, ports,
// peers, a whole NetworkPolicySpec), mirroring the schema and CEL rules in crd-schema.ts.
import { isStrictSubset, tryParseCidr, type Cidr } from '../net/address.js';
import { Limits } from './crd-schema.js';
import { Msg } from './messages.js';
import {
  CIDR_MAX,
  LABEL_KEY_MAX,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_MAX,
  LABEL_VALUE_PATTERN,
  isLabelKey,
  isLabelValue,
  isPortName,
} from './syntax.js';
import type { Checker, Json } from './validate-core.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

function labelValue(c: Checker, value: unknown, field: string): void {
  const s = c.string(value, field, LABEL_VALUE_MAX);
  if (s !== undefined && !isLabelValue(s)) c.add(field, `should match '${LABEL_VALUE_PATTERN}'`);
}

export function checkSelector(
  c: Checker,
  value: unknown,
  field: string,
  options: { nonEmpty?: boolean } = {},
): void {
  const sel = c.object(value, field, ['matchLabels', 'matchExpressions']);
  if (!sel) return;
  let size = 0;
  if (sel.matchLabels !== undefined) {
    const labels = c.stringMap(sel.matchLabels, `${field}.matchLabels`);
    const entries = Object.entries(labels ?? {});
    size += entries.length;
    if (entries.length > Limits.matchLabels) {
      c.add(
        `${field}.matchLabels`,
        `Too many: ${entries.length}: must have at most ${Limits.matchLabels} items`,
      );
    }
    if (entries.some(([k]) => !isLabelKey(k))) c.add(`${field}.matchLabels`, Msg.matchLabelsKeys);
    for (const [k, v] of entries) labelValue(c, v, `${field}.matchLabels.${k}`);
  }
  if (sel.matchExpressions !== undefined) {
    const exprs =
      c.array(sel.matchExpressions, `${field}.matchExpressions`, { max: Limits.matchExpressions }) ?? [];
    size += exprs.length;
    exprs.forEach((e, i) => checkRequirement(c, e, `${field}.matchExpressions[${i}]`));
  }
  if (options.nonEmpty && size === 0) c.add(field, Msg.selectorEmpty);
}

function checkRequirement(c: Checker, value: unknown, field: string): void {
  const req = c.object(value, field, ['key', 'operator', 'values']);
  if (!req) return;
  if (c.required(req, field, 'key')) {
    const key = c.string(req.key, `${field}.key`, LABEL_KEY_MAX);
    if (key !== undefined && !isLabelKey(key)) c.add(`${field}.key`, `should match '${LABEL_KEY_PATTERN}'`);
  }
  const op = c.required(req, field, 'operator')
    ? c.oneOf(req.operator, `${field}.operator`, OPERATORS)
    : undefined;
  const values =
    req.values === undefined
      ? []
      : (c.array(req.values, `${field}.values`, { max: Limits.expressionValues }) ?? []);
  values.forEach((v, i) => labelValue(c, v, `${field}.values[${i}]`));
  if ((op === 'In' || op === 'NotIn') && values.length === 0) c.add(field, Msg.expressionNeedsValues);
  if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
    c.add(field, Msg.expressionTakesNoValues);
}

function checkCidrText(c: Checker, value: unknown, field: string): Cidr | undefined {
  const text = c.string(value, field, CIDR_MAX);
  if (text === undefined) return undefined;
  const parsed = tryParseCidr(text, 'strict');
  if (!parsed) {
    c.add(field, Msg.cidrInvalid);
    return undefined;
  }
  if (parsed.hostBits) c.add(field, Msg.cidrHostBits);
  if (parsed.written !== text) c.add(field, Msg.cidrCanonical);
  return parsed;
}

export function checkIpBlock(c: Checker, value: unknown, field: string): void {
  const block = c.object(value, field, ['cidr', 'except']);
  if (!block) return;
  const outer = c.required(block, field, 'cidr') ? checkCidrText(c, block.cidr, `${field}.cidr`) : undefined;
  if (block.except === undefined) return;
  const excepts = c.array(block.except, `${field}.except`, { max: Limits.except }) ?? [];
  const inner = excepts.map((e, i) => checkCidrText(c, e, `${field}.except[${i}]`));
  const outside = inner.some((e) => outer && e && !isStrictSubset(e, outer));
  if (outside) c.add(field, Msg.exceptOutside);
}

export function checkPort(c: Checker, value: unknown, field: string): void {
  const p = c.object(value, field, ['protocol', 'port', 'endPort']);
  if (!p) return;
  if (p.protocol !== undefined) c.oneOf(p.protocol, `${field}.protocol`, ['TCP', 'UDP', 'SCTP']);
  let numeric: number | undefined;
  if (typeof p.port === 'number') {
    if (!Number.isInteger(p.port)) c.add(`${field}.port`, 'must be an integer or a string');
    else if (p.port < 1 || p.port > 65535) c.add(`${field}.port`, Msg.portRange);
    else numeric = p.port;
  } else if (typeof p.port === 'string') {
    if (p.port.length > 15) c.add(`${field}.port`, 'Too long: may not be more than 15 bytes');
    else if (!isPortName(p.port)) c.add(`${field}.port`, Msg.portName);
  } else if (p.port !== undefined) {
    c.add(`${field}.port`, 'must be an integer or a string');
  }
  if (p.endPort === undefined) return;
  const end = c.integer(p.endPort, `${field}.endPort`, 1, 65535);
  if (typeof p.port !== 'number') c.add(field, Msg.endPortNeedsPort);
  else if (end !== undefined && numeric !== undefined && end < numeric) c.add(field, Msg.endPortBelowPort);
}

export function checkPorts(c: Checker, value: unknown, field: string): void {
  const ports = c.array(value, field, { max: Limits.ports }) ?? [];
  ports.forEach((p, i) => checkPort(c, p, `${field}[${i}]`));
}

function checkPeer(c: Checker, value: unknown, field: string): void {
  const peer = c.object(value, field, ['ipBlock', 'namespaceSelector', 'podSelector']);
  if (!peer) return;
  if (peer.ipBlock !== undefined) checkIpBlock(c, peer.ipBlock, `${field}.ipBlock`);
  if (peer.namespaceSelector !== undefined)
    checkSelector(c, peer.namespaceSelector, `${field}.namespaceSelector`);
  if (peer.podSelector !== undefined) checkSelector(c, peer.podSelector, `${field}.podSelector`);
  const selectors = peer.namespaceSelector !== undefined || peer.podSelector !== undefined;
  if (peer.ipBlock !== undefined && selectors) c.add(field, Msg.peerIpBlockCombined);
  if (peer.ipBlock === undefined && !selectors) c.add(field, Msg.peerEmpty);
}

function checkPolicyRules(c: Checker, value: unknown, field: string, peersKey: 'from' | 'to'): void {
  const rules = c.array(value, field, { max: Limits.policyRules }) ?? [];
  rules.forEach((r, i) => {
    const rf = `${field}[${i}]`;
    const rule = c.object(r, rf, [peersKey, 'ports']);
    if (!rule) return;
    if (rule[peersKey] !== undefined) {
      const peers = c.array(rule[peersKey], `${rf}.${peersKey}`, { max: Limits.policyPeers }) ?? [];
      peers.forEach((p, j) => checkPeer(c, p, `${rf}.${peersKey}[${j}]`));
    }
    if (rule.ports !== undefined) checkPorts(c, rule.ports, `${rf}.ports`);
  });
}

export function checkNetworkPolicySpec(c: Checker, value: unknown, field: string): void {
  const spec: Json | undefined = c.object(value, field, ['podSelector', 'policyTypes', 'ingress', 'egress']);
  if (!spec) return;
  if (c.required(spec, field, 'podSelector')) checkSelector(c, spec.podSelector, `${field}.podSelector`);
  if (spec.policyTypes !== undefined) {
    const types = c.array(spec.policyTypes, `${field}.policyTypes`, { max: 2 }) ?? [];
    types.forEach((t, i) => c.oneOf(t, `${field}.policyTypes[${i}]`, ['Ingress', 'Egress']));
    c.unique(types, `${field}.policyTypes`);
  }
  if (spec.ingress !== undefined) checkPolicyRules(c, spec.ingress, `${field}.ingress`, 'from');
  if (spec.egress !== undefined) checkPolicyRules(c, spec.egress, `${field}.egress`, 'to');
}
