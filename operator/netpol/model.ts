// Builds the per-node allow model from Namespaces, Pods and NetworkPolicies. Pure: the same input
// gives the same model, sorted. Only policies that select a pod of the node are resolved; each
// peer selector is resolved once per distinct selector (ClusterIndex caches), so the cost grows
// with local policies and their peers, not with pods x pods.
import type {
  NetworkPolicy,
  NetworkPolicyIngressRule,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  PolicyType,
} from '../api/networkpolicy.js';
import { policyTypesOf } from '../api/networkpolicy-defaults.js';
import type { PolicyError } from '../api/nodeenforcement.js';
import { ClusterIndex, peersKey, type IndexedPod, type SelectorPeer } from './cluster-index.js';
import { sortAddresses } from '../net/address.js';
import {
  blockContainsIP,
  blockContainsIPv4Number,
  parseIPBlock,
  toCidrBlock,
  type ParsedBlock,
} from './ip-blocks.js';
import { lookupNamedPort } from './pods.js';
import { normalizePorts, type NamedPortRef } from './ports.js';
import { compileSelector, type CompiledSelector } from './selector.js';
import {
  objectKey,
  type Direction,
  type LocalPodModel,
  type ModelInput,
  type NamedPortGroup,
  type NodeModel,
  type PeerModel,
  type PolicyModel,
  type RuleModel,
} from './types.js';

export const INVALID_POLICY_REASON = 'InvalidPolicy';

/** policyTypes after API defaulting (see api/networkpolicy-defaults.ts), and any it does not know. */
export function effectivePolicyTypes(policy: NetworkPolicy): {
  ingress: boolean;
  egress: boolean;
  unknown: string[];
} {
  const types: readonly string[] = policyTypesOf(policy.spec);
  const known: readonly PolicyType[] = ['Ingress', 'Egress'];
  return {
    ingress: types.includes('Ingress'),
    egress: types.includes('Egress'),
    unknown: types.filter((t) => !known.includes(t as PolicyType)),
  };
}

/**
 * What an incremental renderer needs to know about how a model was built (see
 * dataplane/render-incremental.ts); buildNodeModel reports it when asked, and stays pure.
 */
export interface ModelBuildObserver {
  /** A rule's selector peers, under the key that names their pod set. */
  selectorPeers(key: string, policyNamespace: string, peers: readonly SelectorPeer[]): void;
  /** The enforceable pods of the cluster, as the model indexed them (once per build). */
  enforceablePods(pods: readonly IndexedPod[]): void;
  /** A rule of a local policy refers to ports by name. */
  namedPortRule(policyKey: string, direction: Direction, index: number, refs: readonly NamedPortRef[]): void;
}

interface PolicyContext {
  index: ClusterIndex;
  /** "namespace/name" of the policy. */
  key: string;
  observer?: ModelBuildObserver;
  namespace: string;
  /** Local pods the policy selects (ingress named ports resolve on them). */
  selected: readonly IndexedPod[];
  errors: string[];
}

interface ResolvedPeers {
  model: PeerModel;
  /** Selector peers' pods, for egress named ports. */
  pods: readonly IndexedPod[];
  blocks: ParsedBlock[];
}

function resolvePeers(
  peers: readonly NetworkPolicyPeer[] | undefined,
  where: string,
  ctx: PolicyContext,
): ResolvedPeers {
  const list = peers ?? [];
  const out: ResolvedPeers = {
    model: { any: list.length === 0, podPeersKey: '', podIPs: [], blocks: [] },
    pods: [],
    blocks: [],
  };
  const selectorPeers: SelectorPeer[] = [];
  list.forEach((peer, i) => {
    const at = `${where}[${i}]`;
    if (typeof peer !== 'object' || peer === null) {
      ctx.errors.push(`${at}: not an object`);
      return;
    }
    const hasSelector = peer.namespaceSelector !== undefined || peer.podSelector !== undefined;
    if (peer.ipBlock !== undefined) {
      if (hasSelector) {
        ctx.errors.push(`${at}: ipBlock cannot be combined with podSelector or namespaceSelector`);
        return;
      }
      try {
        const block = parseIPBlock(peer.ipBlock);
        out.blocks.push(block);
        out.model.blocks.push(toCidrBlock(block));
      } catch (err) {
        ctx.errors.push(`${at}.ipBlock: ${(err as Error).message}`);
      }
      return;
    }
    if (!hasSelector) {
      ctx.errors.push(`${at}: needs one of ipBlock, podSelector, namespaceSelector`);
      return;
    }
    try {
      selectorPeers.push({
        namespaceSelector:
          peer.namespaceSelector !== undefined
            ? compileSelector(peer.namespaceSelector, `${at}.namespaceSelector`)
            : undefined,
        podSelector: compileSelector(peer.podSelector, `${at}.podSelector`),
      });
    } catch (err) {
      ctx.errors.push((err as Error).message);
    }
  });
  if (selectorPeers.length > 0) {
    out.model.podPeersKey = peersKey(ctx.namespace, selectorPeers);
    ctx.observer?.selectorPeers(out.model.podPeersKey, ctx.namespace, selectorPeers);
    out.pods = ctx.index.selectPeerPods(ctx.namespace, selectorPeers);
    out.model.podIPs = ctx.index.selectPeerIPs(ctx.namespace, selectorPeers);
  }
  return out;
}

/** A pod a named port may resolve on, and which of its addresses the rule's peers cover. */
interface PortHolder {
  pod: IndexedPod;
  ips: readonly string[];
}

/**
 * Groups pods (given in rank order) by the number a named port resolves to on each of them; pods
 * without the name drop out. Each group's addresses are in address order (see ipsOf).
 */
function groupByNamedPort(
  index: ClusterIndex,
  holders: readonly PortHolder[],
  ref: NamedPortRef,
): NamedPortGroup[] {
  const byPort = new Map<number, string[]>();
  for (const { pod, ips: covered } of holders) {
    const port = lookupNamedPort(index.namedPortsOf(pod), ref.protocol, ref.name);
    if (port === undefined) continue;
    let ips = byPort.get(port);
    if (!ips) byPort.set(port, (ips = []));
    for (const ip of covered) ips.push(ip);
  }
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, podIPs]) => ({
      protocol: ref.protocol,
      name: ref.name,
      port,
      podIPs: inAddressOrder(podIPs),
    }));
}

/** Addresses collected pod by pod in rank order, each once, in address order. */
function inAddressOrder(ips: string[]): string[] {
  // Rank order is IPv4 order: only IPv6 addresses (or repeats) need the sort.
  for (let i = 1; i < ips.length; i++)
    if (ips[i].includes(':') || ips[i] === ips[i - 1]) return sortAddresses(ips);
  return ips.length > 0 && ips[0].includes(':') ? sortAddresses(ips) : ips;
}

/**
 * Egress named ports resolve on the destination pods: every address of the rule's selector
 * peers' pods, plus the addresses of any pod that lie in one of its ipBlocks (a block is of one
 * family, so an IPv4 block makes a dual-stack pod a destination by its IPv4 address only).
 */
function egressDestinations(peers: ResolvedPeers, ctx: PolicyContext): readonly PortHolder[] {
  const all = (pods: readonly IndexedPod[]): PortHolder[] => pods.map((pod) => ({ pod, ips: pod.ips }));
  if (peers.model.any) return all(ctx.index.allPods());
  if (peers.blocks.length === 0) return all(peers.pods);
  const selected = new Set(peers.pods);
  const out: PortHolder[] = [];
  for (const pod of ctx.index.allPods()) {
    if (selected.has(pod)) {
      out.push({ pod, ips: pod.ips });
      continue;
    }
    const ips = pod.ips.filter((ip) =>
      peers.blocks.some((b) =>
        ip.includes(':')
          ? blockContainsIP(b, ip)
          : b.cidr.family === 4 && blockContainsIPv4Number(b, pod.ipv4 as number),
      ),
    );
    if (ips.length > 0) out.push({ pod, ips });
  }
  return out;
}

function compareNamed(a: NamedPortGroup, b: NamedPortGroup): number {
  return a.protocol.localeCompare(b.protocol) || a.name.localeCompare(b.name) || a.port - b.port;
}

function buildRule(
  direction: Direction,
  rule: NetworkPolicyIngressRule & { to?: NetworkPolicyPeer[] },
  index: number,
  ctx: PolicyContext,
): RuleModel {
  const where = `spec.${direction}[${index}]`;
  const peers = resolvePeers(
    direction === 'ingress' ? rule.from : rule.to,
    `${where}.${direction === 'ingress' ? 'from' : 'to'}`,
    ctx,
  );
  const rawPorts: unknown = rule.ports;
  const ports = normalizePorts(
    Array.isArray(rawPorts) ? (rawPorts as NetworkPolicyPort[]) : undefined,
    `${where}.ports`,
  );
  if (rawPorts !== undefined && !Array.isArray(rawPorts)) {
    ports.anyPort = false;
    ctx.errors.push(`${where}.ports: must be a list`);
  }
  ctx.errors.push(...ports.errors);
  const named: NamedPortGroup[] = [];
  if (ports.named.length > 0) {
    ctx.observer?.namedPortRule(ctx.key, direction, index, ports.named);
    const holders =
      direction === 'ingress'
        ? ctx.selected.map((pod) => ({ pod, ips: pod.ips }))
        : egressDestinations(peers, ctx);
    for (const ref of ports.named) named.push(...groupByNamedPort(ctx.index, holders, ref));
  }
  return {
    index,
    peers: peers.model,
    anyPort: ports.anyPort,
    ports: ports.ranges,
    named: named.sort(compareNamed),
  };
}

function buildRules(direction: Direction, rules: unknown, ctx: PolicyContext): RuleModel[] {
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) {
    ctx.errors.push(`spec.${direction}: must be a list`);
    return [];
  }
  return rules.map((rule: unknown, i) => {
    if (typeof rule !== 'object' || rule === null) {
      ctx.errors.push(`spec.${direction}[${i}]: not an object`);
      // An unreadable rule allows nothing: no peer can match an empty, non-"any" peer list.
      return {
        index: i,
        peers: { any: false, podPeersKey: '', podIPs: [], blocks: [] },
        anyPort: false,
        ports: [],
        named: [],
      };
    }
    return buildRule(direction, rule as NetworkPolicyIngressRule & { to?: NetworkPolicyPeer[] }, i, ctx);
  });
}

/** Policies sorted by namespace/name (the key computed once per policy, not per comparison). */
function sortedPolicies(policies: readonly NetworkPolicy[]): NetworkPolicy[] {
  return policies
    .map((p) => ({ p, k: objectKey(p.metadata.namespace ?? 'default', p.metadata.name) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map(({ p }) => p);
}

/**
 * The allow model for one node. A policy that selects no local pod is skipped (nothing to
 * program here). A policy part that cannot be understood is reported in `problems` and allows
 * nothing (the policy still isolates the pods it selects: fail closed); a policy whose
 * podSelector cannot be understood is left out entirely, since its targets are unknown.
 */
export function buildNodeModel(input: ModelInput, observer?: ModelBuildObserver): NodeModel {
  const index = new ClusterIndex(input.namespaces, input.pods);
  observer?.enforceablePods(index.allPods());
  const localByNs = new Map<string, IndexedPod[]>();
  for (const pod of index.allPods()) {
    if (pod.nodeName !== input.node) continue;
    let list = localByNs.get(pod.namespace);
    if (!list) localByNs.set(pod.namespace, (list = []));
    list.push(pod);
  }
  const podModels = new Map<string, LocalPodModel>();
  for (const list of localByNs.values()) {
    for (const pod of list) {
      podModels.set(pod.key, {
        namespace: pod.namespace,
        name: pod.name,
        ips: pod.ips,
        ingressPolicies: [],
        egressPolicies: [],
      });
    }
  }

  const problems: PolicyError[] = [];
  const policies: PolicyModel[] = [];
  for (const policy of sortedPolicies(input.policies)) {
    const namespace = policy.metadata.namespace ?? 'default';
    const name = policy.metadata.name;
    const local = localByNs.get(namespace);
    if (!local) continue;
    const report = (message: string): void => {
      problems.push({ namespace, name, reason: INVALID_POLICY_REASON, message });
    };
    let podSelector: CompiledSelector;
    try {
      podSelector = compileSelector(policy.spec?.podSelector, 'spec.podSelector');
    } catch (err) {
      report(`${(err as Error).message}; the policy is not programmed`);
      continue;
    }
    const selected = local.filter((p) => podSelector.matches(p.labels));
    if (selected.length === 0) continue;

    const key = objectKey(namespace, name);
    const ctx: PolicyContext = {
      index,
      key,
      namespace,
      selected,
      errors: [],
      ...(observer ? { observer } : {}),
    };
    const types = effectivePolicyTypes(policy);
    for (const t of types.unknown) ctx.errors.push(`spec.policyTypes: unknown type "${t}"`);
    const model: PolicyModel = {
      namespace,
      name,
      isolatesIngress: types.ingress,
      isolatesEgress: types.egress,
      ingress: types.ingress ? buildRules('ingress', policy.spec.ingress, ctx) : [],
      egress: types.egress ? buildRules('egress', policy.spec.egress, ctx) : [],
      localPods: selected.map((p) => p.key).sort(),
    };
    if (policy.metadata.uid !== undefined) model.uid = policy.metadata.uid;
    if (policy.metadata.generation !== undefined) model.generation = policy.metadata.generation;
    policies.push(model);
    for (const pod of selected) {
      const pm = podModels.get(pod.key) as LocalPodModel;
      if (types.ingress) pm.ingressPolicies.push(key);
      if (types.egress) pm.egressPolicies.push(key);
    }
    if (ctx.errors.length > 0) report(ctx.errors.join('; '));
  }

  const pods = [...podModels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
  return { node: input.node, pods, policies, problems };
}
