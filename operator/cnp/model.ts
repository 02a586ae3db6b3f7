// Builds the per-node ClusterNetworkPolicy model from ClusterNetworkPolicies, Namespaces and
// Pods. Pure: the same input gives the same model. Selectors and pod sets go through the
// NetworkPolicy model's ClusterIndex, so a ClusterNetworkPolicy peer and a NetworkPolicy peer that
// select the same pods get the same peer key (one ipset for both), and host-network, finished and
// address-less pods are neither subjects nor peers, as for NetworkPolicy.
//
// What the API asks of an implementation that meets a rule it cannot use (its fail-closed rule,
// stated for peers with no known field): an Accept rule matches no traffic; a Deny or Pass rule
// becomes "Deny all". softtenant applies it to every rule part it cannot enforce as written:
// experimental peers (nodes, domainNames), a peer or protocol with no known field, an invalid
// selector, CIDR or port, a named port next to a networks peer, an unknown action. The policy is
// then marked not programmable, with the reasons, so that nothing reports it as enforced.
import {
  CNP_ACTIONS,
  CNP_PRIORITY_MAX,
  CNP_PRIORITY_MIN,
  CNP_TIERS,
  type ClusterNetworkPolicyEgressPeer,
  type ClusterNetworkPolicyProtocol,
  type ClusterNetworkPolicyRuleAction,
  type ClusterNetworkPolicySubject,
  type ClusterNetworkPolicyTier,
  type NamespacedPod,
} from '../api/clusternetworkpolicy.js';
import type { LabelSelector, Protocol } from '../api/networkpolicy.js';
import { tryParseCidr } from '../net/address.js';
import { ClusterIndex, peersKey, type IndexedPod, type SelectorPeer } from '../netpol/cluster-index.js';
import { lookupNamedPort } from '../netpol/pods.js';
import { compileSelector } from '../netpol/selector.js';
import type { CidrBlock, NamedPortGroup, PeerModel, PortRange } from '../netpol/types.js';
import type {
  CnpLocalPodModel,
  CnpModelInput,
  CnpNodeModel,
  CnpPolicyModel,
  CnpProblem,
  CnpRuleModel,
  Direction,
  OrderedRule,
} from './types.js';

export const CNP_NOT_PROGRAMMABLE_REASON = 'NotProgrammable';
export const CNP_INVALID_REASON = 'InvalidPolicy';

const PROTOCOL_FIELDS: readonly (readonly ['tcp' | 'udp' | 'sctp', Protocol])[] = [
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['sctp', 'SCTP'],
];
const ALL_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** Thrown inside rule building: the rule cannot be used and takes its fail-closed form. */
class Unusable extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys of an object the schema says has exactly one field; those with a value. */
function setFields(v: Record<string, unknown>): string[] {
  return Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null);
}

function selectorPeer(
  namespaceSelector: LabelSelector | undefined,
  podSelector: LabelSelector | undefined,
  where: string,
): SelectorPeer {
  try {
    return {
      namespaceSelector: compileSelector(namespaceSelector ?? {}, `${where}.namespaceSelector`),
      podSelector: compileSelector(podSelector ?? {}, `${where}.podSelector`),
    };
  } catch (err) {
    throw new Unusable((err as Error).message);
  }
}

/** namespaces / pods (subject or peer) as one selector peer: namespace selector AND pod selector. */
function namespacedPeer(field: 'namespaces' | 'pods', value: unknown, where: string): SelectorPeer {
  if (!isObject(value)) throw new Unusable(`${where}.${field}: not an object`);
  if (field === 'namespaces') {
    try {
      return {
        namespaceSelector: compileSelector(value as LabelSelector, `${where}.namespaces`),
        podSelector: compileSelector({}, `${where}.namespaces`),
      };
    } catch (err) {
      throw new Unusable((err as Error).message);
    }
  }
  const pods = value as Partial<NamespacedPod>;
  if (!isObject(pods.podSelector)) throw new Unusable(`${where}.pods: needs a podSelector`);
  return selectorPeer(pods.namespaceSelector, pods.podSelector, `${where}.pods`);
}

function subjectPeer(subject: ClusterNetworkPolicySubject | undefined): SelectorPeer {
  if (!isObject(subject)) throw new Unusable('spec.subject: missing');
  const fields = setFields(subject);
  if (fields.length !== 1 || (fields[0] !== 'namespaces' && fields[0] !== 'pods'))
    throw new Unusable(
      `spec.subject: needs exactly one of namespaces, pods (has: ${fields.join(', ') || 'none'})`,
    );
  return namespacedPeer(fields[0], subject[fields[0]], 'spec.subject');
}

/** A policy's subject as a selector peer; undefined when it cannot be read (the policy is left out). */
export function compileSubject(subject: unknown): SelectorPeer | undefined {
  try {
    return subjectPeer(subject as ClusterNetworkPolicySubject);
  } catch (err) {
    if (err instanceof Unusable) return undefined;
    throw err;
  }
}

interface RuleContext {
  index: ClusterIndex;
  /** Local pods the policy's subject selects (ingress named ports resolve on them). */
  subjects: readonly IndexedPod[];
}

interface ResolvedPeers {
  model: PeerModel;
  /** Pods of the selector peers (egress named ports resolve on them). */
  pods: readonly IndexedPod[];
  hasNetworks: boolean;
}

function resolvePeers(direction: Direction, peers: unknown, where: string, ctx: RuleContext): ResolvedPeers {
  if (!Array.isArray(peers) || peers.length === 0) throw new Unusable(`${where}: needs at least one peer`);
  const selectors: SelectorPeer[] = [];
  const blocks: CidrBlock[] = [];
  let hasNetworks = false;
  peers.forEach((peer: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(peer)) throw new Unusable(`${at}: not an object`);
    const fields = setFields(peer);
    if (fields.length !== 1)
      throw new Unusable(`${at}: needs exactly one field (has: ${fields.join(', ') || 'none'})`);
    const field = fields[0];
    if (field === 'namespaces' || field === 'pods') {
      selectors.push(namespacedPeer(field, peer[field], at));
      return;
    }
    if (direction === 'egress' && field === 'networks') {
      const list = (peer as ClusterNetworkPolicyEgressPeer).networks;
      if (!Array.isArray(list) || list.length === 0)
        throw new Unusable(`${at}.networks: needs at least one CIDR`);
      for (const text of list) {
        const cidr = tryParseCidr(text, 'strict');
        if (!cidr || cidr.hostBits)
          throw new Unusable(`${at}.networks: "${String(text)}" is not a CIDR with host bits clear`);
        if (!blocks.some((b) => b.cidr === cidr.text)) blocks.push({ cidr: cidr.text, except: [] });
      }
      hasNetworks = true;
      return;
    }
    if (direction === 'egress' && (field === 'nodes' || field === 'domainNames'))
      throw new Unusable(`${at}.${field}: experimental peer, not supported by softtenant`);
    throw new Unusable(`${at}: unknown peer type "${field}"`);
  });
  const model: PeerModel = { any: false, podPeersKey: '', podIPs: [], blocks };
  let pods: readonly IndexedPod[] = [];
  if (selectors.length > 0) {
    // Every peer here has a namespace selector, so the policy namespace ('') never enters.
    model.podPeersKey = peersKey('', selectors);
    model.podIPs = ctx.index.selectPeerIPs('', selectors);
    pods = ctx.index.selectPeerPods('', selectors);
  }
  return { model, pods, hasNetworks };
}

interface ResolvedProtocols {
  anyPort: boolean;
  ranges: PortRange[];
  namedPorts: string[];
}

function portNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function resolveProtocols(protocols: unknown, where: string): ResolvedProtocols {
  if (protocols === undefined) return { anyPort: true, ranges: [], namedPorts: [] };
  if (!Array.isArray(protocols) || protocols.length === 0)
    throw new Unusable(`${where}: must be a non-empty list`);
  const out: ResolvedProtocols = { anyPort: false, ranges: [], namedPorts: [] };
  const seen = new Set<string>();
  protocols.forEach((p: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(p)) throw new Unusable(`${at}: not an object`);
    const fields = setFields(p);
    if (fields.length !== 1)
      throw new Unusable(`${at}: needs exactly one field (has: ${fields.join(', ') || 'none'})`);
    const field = fields[0];
    if (field === 'destinationNamedPort') {
      const name = (p as ClusterNetworkPolicyProtocol).destinationNamedPort;
      if (typeof name !== 'string' || name === '')
        throw new Unusable(`${at}.destinationNamedPort: must be a port name`);
      if (!out.namedPorts.includes(name)) out.namedPorts.push(name);
      return;
    }
    const proto = PROTOCOL_FIELDS.find(([f]) => f === field);
    if (!proto) throw new Unusable(`${at}: unknown protocol field "${field}"`);
    const body = p[field];
    const port = isObject(body) ? body.destinationPort : undefined;
    if (!isObject(port)) throw new Unusable(`${at}.${field}: needs a destinationPort`);
    const portFields = setFields(port);
    let range: PortRange;
    if (portFields.length === 1 && portFields[0] === 'number' && portNumber(port.number)) {
      range = { protocol: proto[1], port: port.number };
    } else if (
      portFields.length === 1 &&
      portFields[0] === 'range' &&
      isObject(port.range) &&
      portNumber(port.range.start) &&
      portNumber(port.range.end) &&
      port.range.start < port.range.end
    ) {
      range = { protocol: proto[1], port: port.range.start, endPort: port.range.end };
    } else {
      throw new Unusable(
        `${at}.${field}.destinationPort: needs a number 1-65535 or a range with start < end`,
      );
    }
    const key = `${range.protocol}/${range.port}/${range.endPort ?? ''}`;
    if (!seen.has(key)) out.ranges.push(range);
    seen.add(key);
  });
  return out;
}

/**
 * A container port name resolved on pods (in IP order) to groups of pods with the same
 * protocol and number; a name carries the protocol its container declares.
 */
function namedPortGroups(index: ClusterIndex, pods: readonly IndexedPod[], name: string): NamedPortGroup[] {
  const groups = new Map<string, NamedPortGroup>();
  for (const pod of pods) {
    const ports = index.namedPortsOf(pod);
    for (const protocol of ALL_PROTOCOLS) {
      const port = lookupNamedPort(ports, protocol, name);
      if (port === undefined) continue;
      const key = `${protocol}/${port}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { protocol, name, port, podIPs: [] }));
      const ips = g.podIPs as string[];
      for (const ip of pod.ips) if (ips[ips.length - 1] !== ip) ips.push(ip);
    }
  }
  return [...groups.values()];
}

function compareNamed(a: NamedPortGroup, b: NamedPortGroup): number {
  return a.protocol.localeCompare(b.protocol) || a.name.localeCompare(b.name) || a.port - b.port;
}

const NOTHING: PeerModel = { any: false, podPeersKey: '', podIPs: [], blocks: [] };
const EVERYTHING: PeerModel = { any: true, podPeersKey: '', podIPs: [], blocks: [] };

/** The API's fail-closed form of a rule that cannot be used. */
function failClosedRule(index: number, action: unknown, name: string | undefined, why: string): CnpRuleModel {
  const base = { index, ports: [], named: [], failClosed: why, ...(name !== undefined ? { name } : {}) };
  return action === 'Accept'
    ? { ...base, action: 'Accept', peers: NOTHING, anyPort: false }
    : { ...base, action: 'Deny', peers: EVERYTHING, anyPort: true };
}

function buildRule(direction: Direction, rule: unknown, index: number, ctx: RuleContext): CnpRuleModel {
  const where = `spec.${direction}[${index}]`;
  if (!isObject(rule)) return failClosedRule(index, undefined, undefined, `${where}: not an object`);
  const name = typeof rule.name === 'string' && rule.name !== '' ? rule.name : undefined;
  const action = rule.action;
  try {
    if (!CNP_ACTIONS.includes(action as ClusterNetworkPolicyRuleAction))
      throw new Unusable(`${where}.action: unknown action "${String(action)}"`);
    const peerField = direction === 'ingress' ? 'from' : 'to';
    const peers = resolvePeers(direction, rule[peerField], `${where}.${peerField}`, ctx);
    const protocols = resolveProtocols(rule.protocols, `${where}.protocols`);
    const named: NamedPortGroup[] = [];
    if (protocols.namedPorts.length > 0) {
      if (peers.hasNetworks)
        throw new Unusable(
          `${where}: destinationNamedPort cannot be used with networks peers (they have no named ports)`,
        );
      const pods = direction === 'ingress' ? ctx.subjects : peers.pods;
      for (const n of protocols.namedPorts) named.push(...namedPortGroups(ctx.index, pods, n));
    }
    const model: CnpRuleModel = {
      index,
      action: action as ClusterNetworkPolicyRuleAction,
      peers: peers.model,
      anyPort: protocols.anyPort,
      ports: protocols.ranges,
      named: named.sort(compareNamed),
    };
    if (name !== undefined) model.name = name;
    return model;
  } catch (err) {
    if (!(err instanceof Unusable)) throw err;
    return failClosedRule(index, action, name, err.message);
  }
}

function buildRules(
  direction: Direction,
  rules: unknown,
  ctx: RuleContext,
  reasons: string[],
): CnpRuleModel[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) {
    reasons.push(`spec.${direction}: must be a list; the direction is denied (fail closed)`);
    return [failClosedRule(0, undefined, undefined, `spec.${direction}: must be a list`)];
  }
  return rules.map((r: unknown, i) => {
    const model = buildRule(direction, r, i, ctx);
    if (model.failClosed !== undefined)
      reasons.push(
        `${model.failClosed}; the rule ${model.action === 'Accept' ? 'matches nothing' : 'denies everything'} (fail closed)`,
      );
    return model;
  });
}

function tierRank(tier: ClusterNetworkPolicyTier): number {
  return CNP_TIERS.indexOf(tier);
}

/** Evaluation order across policies: tier, priority, then name (ties the API leaves open). */
export function comparePolicies(
  a: { tier: ClusterNetworkPolicyTier; priority: number; name: string },
  b: { tier: ClusterNetworkPolicyTier; priority: number; name: string },
): number {
  return (
    tierRank(a.tier) - tierRank(b.tier) ||
    a.priority - b.priority ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/**
 * The ClusterNetworkPolicy model of one node. A policy whose tier, priority or subject cannot be
 * read is left out and reported (which pods it means is unknown); one whose subject selects no
 * local pod is skipped (nothing to program here).
 */
export function buildCnpNodeModel(input: CnpModelInput): CnpNodeModel {
  const index = new ClusterIndex(input.namespaces, input.pods);
  const local = index.allPods().filter((p) => p.nodeName === input.node);
  const podModels = new Map<string, CnpLocalPodModel>();
  for (const pod of local)
    podModels.set(pod.key, {
      namespace: pod.namespace,
      name: pod.name,
      ips: pod.ips,
      admin: { ingress: [], egress: [] },
      baseline: { ingress: [], egress: [] },
    });

  const problems: CnpProblem[] = [];
  const policies: CnpPolicyModel[] = [];
  for (const cnp of input.clusterNetworkPolicies) {
    const name = cnp.metadata.name;
    const spec: unknown = cnp.spec;
    const refuse = (message: string): void => {
      problems.push({
        name,
        reason: CNP_INVALID_REASON,
        message: `${message}; the policy is not programmed`,
      });
    };
    if (!isObject(spec)) {
      refuse('spec: missing');
      continue;
    }
    const tier = spec.tier as ClusterNetworkPolicyTier;
    if (!CNP_TIERS.includes(tier)) {
      refuse(`spec.tier: unknown tier "${String(spec.tier)}"`);
      continue;
    }
    const priority = spec.priority;
    if (
      typeof priority !== 'number' ||
      !Number.isInteger(priority) ||
      priority < CNP_PRIORITY_MIN ||
      priority > CNP_PRIORITY_MAX
    ) {
      refuse(`spec.priority: ${String(priority)} is not an integer ${CNP_PRIORITY_MIN}-${CNP_PRIORITY_MAX}`);
      continue;
    }
    let subject: SelectorPeer;
    try {
      subject = subjectPeer(spec.subject as ClusterNetworkPolicySubject);
    } catch (err) {
      if (!(err instanceof Unusable)) throw err;
      refuse(err.message);
      continue;
    }
    const subjects = local.filter(
      (p) =>
        (subject.namespaceSelector?.matches(index.namespaceLabels(p.namespace)) ?? true) &&
        subject.podSelector.matches(p.labels),
    );
    if (subjects.length === 0) continue;
    const ctx: RuleContext = { index, subjects };
    const reasons: string[] = [];
    const model: CnpPolicyModel = {
      name,
      tier,
      priority,
      ingress: buildRules('ingress', spec.ingress, ctx, reasons),
      egress: buildRules('egress', spec.egress, ctx, reasons),
      localPods: subjects.map((p) => p.key).sort(),
      programmable: reasons.length === 0,
      reasons,
    };
    if (cnp.metadata.uid !== undefined) model.uid = cnp.metadata.uid;
    if (cnp.metadata.generation !== undefined) model.generation = cnp.metadata.generation;
    policies.push(model);
    if (reasons.length > 0)
      problems.push({ name, reason: CNP_NOT_PROGRAMMABLE_REASON, message: reasons.join('; ') });
  }

  policies.sort(comparePolicies);
  for (const policy of policies) {
    for (const key of policy.localPods) {
      const pod = podModels.get(key) as CnpLocalPodModel;
      const tier = policy.tier === 'Admin' ? pod.admin : pod.baseline;
      if (policy.ingress.length > 0) tier.ingress.push(policy.name);
      if (policy.egress.length > 0) tier.egress.push(policy.name);
    }
  }
  problems.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pods = [...podModels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
  return { node: input.node, pods, policies, problems };
}

/**
 * The rules that apply to a local pod in one tier and direction, in evaluation order: policies
 * in model order, rules in spec order. Empty for a pod that is not local.
 */
export function orderedRules(
  model: CnpNodeModel,
  podKey: string,
  tier: ClusterNetworkPolicyTier,
  direction: Direction,
): OrderedRule[] {
  const pod = model.pods.find((p) => `${p.namespace}/${p.name}` === podKey);
  if (!pod) return [];
  const names = (tier === 'Admin' ? pod.admin : pod.baseline)[direction];
  const byName = new Map(model.policies.map((p) => [p.name, p]));
  return names.flatMap((n) => {
    const policy = byName.get(n) as CnpPolicyModel;
    return policy[direction].map((rule) => ({ policy, rule }));
  });
}
