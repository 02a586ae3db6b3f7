// One pod-only render: each changed pod joins or leaves peer sets, named-port groups, pod groups
// and its policies' local pods, on copies of the previous model and ruleset. Also the state the
// incremental renderer keeps between renders, which a delta reads and, on commit, patches.
//
// A change the pod-only path cannot make is a returned Refusal (with the reason), never an
// exception: the renderer then renders in full and logs why. Pure.
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { peersSelectPod, type SelectorPeer } from '../netpol/cluster-index.js';
import { compareAddresses, familyOf, type Family } from '../net/address.js';
import { blockContainsIP, parseCidrBlock } from '../netpol/ip-blocks.js';
import type { NamedPortRef } from '../netpol/ports.js';
import { lookupNamedPort } from '../netpol/pods.js';
import type { CompiledSelector, Labels } from '../netpol/selector.js';
import {
  objectKey,
  type Direction,
  type LocalPodModel,
  type NamedPortGroup,
  type NodeModel,
  type RuleModel,
} from '../netpol/types.js';
import { peerSetName, podGroupNames } from './names.js';
import { namedGroupIdentity, ofFamily } from './render.js';
import type { NodeRender } from './render-node.js';
import type { IpsetSpec, Ruleset } from './types.js';

/** Why the pod-only path cannot make a change; the full render takes over. */
export interface Refusal {
  refused: string;
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'refused' in x;
}

function refuse(reason: string): Refusal {
  return { refused: reason };
}

/** The first refusal of a sequence of steps; later steps do not run. */
function firstRefusal(...steps: (() => Refusal | undefined)[]): Refusal | undefined {
  for (const step of steps) {
    const r = step();
    if (r) return r;
  }
  return undefined;
}

export interface LocalPolicy {
  key: string;
  selector: CompiledSelector;
  ingress: boolean;
  egress: boolean;
}

/** What the incremental renderer keeps between renders: the previous input, result and indexes. */
export interface State {
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
  namedRules: ReadonlyMap<string, NamedPortRule>;
  /** Policies whose podSelector compiles, per namespace, in model (key) order. */
  policiesByNs: ReadonlyMap<string, readonly LocalPolicy[]>;
  result: NodeRender;
}

/** A rule of a local policy that refers to ports by name. */
export interface NamedPortRule {
  policyKey: string;
  direction: Direction;
  index: number;
  refs: readonly NamedPortRef[];
}

/** What a pod contributes to the model, when it is enforceable: one address, or one of each family. */
export interface PodFacts {
  key: string;
  namespace: string;
  name: string;
  labels: Labels;
  /** In status order (as the model's LocalPodModel.ips). */
  ips: readonly string[];
  nodeName: string | undefined;
  ports: ReadonlyMap<string, number>;
}

/** Lookups into the last result that a delta needs; built once per full render, then patched. */
export interface ResultIndex {
  /** "namespace/name" -> position in model.policies (fixed while policies are unchanged). */
  policyAt: Map<string, number>;
  /** Peer key -> its current IP list. */
  peerIPs: Map<string, readonly string[]>;
  /** "namespace/name" -> the local pod's model. */
  localPods: Map<string, LocalPodModel>;
  /** groupId() -> how many local pods are in the group. */
  groupSize: Map<string, number>;
  /**
   * Set name -> its family's ruleset and position in its ipsets (fixed while no set is created
   * or deleted). Set names differ between families (see names.ts).
   */
  setAt: Map<string, { family: Family; at: number }>;
}

export function groupId(direction: Direction, policies: readonly string[]): string {
  return `${direction}\n${policies.join('\n')}`;
}

export function ruleId(policyKey: string, direction: Direction, index: number): string {
  return `${policyKey}|${direction}|${index}`;
}

export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Small edits of sorted string lists, for patching set members and pod lists in place.

/** Inserts an address into a list in address order (IPv4 first, then IPv6; all distinct). */
function insertByAddress(list: string[], ip: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareAddresses(list[mid], ip) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, ip);
}

function sameIPs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((ip, i) => ip === b[i]);
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

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/**
 * The changes of one render, applied to copies of the previous model and ruleset (which stay
 * as they were: the agent compares old and new to find flows to cut). The renderer's indexes are
 * patched only in commit(), after every change was found incremental.
 */
export class PodDelta {
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

  /** Records one pod's change (old and new facts; undefined: not enforceable or absent). */
  apply(old: PodFacts | undefined, now: PodFacts | undefined): Refusal | undefined {
    if (!old && !now) return undefined;
    if (
      old &&
      now &&
      sameIPs(old.ips, now.ips) &&
      old.nodeName === now.nodeName &&
      old.namespace === now.namespace &&
      sameLabels(old.labels, now.labels)
    )
      return undefined; // a status or annotation change: nothing policies look at
    return firstRefusal(
      () => (old ? this.release(old) : undefined),
      () => (now ? this.hold(now) : undefined),
      () => this.updatePeers(old, now),
      () => (old && old.nodeName === this.node ? this.leaveNode(old) : undefined),
      () => (now && now.nodeName === this.node ? this.joinNode(now) : undefined),
      () => (old ? this.updateNamedGroups(old, remove) : undefined),
      () => (now ? this.updateNamedGroups(now, insertByAddress) : undefined),
    );
  }

  private updatePeers(old: PodFacts | undefined, now: PodFacts | undefined): Refusal | undefined {
    for (const [key, sel] of this.st.peerSelectors) {
      const was = old !== undefined && this.matches(old, sel.namespace, sel.peers);
      const is = now !== undefined && this.matches(now, sel.namespace, sel.peers);
      if (!was && !is) continue;
      const ips = this.peerList(key);
      if (isRefusal(ips)) return ips;
      if (was) for (const ip of old.ips) remove(ips, ip);
      if (is) for (const ip of now.ips) insertByAddress(ips, ip);
    }
    return undefined;
  }

  /** Adds or removes the pod in every named-port group it belongs to; a missing group is a new rule. */
  private updateNamedGroups(pod: PodFacts, edit: (ips: string[], ip: string) => void): Refusal | undefined {
    if (pod.ports.size === 0) return undefined;
    for (const [id, named] of this.st.namedRules) {
      const policy = this.model.policies[this.ix.policyAt.get(named.policyKey) as number];
      const rule = policy[named.direction].find((r) => r.index === named.index) as RuleModel;
      const covered = this.namedPortAddresses(pod, named.policyKey, named.direction, rule);
      if (covered.length === 0) continue;
      for (const ref of named.refs) {
        const port = lookupNamedPort(pod.ports, ref.protocol, ref.name);
        if (port === undefined) continue;
        let groups = this.changedNamed.get(id);
        if (!groups) this.changedNamed.set(id, (groups = [...rule.named]));
        const i = groups.findIndex(
          (g) => g.protocol === ref.protocol && g.name === ref.name && g.port === port,
        );
        if (i < 0)
          return refuse(`named port ${ref.name} of pod ${pod.key} resolves to a port no rule has yet`);
        const ips = [...groups[i].podIPs];
        for (const ip of covered) edit(ips, ip);
        groups[i] = { ...groups[i], podIPs: ips };
      }
    }
    return undefined;
  }

  /**
   * The addresses of this pod a rule's named ports resolve on: for ingress, all of a local pod
   * the policy selects (the port is the destination's); for egress, those of a destination the
   * rule's peers allow — all of a selected pod, or the ones inside its ipBlocks (a block is of
   * one family, as in the model).
   */
  private namedPortAddresses(
    pod: PodFacts,
    policyKey: string,
    direction: Direction,
    rule: RuleModel,
  ): readonly string[] {
    if (direction === 'ingress') {
      const holds =
        pod.nodeName === this.node &&
        (this.st.policiesByNs.get(pod.namespace) ?? []).some(
          (p) => p.key === policyKey && p.selector.matches(pod.labels),
        );
      return holds ? pod.ips : [];
    }
    if (rule.peers.any) return pod.ips;
    const sel = this.st.peerSelectors.get(rule.peers.podPeersKey);
    if (sel && this.matches(pod, sel.namespace, sel.peers)) return pod.ips;
    if (rule.peers.blocks.length === 0) return [];
    const blocks = rule.peers.blocks.map(parseCidrBlock);
    return pod.ips.filter((ip) => blocks.some((b) => blockContainsIP(b, ip)));
  }

  private holderCount(ip: string): number {
    return this.holders.get(ip) ?? this.st.ipHolders.get(ip) ?? 0;
  }

  private release(pod: PodFacts): Refusal | undefined {
    for (const ip of pod.ips) {
      if (this.holderCount(ip) !== 1) return refuse(`address ${ip} is held by more than one pod`);
      this.holders.set(ip, 0);
    }
    return undefined;
  }

  private hold(pod: PodFacts): Refusal | undefined {
    for (const ip of pod.ips) {
      if (this.holderCount(ip) !== 0) return refuse(`address ${ip} is held by more than one pod`);
      this.holders.set(ip, 1);
    }
    return undefined;
  }

  private matches(pod: PodFacts, policyNamespace: string, peers: readonly SelectorPeer[]): boolean {
    return peersSelectPod(policyNamespace, peers, pod, this.st.nsLabels.get(pod.namespace));
  }

  private peerList(key: string): string[] | Refusal {
    let list = this.changedPeers.get(key);
    if (!list) {
      this.changedPeers.set(key, (list = [...(this.ix.peerIPs.get(key) ?? [])]));
    }
    return list;
  }

  private selecting(pod: PodFacts): LocalPolicy[] | Refusal {
    const found = (this.st.policiesByNs.get(pod.namespace) ?? []).filter((p) =>
      p.selector.matches(pod.labels),
    );
    const starting = found.find((p) => !this.ix.policyAt.has(p.key));
    if (starting) return refuse(`policy ${starting.key} would start selecting a pod on this node`);
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

  /** Moves the pod's addresses out of (or into) its family's set of its pod group; the group must exist. */
  private regroup(pod: LocalPodModel, ips: readonly string[], joining: boolean): Refusal | undefined {
    for (const direction of ['ingress', 'egress'] as const) {
      const policies = direction === 'ingress' ? pod.ingressPolicies : pod.egressPolicies;
      if (policies.length === 0) continue;
      const id = groupId(direction, policies);
      const size = (this.groupSize.get(id) ?? this.ix.groupSize.get(id) ?? 0) + (joining ? 1 : -1);
      if (size <= 0 || (joining && size === 1)) return refuse(`the ${direction} pod groups would change`);
      this.groupSize.set(id, size);
      for (const ip of ips) {
        const name = podGroupNames(direction, policies, familyOf(ip)).ipset;
        let entries = this.groupEntries.get(name);
        if (!entries) {
          const at = this.ix.setAt.get(name);
          if (at === undefined) return refuse(`set ${name} is not programmed`);
          this.groupEntries.set(name, (entries = [...this.rulesetOf(at.family).ipsets[at.at].entries]));
        }
        if (joining) insertByAddress(entries, ip);
        else remove(entries, ip);
      }
    }
    return undefined;
  }

  private rulesetOf(family: Family): Ruleset {
    return family === 4 ? this.st.result.ruleset : this.st.result.ruleset6;
  }

  private leaveNode(pod: PodFacts): Refusal | undefined {
    const selecting = this.selecting(pod);
    if (isRefusal(selecting)) return selecting;
    for (const p of selecting) {
      const list = this.localPodList(p.key);
      remove(list, pod.key);
      if (list.length === 0) return refuse(`policy ${p.key} would select no pod on this node`);
    }
    const model = this.localPod(pod.key);
    const refused = model ? this.regroup(model, model.ips, false) : undefined;
    this.podModels.set(pod.key, undefined);
    return refused;
  }

  private joinNode(pod: PodFacts): Refusal | undefined {
    const selecting = this.selecting(pod);
    if (isRefusal(selecting)) return selecting;
    for (const p of selecting) insertSorted(this.localPodList(p.key), pod.key);
    const model: LocalPodModel = {
      namespace: pod.namespace,
      name: pod.name,
      ips: pod.ips,
      ingressPolicies: selecting.filter((p) => p.ingress).map((p) => p.key),
      egressPolicies: selecting.filter((p) => p.egress).map((p) => p.key),
    };
    const refused = this.regroup(model, pod.ips, true);
    this.podModels.set(pod.key, model);
    return refused;
  }

  /** The new result; then, and only then, the renderer's indexes follow it. */
  commit(): NodeRender | Refusal {
    for (const groups of this.changedNamed.values()) {
      if (groups.some((g) => g.podIPs.length === 0)) return refuse('a named-port group would empty');
    }
    const model = this.nextModel();
    const { rulesets, entriesDelta } = this.nextRulesets(model);
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
    const families = prev.summary.families;
    return {
      model,
      ruleset: rulesets[4],
      ruleset6: rulesets[6],
      // Chains, rules and policies are the same; only set entries moved.
      summary: {
        ...prev.summary,
        ipsetEntries: prev.summary.ipsetEntries + entriesDelta[4] + entriesDelta[6],
        families: {
          ipv4: { ...families.ipv4, ipsetEntries: families.ipv4.ipsetEntries + entriesDelta[4] },
          ipv6: { ...families.ipv6, ipsetEntries: families.ipv6.ipsetEntries + entriesDelta[6] },
        },
      },
      problems: prev.problems,
      mode: 'pods',
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

  private nextRulesets(model: NodeModel): {
    rulesets: Record<Family, Ruleset>;
    entriesDelta: Record<Family, number>;
  } {
    const families = [4, 6] as const;
    const entries = new Map<string, string[]>(this.groupEntries);
    for (const [key, ips] of this.changedPeers)
      for (const f of families) entries.set(peerSetName('p', key, f), ofFamily(ips, f));
    for (const [id, groups] of this.changedNamed) {
      const named = this.st.namedRules.get(id);
      if (!named) continue;
      const policy = model.policies[this.ix.policyAt.get(named.policyKey) as number];
      const rule = policy[named.direction].find((r) => r.index === named.index) as RuleModel;
      for (const g of groups) {
        const identity = namedGroupIdentity(named.direction, named.policyKey, rule, g);
        for (const f of families) entries.set(peerSetName('d', identity, f), ofFamily(g.podIPs, f));
      }
    }
    const ipsets: Record<Family, IpsetSpec[] | undefined> = { 4: undefined, 6: undefined };
    const entriesDelta: Record<Family, number> = { 4: 0, 6: 0 };
    for (const [name, next] of entries) {
      const where = this.ix.setAt.get(name);
      if (where === undefined) continue; // a peer list no rule turns into a set
      const list = (ipsets[where.family] ??= [...this.rulesetOf(where.family).ipsets]);
      const set = list[where.at];
      if (next.length === set.entries.length && next.every((e, i) => e === set.entries[i])) continue;
      entriesDelta[where.family] += next.length - set.entries.length;
      list[where.at] = { ...set, entries: next };
    }
    const patched = (f: Family): Ruleset => {
      const prev = this.rulesetOf(f);
      const list = ipsets[f];
      return list ? { ...prev, ipsets: list } : prev;
    };
    return { rulesets: { 4: patched(4), 6: patched(6) }, entriesDelta };
  }
}
