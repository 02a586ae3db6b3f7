// The whole pure pipeline for one node: cluster objects -> allow model -> Ruleset + summary.
// The agent calls it on every sync (it matches operator/agent/ports.ts RenderNode) and
// `softtenant render` calls it on a snapshot file, so both program exactly the same thing.
import { buildNodeModel } from '../netpol/model.js';
import type { PolicyError } from '../api/nodeenforcement.js';
import type { ClusterObjects, NodeModel } from '../netpol/types.js';
import { countIpsetEntries, countRules, renderRuleset } from './render.js';
import type { FamilyCounts, Ruleset, RulesetSummary } from './types.js';
import type { CnpNodeModel } from '../cnp/types.js';
import { withClusterNetworkPolicies } from './cnp-render.js';

/** What a node must program, and how it was computed: the one result of every render. */
export interface NodeRender {
  model: NodeModel;
  /** IPv4: for iptables-restore, `family inet` sets. */
  ruleset: Ruleset;
  /** IPv6, from the same model: for ip6tables-restore, `family inet6` sets; same chains and hook. */
  ruleset6: Ruleset;
  summary: RulesetSummary;
  /** Policy parts that could not be programmed (they allow nothing); see buildNodeModel. */
  problems: PolicyError[];
  /** 'full': from scratch; 'pods': from the previous render, by pod changes only. */
  mode: 'full' | 'pods';
  /** Why a render of the agent's renderer was full (first render, asked for, what 'pods' cannot do). */
  fullReason?: string;
  /** The ClusterNetworkPolicy model, when the cluster has any (cnp-render.ts added its tiers). */
  cnp?: CnpNodeModel;
}

function familyCounts(ruleset: Ruleset): FamilyCounts {
  return {
    chains: ruleset.chains.length,
    rules: countRules(ruleset),
    ipsetEntries: countIpsetEntries(ruleset),
  };
}

/** Counts of both rulesets (totals and per family), and the policies they program. */
export function summarizeRuleset(ruleset: Ruleset, ruleset6: Ruleset, model: NodeModel): RulesetSummary {
  const ipv4 = familyCounts(ruleset);
  const ipv6 = familyCounts(ruleset6);
  return {
    chains: ipv4.chains + ipv6.chains,
    rules: ipv4.rules + ipv6.rules,
    ipsetEntries: ipv4.ipsetEntries + ipv6.ipsetEntries,
    families: { ipv4, ipv6 },
    policies: model.policies.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      ...(p.uid !== undefined ? { uid: p.uid } : {}),
      ...(p.generation !== undefined ? { generation: p.generation } : {}),
    })),
  };
}

/** Renders what `node` must program for the given cluster state. Pure. */
export function renderNode(objects: ClusterObjects, node: string): NodeRender {
  const model = buildNodeModel({
    node,
    namespaces: objects.namespaces,
    pods: objects.pods,
    policies: objects.policies,
  });
  const ruleset = renderRuleset(model, 4);
  const ruleset6 = renderRuleset(model, 6);
  const render: NodeRender = {
    model,
    ruleset,
    ruleset6,
    summary: summarizeRuleset(ruleset, ruleset6, model),
    problems: model.problems,
    mode: 'full',
  };
  return withClusterNetworkPolicies(render, objects, node);
}
