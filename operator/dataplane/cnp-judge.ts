// The conntrack cut's judge for a render with ClusterNetworkPolicy tiers: the same tier order the
// rules enforce (operator/cnp/evaluate.ts), so a revoked Accept, a new Deny or a NetworkPolicy
// change under a Pass cuts exactly the flows the tiered rules now refuse. Without tiers it is the
// NetworkPolicy judge.
import { TieredEvaluator } from '../cnp/evaluate.js';
import type { Protocol } from '../api/networkpolicy.js';
import { concernsNode, flowJudgeFromModel } from './conntrack-judge.js';
import type { FlowJudge, TrackedFlow } from './conntrack.js';
import type { NodeRender } from './render-node.js';

const protocols: Record<string, Protocol> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

/** `nodeAddresses`: the node's own addresses, whose flows are never judged (concernsNode). */
export function flowJudgeOf(
  render: Pick<NodeRender, 'model' | 'cnp'>,
  nodeAddresses: ReadonlySet<string> = new Set(),
): FlowJudge {
  const cnp = render.cnp;
  if (!cnp || cnp.policies.length === 0) return flowJudgeFromModel(render.model, nodeAddresses);
  const evaluator = new TieredEvaluator(render.model, cnp);
  return {
    concerns: concernsNode(render.model, nodeAddresses),
    allows: (f: TrackedFlow): boolean => {
      const protocol = protocols[f.protocol];
      if (!protocol || f.dport === undefined) return true;
      return evaluator.allows({ src: f.src, dst: f.dst, protocol, port: f.dport });
    },
  };
}
