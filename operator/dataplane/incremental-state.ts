// What the incremental renderer keeps between renders: the previous input and result, and
// indexes into that result which each pod-only render patches. Pure data and builders.
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { SelectorPeer } from '../netpol/cluster-index.js';
import { effectivePolicyTypes } from '../netpol/model.js';
import type { NamedPortRef } from '../netpol/ports.js';
import { compileSelector, type CompiledSelector, type Labels } from '../netpol/selector.js';
import { objectKey, type Direction, type LocalPodModel } from '../netpol/types.js';
import type { NodeRender } from './render-node.js';

export interface LocalPolicy {
  key: string;
  selector: CompiledSelector;
  ingress: boolean;
  egress: boolean;
}

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

/** What a pod contributes to the model, when it is enforceable: one IPv4 address. */
export interface PodFacts {
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
export interface ResultIndex {
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

export function groupId(direction: Direction, policies: readonly string[]): string {
  return `${direction}\n${policies.join('\n')}`;
}

export function indexResult(result: NodeRender): ResultIndex {
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

export function ruleId(policyKey: string, direction: Direction, index: number): string {
  return `${policyKey}|${direction}|${index}`;
}

/** A change the pod-only path cannot make; the full render takes over. */
export class NotIncremental extends Error {}

export function localPolicies(policies: readonly NetworkPolicy[]): Map<string, LocalPolicy[]> {
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

export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
