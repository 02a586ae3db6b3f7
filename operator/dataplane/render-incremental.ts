// The agent's render with a fast path for the commonest change, pods coming and going.
//
// A full render of a large node takes tens of milliseconds (every selector against every pod).
// When only pods changed since the last render, and each changed pod only joins or leaves
// sets that exist already, the new result is the previous one with set members added or
// removed: no chain, rule or set is created or deleted. This module computes exactly that delta
// and falls back to the full render whenever a change could do more (a policy would start or
// stop selecting pods here, a pod group or a named-port group would appear or empty, an IP is
// shared, an address is IPv6, a namespace or policy changed). The result is the one the full
// render gives for the same objects — the unit tests check it on random clusters — and the
// agent's periodic full sync renders in full anyway.
//
// Changes are found by identity: a changed object must be a new object, as a watch cache hands
// them out (the lists themselves may be reused and edited; they are copied).
//
// No I/O: the state kept between calls is the previous input and output.
import { NAMESPACE_NAME_LABEL, type Namespace, type NetworkPolicy, type Pod } from '../api/networkpolicy.js';
import type { SelectorPeer } from '../netpol/cluster-index.js';
import { parseIPv4 } from '../netpol/cidr.js';
import { buildNodeModel, effectivePolicyTypes } from '../netpol/model.js';
import { blockContainsIPv4Number, parseCidrBlock } from '../netpol/ip-blocks.js';
import { isEnforceablePod, lookupNamedPort, namedPorts, podIPs } from '../netpol/pods.js';
import type { NamedPortRef } from '../netpol/ports.js';
import { compileSelector, type CompiledSelector, type Labels } from '../netpol/selector.js';
import {
  objectKey,
  type Direction,
  type LocalPodModel,
  type NamedPortGroup,
  type NodeModel,
  type RuleModel,
} from '../netpol/types.js';
import { peerSetName, podGroupNames } from './names.js';
import { egressGroupIdentity, ipv4Only, renderRuleset } from './render.js';
import { summarizeRuleset, type ClusterObjects, type NodeRenderResult } from './render-node.js';
import type { Ruleset } from './types.js';

/** More changed pods than this at once: a full render is as cheap and simpler to trust. */
const MAX_POD_CHANGES = 64;

export interface IncrementalRenderResult extends NodeRenderResult {
  mode: 'full' | 'pods';
  /** Why the last render was full (first render, asked for, or what the fast path cannot do). */
  fullReason?: string;
}

interface LocalPolicy {
  key: string;
  selector: CompiledSelector;
  ingress: boolean;
  egress: boolean;
}

interface State {
  namespaces: ReadonlySet<Namespace>;
  policies: ReadonlySet<NetworkPolicy>;
  nsLabels: ReadonlyMap<string, Labels>;
  /** The pods as last rendered, in the caller's order (a watch cache keeps it stable). */
  pods: readonly Pod[];
  /** How many enforceable pods hold each IP (kept current by each render). */
  ipHolders: Map<string, number>;
  /** Indexes of the last result, kept current by each render. */
  index: ResultIndex;
  peerSelectors: ReadonlyMap<string, { namespace: string; peers: readonly SelectorPeer[] }>;
  /** Rules of local policies that name ports, by ruleId(). */
  namedRules: ReadonlyMap<string, readonly NamedPortRef[]>;
  /** Policies whose podSelector compiles, per namespace, in model (key) order. */
  policiesByNs: ReadonlyMap<string, readonly LocalPolicy[]>;
  result: NodeRenderResult;
}

/** What a pod contributes to the model, when it is enforceable: one IPv4 address. */
interface PodFacts {
  key: string;
  namespace: string;
  name: string;
  labels: Labels;
  ip: string;
  ipv4: number;
  nodeName: string | undefined;
  ports: ReadonlyMap<string, number>;
}

/** Lookups into the last result that a delta needs; built once per full render, then patched. */
interface ResultIndex {
  /** "namespace/name" -> position in model.policies (fixed while policies are unchanged). */
  policyAt: Map<string, number>;
  /** Peer key -> its current IP list. */
  peerIPs: Map<string, readonly string[]>;
  /** "namespace/name" -> the local pod's model. */
  localPods: Map<string, LocalPodModel>;
  /** groupId() -> how many local pods are in the group. */
  groupSize: Map<string, number>;
  /** Set name -> position in ruleset.ipsets (fixed while no set is created or deleted). */
  setAt: Map<string, number>;
}

function groupId(direction: Direction, policies: readonly string[]): string {
  return `${direction}\n${policies.join('\n')}`;
}

function indexResult(result: NodeRenderResult): ResultIndex {
  const { model, ruleset } = result;
  const peerIPs = new Map<string, readonly string[]>();
  for (const p of model.policies) {
    for (const r of [...p.ingress, ...p.egress]) {
      if (r.peers.podPeersKey !== '') peerIPs.set(r.peers.podPeersKey, r.peers.podIPs);
    }
  }
  const groupSize = new Map<string, number>();
  for (const pod of model.pods) {
    for (const direction of ['ingress', 'egress'] as const) {
      const policies = direction === 'ingress' ? pod.ingressPolicies : pod.egressPolicies;
      if (policies.length === 0) continue;
      const id = groupId(direction, policies);
      groupSize.set(id, (groupSize.get(id) ?? 0) + 1);
    }
  }
  return {
    policyAt: new Map(model.policies.map((p, i) => [objectKey(p.namespace, p.name), i])),
    peerIPs,
    localPods: new Map(model.pods.map((p) => [objectKey(p.namespace, p.name), p])),
    groupSize,
    setAt: new Map(ruleset.ipsets.map((set, i) => [set.name, i])),
  };
}

/**
 * The pods that differ between two lists, by identity (a watch cache hands out the same object
 * until the pod changes). The common prefix and suffix are skipped by position; only the middle
 * is compared by name.
 */
function podChanges(prev: readonly Pod[], next: readonly Pod[]): { old?: Pod; now?: Pod }[] {
  let head = 0;
  const shorter = Math.min(prev.length, next.length);
  while (head < shorter && prev[head] === next[head]) head++;
  let prevEnd = prev.length;
  let nextEnd = next.length;
  while (prevEnd > head && nextEnd > head && prev[prevEnd - 1] === next[nextEnd - 1]) {
    prevEnd--;
    nextEnd--;
  }
  const before = new Map<string, Pod>();
  for (let i = head; i < prevEnd; i++) before.set(podKey(prev[i]), prev[i]);
  const changes: { old?: Pod; now?: Pod }[] = [];
  for (let i = head; i < nextEnd; i++) {
    const now = next[i];
    const key = podKey(now);
    const old = before.get(key);
    before.delete(key);
    if (old !== now) changes.push({ ...(old ? { old } : {}), now });
  }
  for (const old of before.values()) changes.push({ old });
  return changes;
}

function ruleId(policyKey: string, direction: Direction, index: number): string {
  return `${policyKey}|${direction}|${index}`;
}

class NotIncremental extends Error {}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function podKey(pod: Pod): string {
  return objectKey(pod.metadata.namespace ?? 'default', pod.metadata.name);
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

function sameMembers<T>(set: ReadonlySet<T>, list: readonly T[]): boolean {
  return set.size === list.length && list.every((x) => set.has(x));
}

/** Inserts an IPv4 address into a list sorted by address (all IPv4, all distinct). */
function insertByAddress(list: string[], ip: string): void {
  const n = parseIPv4(ip) as number;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((parseIPv4(list[mid]) as number) < n) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, ip);
}

function insertSorted(list: string[], key: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, key);
}

function remove(list: string[], item: string): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

export class IncrementalNodeRenderer {
  private state: State | undefined;

  constructor(private readonly node: string) {}

  /** Renders the node for `objects`; `full` skips the fast path (periodic resync). */
  render(objects: ClusterObjects, options: { full?: boolean } = {}): IncrementalRenderResult {
    if (options.full || !this.state)
      return this.renderFull(objects, options.full ? 'asked for' : 'first render');
    try {
      return this.renderPodChanges(this.state, objects);
    } catch (err) {
      if (!(err instanceof NotIncremental)) throw err;
      return this.renderFull(objects, err.message);
    }
  }

  private renderFull(objects: ClusterObjects, reason: string): IncrementalRenderResult {
    const peerSelectors = new Map<string, { namespace: string; peers: readonly SelectorPeer[] }>();
    const namedRules = new Map<string, readonly NamedPortRef[]>();
    const model = buildNodeModel(
      { node: this.node, namespaces: objects.namespaces, pods: objects.pods, policies: objects.policies },
      {
        selectorPeers: (key, namespace, peers) => void peerSelectors.set(key, { namespace, peers }),
        namedPortRule: (key, direction, index, refs) =>
          void namedRules.set(ruleId(key, direction, index), refs),
      },
    );
    const ruleset = renderRuleset(model);
    const result: NodeRenderResult = {
      model,
      ruleset,
      summary: summarizeRuleset(ruleset, model),
      problems: model.problems,
    };
    const nsLabels = new Map<string, Labels>();
    for (const ns of objects.namespaces) {
      nsLabels.set(ns.metadata.name, {
        ...(ns.metadata.labels ?? {}),
        [NAMESPACE_NAME_LABEL]: ns.metadata.name,
      });
    }
    const ipHolders = new Map<string, number>();
    for (const pod of objects.pods) {
      const ips = podIPs(pod);
      if (!isEnforceablePod(pod, ips)) continue;
      for (const ip of ips) ipHolders.set(ip, (ipHolders.get(ip) ?? 0) + 1);
    }
    this.state = {
      namespaces: new Set(objects.namespaces),
      policies: new Set(objects.policies),
      nsLabels,
      pods: [...objects.pods],
      ipHolders,
      index: indexResult(result),
      peerSelectors,
      namedRules,
      policiesByNs: localPolicies(objects.policies),
      result,
    };
    return { ...result, mode: 'full', fullReason: reason };
  }

  private renderPodChanges(st: State, objects: ClusterObjects): IncrementalRenderResult {
    if (!sameMembers(st.namespaces, objects.namespaces)) throw new NotIncremental('namespaces changed');
    if (!sameMembers(st.policies, objects.policies)) throw new NotIncremental('network policies changed');

    const changes = podChanges(st.pods, objects.pods);
    if (changes.length > MAX_POD_CHANGES) throw new NotIncremental(`${changes.length} pods changed`);
    const delta = new PodDelta(this.node, st);
    for (const change of changes) delta.apply(this.facts(st, change.old), this.facts(st, change.now));
    const result = delta.commit();
    this.state = { ...st, pods: [...objects.pods], result };
    return { ...result, mode: 'pods' };
  }

  private facts(st: State, pod: Pod | undefined): PodFacts | undefined {
    if (!pod) return undefined;
    const ips = podIPs(pod);
    if (!isEnforceablePod(pod, ips)) return undefined;
    const namespace = pod.metadata.namespace ?? 'default';
    const where = objectKey(namespace, pod.metadata.name);
    if (ips.length !== 1 || ips[0].includes(':'))
      throw new NotIncremental(`pod ${where} is not single-stack IPv4`);
    if (!st.nsLabels.has(namespace)) throw new NotIncremental(`namespace of pod ${where} is not known`);
    return {
      key: where,
      namespace,
      name: pod.metadata.name,
      labels: pod.metadata.labels ?? {},
      ip: ips[0],
      ipv4: parseIPv4(ips[0]) as number,
      nodeName: pod.spec.nodeName,
      ports: namedPorts(pod),
    };
  }
}

function localPolicies(policies: readonly NetworkPolicy[]): Map<string, LocalPolicy[]> {
  const out = new Map<string, LocalPolicy[]>();
  for (const policy of policies) {
    const namespace = policy.metadata.namespace ?? 'default';
    let selector: CompiledSelector;
    try {
      selector = compileSelector(policy.spec?.podSelector, 'spec.podSelector');
    } catch {
      continue; // the full render reports it and programs nothing for it
    }
    const types = effectivePolicyTypes(policy);
    const list = out.get(namespace) ?? [];
    list.push({
      key: objectKey(namespace, policy.metadata.name),
      selector,
      ingress: types.ingress,
      egress: types.egress,
    });
    out.set(namespace, list);
  }
  for (const list of out.values()) list.sort((a, b) => byKey(a.key, b.key));
  return out;
}

/**
 * The changes of one render, applied to copies of the previous model and ruleset (which stay
 * as they were: the agent compares old and new to find flows to cut). The renderer's indexes are
 * patched only in commit(), after every change was found incremental.
 */
class PodDelta {
  private readonly model: NodeModel;
  private readonly ix: ResultIndex;
  /** IP -> holders after the changes, for the IPs they touch. */
  private readonly holders = new Map<string, number>();
  private readonly changedPeers = new Map<string, string[]>();
  /** Policy key -> its local pods after the changes. */
  private readonly localPods = new Map<string, string[]>();
  /** Local pods that left (undefined) or joined. */
  private readonly podModels = new Map<string, LocalPodModel | undefined>();
  private readonly groupSize = new Map<string, number>();
  /** Set name -> entries after the changes (pod-group sets). */
  private readonly groupEntries = new Map<string, string[]>();
  /** ruleId -> the rule's named-port groups (copied on first change). */
  private readonly changedNamed = new Map<string, NamedPortGroup[]>();

  constructor(
    private readonly node: string,
    private readonly st: State,
  ) {
    this.model = st.result.model;
    this.ix = st.index;
  }

  apply(old: PodFacts | undefined, now: PodFacts | undefined): void {
    if (!old && !now) return;
    if (
      old &&
      now &&
      old.ip === now.ip &&
      old.nodeName === now.nodeName &&
      old.namespace === now.namespace &&
      sameLabels(old.labels, now.labels)
    )
      return; // a status or annotation change: nothing policies look at
    if (old) this.release(old);
    if (now) this.hold(now);
    for (const [key, sel] of this.st.peerSelectors) {
      const was = old !== undefined && this.matches(old, sel.namespace, sel.peers);
      const is = now !== undefined && this.matches(now, sel.namespace, sel.peers);
      if (!was && !is) continue;
      const ips = this.peerList(key);
      if (was) remove(ips, old.ip);
      if (is) insertByAddress(ips, now.ip);
    }
    if (old && old.nodeName === this.node) this.leaveNode(old);
    if (now && now.nodeName === this.node) this.joinNode(now);
    if (old) this.updateNamedGroups(old, remove);
    if (now) this.updateNamedGroups(now, insertByAddress);
  }

  /** Adds or removes the pod in every named-port group it belongs to; a missing group is a new rule. */
  private updateNamedGroups(pod: PodFacts, edit: (ips: string[], ip: string) => void): void {
    if (pod.ports.size === 0 || this.st.namedRules.size === 0) return;
    for (const policy of this.model.policies) {
      const key = objectKey(policy.namespace, policy.name);
      for (const direction of ['ingress', 'egress'] as const) {
        for (const rule of policy[direction]) {
          const refs = this.st.namedRules.get(ruleId(key, direction, rule.index));
          if (!refs || !this.holdsNamedPort(pod, key, direction, rule)) continue;
          for (const ref of refs) {
            const port = lookupNamedPort(pod.ports, ref.protocol, ref.name);
            if (port === undefined) continue;
            const groups = this.namedList(key, direction, rule);
            const i = groups.findIndex(
              (g) => g.protocol === ref.protocol && g.name === ref.name && g.port === port,
            );
            if (i < 0)
              throw new NotIncremental(
                `named port ${ref.name} of pod ${pod.key} resolves to a port no rule has yet`,
              );
            const ips = [...groups[i].podIPs];
            edit(ips, pod.ip);
            groups[i] = { ...groups[i], podIPs: ips };
          }
        }
      }
    }
  }

  /**
   * Whether a rule's named ports resolve on this pod: for ingress, a local pod the policy selects
   * (the port is the destination's); for egress, a destination the rule's peers allow.
   */
  private holdsNamedPort(pod: PodFacts, policyKey: string, direction: Direction, rule: RuleModel): boolean {
    if (direction === 'ingress') {
      return (
        pod.nodeName === this.node &&
        (this.st.policiesByNs.get(pod.namespace) ?? []).some(
          (p) => p.key === policyKey && p.selector.matches(pod.labels),
        )
      );
    }
    if (rule.peers.any) return true;
    const sel = this.st.peerSelectors.get(rule.peers.podPeersKey);
    if (sel && this.matches(pod, sel.namespace, sel.peers)) return true;
    return rule.peers.blocks.some((b) => blockContainsIPv4Number(parseCidrBlock(b), pod.ipv4));
  }

  private namedList(policyKey: string, direction: Direction, rule: RuleModel): NamedPortGroup[] {
    const id = ruleId(policyKey, direction, rule.index);
    let list = this.changedNamed.get(id);
    if (!list) this.changedNamed.set(id, (list = [...rule.named]));
    return list;
  }

  private holderCount(ip: string): number {
    return this.holders.get(ip) ?? this.st.ipHolders.get(ip) ?? 0;
  }

  private release(pod: PodFacts): void {
    if (this.holderCount(pod.ip) !== 1)
      throw new NotIncremental(`address ${pod.ip} is held by more than one pod`);
    this.holders.set(pod.ip, 0);
  }

  private hold(pod: PodFacts): void {
    if (this.holderCount(pod.ip) !== 0)
      throw new NotIncremental(`address ${pod.ip} is held by more than one pod`);
    this.holders.set(pod.ip, 1);
  }

  private matches(pod: PodFacts, policyNamespace: string, peers: readonly SelectorPeer[]): boolean {
    return peers.some((p) =>
      p.namespaceSelector
        ? p.namespaceSelector.matches(this.st.nsLabels.get(pod.namespace)) &&
          p.podSelector.matches(pod.labels)
        : pod.namespace === policyNamespace && p.podSelector.matches(pod.labels),
    );
  }

  private peerList(key: string): string[] {
    let list = this.changedPeers.get(key);
    if (!list) {
      const current = this.ix.peerIPs.get(key) ?? [];
      if (current.some((ip) => ip.includes(':'))) throw new NotIncremental('a peer set holds IPv6 addresses');
      this.changedPeers.set(key, (list = [...current]));
    }
    return list;
  }

  private selecting(pod: PodFacts): LocalPolicy[] {
    const found = (this.st.policiesByNs.get(pod.namespace) ?? []).filter((p) =>
      p.selector.matches(pod.labels),
    );
    for (const p of found) {
      if (!this.ix.policyAt.has(p.key))
        throw new NotIncremental(`policy ${p.key} would start selecting a pod on this node`);
    }
    return found;
  }

  private localPodList(policyKey: string): string[] {
    let list = this.localPods.get(policyKey);
    if (!list) {
      const at = this.ix.policyAt.get(policyKey) as number;
      this.localPods.set(policyKey, (list = [...this.model.policies[at].localPods]));
    }
    return list;
  }

  private localPod(key: string): LocalPodModel | undefined {
    return this.podModels.has(key) ? this.podModels.get(key) : this.ix.localPods.get(key);
  }

  /** Moves the pod's address out of (or into) the set of its pod group; the group must exist. */
  private regroup(pod: LocalPodModel, ip: string, joining: boolean): void {
    for (const direction of ['ingress', 'egress'] as const) {
      const policies = direction === 'ingress' ? pod.ingressPolicies : pod.egressPolicies;
      if (policies.length === 0) continue;
      const id = groupId(direction, policies);
      const size = (this.groupSize.get(id) ?? this.ix.groupSize.get(id) ?? 0) + (joining ? 1 : -1);
      if (size <= 0 || (joining && size === 1))
        throw new NotIncremental(`the ${direction} pod groups would change`);
      this.groupSize.set(id, size);
      const name = podGroupNames(direction, policies).ipset;
      let entries = this.groupEntries.get(name);
      if (!entries) {
        const at = this.ix.setAt.get(name);
        if (at === undefined) throw new NotIncremental(`set ${name} is not programmed`);
        this.groupEntries.set(name, (entries = [...this.st.result.ruleset.ipsets[at].entries]));
      }
      if (joining) insertByAddress(entries, ip);
      else remove(entries, ip);
    }
  }

  private leaveNode(pod: PodFacts): void {
    for (const p of this.selecting(pod)) {
      const list = this.localPodList(p.key);
      remove(list, pod.key);
      if (list.length === 0) throw new NotIncremental(`policy ${p.key} would select no pod on this node`);
    }
    const model = this.localPod(pod.key);
    if (model) this.regroup(model, pod.ip, false);
    this.podModels.set(pod.key, undefined);
  }

  private joinNode(pod: PodFacts): void {
    const selecting = this.selecting(pod);
    for (const p of selecting) insertSorted(this.localPodList(p.key), pod.key);
    const model: LocalPodModel = {
      namespace: pod.namespace,
      name: pod.name,
      ips: [pod.ip],
      ingressPolicies: selecting.filter((p) => p.ingress).map((p) => p.key),
      egressPolicies: selecting.filter((p) => p.egress).map((p) => p.key),
    };
    this.regroup(model, pod.ip, true);
    this.podModels.set(pod.key, model);
  }

  /** The new result; then, and only then, the renderer's indexes follow it. */
  commit(): NodeRenderResult {
    for (const groups of this.changedNamed.values()) {
      if (groups.some((g) => g.podIPs.length === 0))
        throw new NotIncremental('a named-port group would empty');
    }
    const model = this.nextModel();
    const { ruleset, entriesDelta } = this.nextRuleset(model);
    const prev = this.st.result;
    for (const [ip, n] of this.holders) {
      if (n === 0) this.st.ipHolders.delete(ip);
      else this.st.ipHolders.set(ip, n);
    }
    for (const [key, ips] of this.changedPeers) this.ix.peerIPs.set(key, ips);
    for (const [key, pod] of this.podModels) {
      if (pod) this.ix.localPods.set(key, pod);
      else this.ix.localPods.delete(key);
    }
    for (const [id, n] of this.groupSize) this.ix.groupSize.set(id, n);
    return {
      model,
      ruleset,
      // Chains, rules and policies are the same; only set entries moved.
      summary: { ...prev.summary, ipsetEntries: prev.summary.ipsetEntries + entriesDelta },
      problems: prev.problems,
    };
  }

  private nextModel(): NodeModel {
    const policies = [...this.model.policies];
    const named = this.changedNamed.size > 0;
    this.model.policies.forEach((p, i) => {
      const key = objectKey(p.namespace, p.name);
      const local = this.localPods.get(key);
      let touched = local !== undefined;
      const rewrite = (direction: Direction, rules: readonly RuleModel[]): RuleModel[] =>
        rules.map((rule) => {
          const ips = this.changedPeers.get(rule.peers.podPeersKey);
          const groups = named ? this.changedNamed.get(ruleId(key, direction, rule.index)) : undefined;
          if (!ips && !groups) return rule;
          touched = true;
          return {
            ...rule,
            ...(ips ? { peers: { ...rule.peers, podIPs: ips } } : {}),
            ...(groups ? { named: groups } : {}),
          };
        });
      const ingress = rewrite('ingress', p.ingress);
      const egress = rewrite('egress', p.egress);
      if (touched) policies[i] = { ...p, ingress, egress, localPods: local ?? p.localPods };
    });
    let pods = this.model.pods;
    if (this.podModels.size > 0) {
      const kept = pods.filter((p) => !this.podModels.has(objectKey(p.namespace, p.name)));
      const joined = [...this.podModels.entries()].filter(
        (e): e is [string, LocalPodModel] => e[1] !== undefined,
      );
      pods = [...kept.map((p): [string, LocalPodModel] => [objectKey(p.namespace, p.name), p]), ...joined]
        .sort(([a], [b]) => byKey(a, b))
        .map(([, p]) => p);
    }
    return { ...this.model, policies, pods };
  }

  private nextRuleset(model: NodeModel): { ruleset: Ruleset; entriesDelta: number } {
    const prev = this.st.result.ruleset;
    const entries = new Map<string, string[]>(this.groupEntries);
    for (const [key, ips] of this.changedPeers) entries.set(peerSetName('p', key), ipv4Only(ips));
    if (this.changedNamed.size > 0) {
      for (const policy of model.policies) {
        const key = objectKey(policy.namespace, policy.name);
        for (const direction of ['ingress', 'egress'] as const) {
          for (const rule of policy[direction]) {
            if (!this.changedNamed.has(ruleId(key, direction, rule.index))) continue;
            for (const g of rule.named) {
              const identity =
                direction === 'ingress'
                  ? `ingress|${key}|${g.protocol}/${g.name}/${g.port}`
                  : egressGroupIdentity(rule, g);
              entries.set(peerSetName('d', identity), ipv4Only(g.podIPs));
            }
          }
        }
      }
    }
    const ipsets = [...prev.ipsets];
    let entriesDelta = 0;
    for (const [name, next] of entries) {
      const at = this.ix.setAt.get(name);
      if (at === undefined) continue; // a peer list no rule turns into a set
      const set = ipsets[at];
      if (next.length === set.entries.length && next.every((e, i) => e === set.entries[i])) continue;
      entriesDelta += next.length - set.entries.length;
      ipsets[at] = { ...set, entries: next };
    }
    return { ruleset: { ...prev, ipsets }, entriesDelta };
  }
}
