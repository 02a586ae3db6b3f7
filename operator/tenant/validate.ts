// The offline validator: the checks the CRD makes the API server perform (schema and CEL),
// redone in code so that `softtenant expand` rejects what `kubectl apply` would reject, with the
// same words. Unknown fields are errors, as with kubectl's default strict field validation.
import { API_VERSION, KIND } from '../api/softtenant.js';
import { Limits } from './crd-schema.js';
import { Msg } from './messages.js';
import { isDnsLabel } from './syntax.js';
import { Checker, type FieldError, type Json } from './validate-core.js';
import { checkIpBlock, checkNetworkPolicySpec, checkPorts, checkSelector } from './validate-netpol.js';

export type { FieldError } from './validate-core.js';

function dnsLabels(c: Checker, value: unknown, field: string, max: number, message: string): void {
  const items = c.array(value, field, { max }) ?? [];
  items.forEach((v, i) => {
    const s = c.string(v, `${field}[${i}]`, 63);
    if (s !== undefined && !isDnsLabel(s)) c.add(`${field}[${i}]`, message);
  });
  c.unique(items, field);
}

function checkNamespaces(c: Checker, value: unknown, field: string): void {
  const ns = c.object(value, field, ['names', 'selector']);
  if (!ns) return;
  if (ns.names !== undefined)
    dnsLabels(c, ns.names, `${field}.names`, Limits.namespaceNames, Msg.namespaceName);
  if (ns.selector !== undefined) checkSelector(c, ns.selector, `${field}.selector`, { nonEmpty: true });
}

function checkIsolation(c: Checker, value: unknown, field: string): void {
  const iso = c.object(value, field, ['ingress', 'egress', 'allowDNS']);
  if (!iso) return;
  if (iso.ingress !== undefined) c.oneOf(iso.ingress, `${field}.ingress`, ['Tenant', 'Open']);
  if (iso.egress !== undefined) c.oneOf(iso.egress, `${field}.egress`, ['Tenant', 'Open']);
  if (iso.allowDNS !== undefined) c.boolean(iso.allowDNS, `${field}.allowDNS`);
}

function checkTenantRefs(c: Checker, value: unknown, field: string): void {
  const items = c.array(value, field, { max: Limits.tenants, min: 1 }) ?? [];
  items.forEach((v, i) => {
    const s = c.string(v, `${field}[${i}]`, 63);
    if (s === '') c.add(`${field}[${i}]`, Msg.tenantRefEmpty);
    else if (s !== undefined && !isDnsLabel(s)) c.add(`${field}[${i}]`, Msg.tenantRefName);
  });
  c.unique(items, field);
}

function checkTenantPeers(c: Checker, value: unknown, field: string): void {
  const peers = c.array(value, field, { max: Limits.peers }) ?? [];
  peers.forEach((v, i) => {
    const f = `${field}[${i}]`;
    const peer = c.object(v, f, ['ipBlock', 'namespaceSelector', 'podSelector', 'tenants', 'ports']);
    if (!peer) return;
    if (peer.ipBlock !== undefined) checkIpBlock(c, peer.ipBlock, `${f}.ipBlock`);
    if (peer.namespaceSelector !== undefined)
      checkSelector(c, peer.namespaceSelector, `${f}.namespaceSelector`);
    if (peer.podSelector !== undefined) checkSelector(c, peer.podSelector, `${f}.podSelector`);
    if (peer.tenants !== undefined) checkTenantRefs(c, peer.tenants, `${f}.tenants`);
    if (peer.ports !== undefined) checkPorts(c, peer.ports, `${f}.ports`);
    const others =
      peer.namespaceSelector !== undefined || peer.podSelector !== undefined || peer.tenants !== undefined;
    if (peer.ipBlock !== undefined && others) c.add(f, Msg.tenantPeerIpBlockCombined);
  });
}

function checkRules(c: Checker, value: unknown, field: string): void {
  const rules = c.array(value, field, { max: Limits.rules }) ?? [];
  rules.forEach((v, i) => {
    const f = `${field}[${i}]`;
    const rule = c.object(v, f, ['name', 'namespaces', 'spec']);
    if (!rule) return;
    if (c.required(rule, f, 'name')) {
      const name = c.string(rule.name, `${f}.name`, 63);
      if (name !== undefined && !isDnsLabel(name)) c.add(`${f}.name`, Msg.ruleName);
    }
    if (rule.namespaces !== undefined) {
      dnsLabels(c, rule.namespaces, `${f}.namespaces`, Limits.ruleNamespaces, Msg.namespaceName);
    }
    if (c.required(rule, f, 'spec')) checkNetworkPolicySpec(c, rule.spec, `${f}.spec`);
  });
  c.unique(rules, field, (r) => (typeof r === 'object' && r !== null ? (r as Json).name : undefined));
}

function checkSpec(c: Checker, value: unknown): void {
  const spec = c.object(value, 'spec', ['namespaces', 'isolation', 'allowFrom', 'allowTo', 'rules']);
  if (!spec) return;
  if (spec.namespaces !== undefined) checkNamespaces(c, spec.namespaces, 'spec.namespaces');
  if (spec.isolation !== undefined) checkIsolation(c, spec.isolation, 'spec.isolation');
  if (spec.allowFrom !== undefined) checkTenantPeers(c, spec.allowFrom, 'spec.allowFrom');
  if (spec.allowTo !== undefined) checkTenantPeers(c, spec.allowTo, 'spec.allowTo');
  if (spec.rules !== undefined) checkRules(c, spec.rules, 'spec.rules');
}

/** Errors in a SoftTenant as read from a file (status is ignored: the operator owns it). */
export function validateSoftTenant(value: unknown): FieldError[] {
  const c = new Checker();
  const obj = c.object(value, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  if (!obj) return c.errors;
  if (obj.apiVersion !== API_VERSION) c.add('apiVersion', `must be ${API_VERSION}`);
  if (obj.kind !== KIND) c.add('kind', `must be ${KIND}`);
  const meta = typeof obj.metadata === 'object' && obj.metadata !== null ? (obj.metadata as Json) : undefined;
  if (!meta || typeof meta.name !== 'string' || meta.name === '') c.add('metadata.name', 'Required value');
  else if (!isDnsLabel(meta.name)) c.add('metadata.name', Msg.tenantName);
  if (c.required(obj, '', 'spec')) checkSpec(c, obj.spec);
  return c.errors;
}

/** Errors in a Namespace as read from a file: only what expansion relies on. */
export function validateNamespace(value: unknown): FieldError[] {
  const c = new Checker();
  const obj = c.object(value, '');
  if (!obj) return c.errors;
  const meta = c.object(obj.metadata, 'metadata');
  if (!meta) return c.errors;
  if (typeof meta.name !== 'string' || meta.name === '') c.add('metadata.name', 'Required value');
  else if (!isDnsLabel(meta.name)) c.add('metadata.name', Msg.namespaceName);
  if (meta.labels !== undefined) c.stringMap(meta.labels, 'metadata.labels');
  return c.errors;
}
