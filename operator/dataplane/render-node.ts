// The whole pure pipeline for one node: cluster objects -> allow model -> Ruleset + summary.
// The agent calls it on every sync (it matches operator/agent/ports.ts RenderNode) and
// `softtenant render` calls it on a snapshot file, so both program exactly the same thing.
import type { PolicyError } from '../api/nodeenforcement.js';
import { buildNodeModel } from '../netpol/model.js';
import type { ClusterObjects, NodeModel } from '../netpol/types.js';
import { countIpsetEntries, countRules, renderRuleset } from './render.js';
import type { Ruleset, RulesetSummary } from './types.js';

export interface NodeRenderResult {
  model: NodeModel;
  ruleset: Ruleset;
  summary: RulesetSummary;
  /** Policy parts that could not be programmed (they allow nothing); see buildNodeModel. */
  problems: PolicyError[];
}

export function summarizeRuleset(ruleset: Ruleset, model: NodeModel): RulesetSummary {
  return {
    chains: ruleset.chains.length,
    rules: countRules(ruleset),
    ipsetEntries: countIpsetEntries(ruleset),
    policies: model.policies.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      ...(p.uid !== undefined ? { uid: p.uid } : {}),
      ...(p.generation !== undefined ? { generation: p.generation } : {}),
    })),
  };
}

/** Renders what `node` must program for the given cluster state. Pure. */
export function renderNode(objects: ClusterObjects, node: string): NodeRenderResult {
  const model = buildNodeModel({
    node,
    namespaces: objects.namespaces,
    pods: objects.pods,
    policies: objects.policies,
  });
  const ruleset = renderRuleset(model);
  return { model, ruleset, summary: summarizeRuleset(ruleset, model), problems: model.problems };
}
