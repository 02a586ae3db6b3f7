// The agent's render with a fast path for the commonest change, pods coming and going.
//
// A full render of a large node takes tens of milliseconds (every selector against every pod).
// When only pods changed since the last render, and each changed pod only joins or leaves
// sets that exist already, the new result is the previous one with set members added or
// removed: no chain, rule or set is created or deleted. This module computes exactly that delta
// and falls back to the full render whenever a change could do more (a policy would start or
// stop selecting pods here, a pod group or a named-port group would appear or empty, an IP is
// shared, a namespace or policy changed). Pods with an IPv4 address, an IPv6 address or one of
// each (dual-stack) all take the fast path; both families' rulesets are patched. The result is the one the full
// render gives for the same objects — the unit tests check it on random clusters — and the
// agent's periodic full sync renders in full anyway.
//
// Changes are found by identity: a changed object must be a new object, as a watch cache hands
// them out (the lists themselves may be reused and edited; they are copied).
//
// The pod-only path returns its outcome as a value (PodPath): the new render, or the reason it
// cannot make the change (pod-delta.ts holds the delta and the state it patches).
//
// No I/O: the state kept between calls is the previous input and output.
import type { NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { namespaceLabelsOf, type SelectorPeer } from '../netpol/cluster-index.js';
import { familyOf, type Family } from '../net/address.js';
import { buildNodeModel, effectivePolicyTypes } from '../netpol/model.js';
import { isEnforceablePod, namedPorts, podIPs } from '../netpol/pods.js';
import { compileSelector, type CompiledSelector, type Labels } from '../netpol/selector.js';
import { objectKey } from '../netpol/types.js';
import {
  byKey,
  groupId,
  isRefusal,
  PodDelta,
  ruleId,
  type LocalPolicy,
  type NamedPortRule,
  type PodFacts,
  type Refusal,
  type ResultIndex,
  type State,
} from './pod-delta.js';
import { renderRuleset } from './render.js';
import type { ClusterObjects } from '../netpol/types.js';
import { summarizeRuleset, type NodeRender } from './render-node.js';

const MAX_POD_CHANGES = 64;

/** The outcome of the pod-only path: the new render, or why the full render must take over. */
export type PodPath = { kind: 'incremental'; render: NodeRender } | { kind: 'full'; reason: string };

function fullBecause(r: Refusal): PodPath {
  return { kind: 'full', reason: r.refused };
}

/** Lookups into a full render's result, which each pod-only render then patches. */
function indexResult(result: NodeRender): ResultIndex {
  const { model, ruleset, ruleset6 } = result;
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
    setAt: new Map([
      ...ruleset.ipsets.map((set, at): [string, { family: Family; at: number }] => [
        set.name,
        { family: 4, at },
      ]),
      ...ruleset6.ipsets.map((set, at): [string, { family: Family; at: number }] => [
        set.name,
        { family: 6, at },
      ]),
    ]),
  };
}

/** Policies whose podSelector compiles, per namespace, in key order. */
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

function podKey(pod: Pod): string {
  return objectKey(pod.metadata.namespace ?? 'default', pod.metadata.name);
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

function sameMembers<T>(set: ReadonlySet<T>, list: readonly T[]): boolean {
  return set.size === list.length && list.every((x) => set.has(x));
}

export class IncrementalNodeRenderer {
  private state: State | undefined;

  constructor(private readonly node: string) {}

  /** Renders the node for `objects`; `full` skips the fast path (periodic resync). */
  render(objects: ClusterObjects, options: { full?: boolean } = {}): NodeRender {
    if (options.full || !this.state)
      return this.renderFull(objects, options.full ? 'asked for' : 'first render');
    const path = this.renderPodChanges(this.state, objects);
    return path.kind === 'incremental' ? path.render : this.renderFull(objects, path.reason);
  }

  private renderFull(objects: ClusterObjects, reason: string): NodeRender {
    const peerSelectors = new Map<string, { namespace: string; peers: readonly SelectorPeer[] }>();
    const namedRules = new Map<string, NamedPortRule>();
    const ipHolders = new Map<string, number>();
    const model = buildNodeModel(
      { node: this.node, namespaces: objects.namespaces, pods: objects.pods, policies: objects.policies },
      {
        enforceablePods: (pods) => {
          for (const pod of pods) for (const ip of pod.ips) ipHolders.set(ip, (ipHolders.get(ip) ?? 0) + 1);
        },
        selectorPeers: (key, namespace, peers) => void peerSelectors.set(key, { namespace, peers }),
        namedPortRule: (key, direction, index, refs) =>
          void namedRules.set(ruleId(key, direction, index), { policyKey: key, direction, index, refs }),
      },
    );
    const ruleset = renderRuleset(model, 4);
    const ruleset6 = renderRuleset(model, 6);
    const result: NodeRender = {
      model,
      ruleset,
      ruleset6,
      summary: summarizeRuleset(ruleset, ruleset6, model),
      problems: model.problems,
      mode: 'full',
      fullReason: reason,
    };
    const nsLabels = new Map<string, Labels>(
      objects.namespaces.map((ns) => [ns.metadata.name, namespaceLabelsOf(ns)]),
    );
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
    return result;
  }

  private renderPodChanges(st: State, objects: ClusterObjects): PodPath {
    if (!sameMembers(st.namespaces, objects.namespaces))
      return { kind: 'full', reason: 'namespaces changed' };
    if (!sameMembers(st.policies, objects.policies))
      return { kind: 'full', reason: 'network policies changed' };

    const changes = podChanges(st.pods, objects.pods);
    if (changes.length > MAX_POD_CHANGES) return { kind: 'full', reason: `${changes.length} pods changed` };
    const delta = new PodDelta(this.node, st);
    for (const change of changes) {
      const old = this.facts(st, change.old);
      if (isRefusal(old)) return fullBecause(old);
      const now = this.facts(st, change.now);
      if (isRefusal(now)) return fullBecause(now);
      const refused = delta.apply(old, now);
      if (refused) return fullBecause(refused);
    }
    const result = delta.commit();
    if (isRefusal(result)) return fullBecause(result);
    this.state = { ...st, pods: [...objects.pods], result };
    return { kind: 'incremental', render: result };
  }

  /** A pod's facts (undefined when it is absent or not enforceable), or why the path cannot take it. */
  private facts(st: State, pod: Pod | undefined): PodFacts | undefined | Refusal {
    if (!pod) return undefined;
    const ips = podIPs(pod);
    if (!isEnforceablePod(pod, ips)) return undefined;
    const namespace = pod.metadata.namespace ?? 'default';
    const where = objectKey(namespace, pod.metadata.name);
    const families = ips.map(familyOf);
    if (ips.length > 2 || (ips.length === 2 && families[0] === families[1]))
      return { refused: `pod ${where} has more than one address of a family` };
    if (!st.nsLabels.has(namespace)) return { refused: `namespace of pod ${where} is not known` };
    return {
      key: where,
      namespace,
      name: pod.metadata.name,
      labels: pod.metadata.labels ?? {},
      ips,
      nodeName: pod.spec.nodeName,
      ports: namedPorts(pod),
    };
  }
}
