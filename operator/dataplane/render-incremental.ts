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
import type { Pod } from '../api/networkpolicy.js';
import { namespaceLabelsOf, type SelectorPeer } from '../netpol/cluster-index.js';
import { parseIPv4 } from '../net/address.js';
import { buildNodeModel } from '../netpol/model.js';
import { isEnforceablePod, namedPorts, podIPs } from '../netpol/pods.js';
import type { Labels } from '../netpol/selector.js';
import { objectKey } from '../netpol/types.js';
import {
  indexResult,
  localPolicies,
  NotIncremental,
  ruleId,
  type NamedPortRule,
  type PodFacts,
  type State,
} from './incremental-state.js';
import { podChanges } from './pod-changes.js';
import { PodDelta } from './pod-delta.js';
import { renderRuleset } from './render.js';
import type { ClusterObjects } from '../netpol/types.js';
import { summarizeRuleset, type NodeRenderResult } from './render-node.js';

const MAX_POD_CHANGES = 64;

export interface IncrementalRenderResult extends NodeRenderResult {
  mode: 'full' | 'pods';
  /** Why the last render was full (first render, asked for, or what the fast path cannot do). */
  fullReason?: string;
}

function sameMembers<T>(set: ReadonlySet<T>, list: readonly T[]): boolean {
  return set.size === list.length && list.every((x) => set.has(x));
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
    const ruleset = renderRuleset(model);
    const result: NodeRenderResult = {
      model,
      ruleset,
      summary: summarizeRuleset(ruleset, model),
      problems: model.problems,
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
