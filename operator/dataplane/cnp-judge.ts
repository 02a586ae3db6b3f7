// The conntrack cut's judge for a render with ClusterNetworkPolicy tiers: the same tier order the
// rules enforce (operator/cnp/evaluate.ts), so a revoked Accept, a new Deny or a NetworkPolicy
// change under a Pass cuts exactly the flows the tiered rules now refuse. Without tiers it is the
// NetworkPolicy judge.
import { TieredEvaluator } from '../cnp/evaluate.js';
import type { Protocol } from '../api/networkpolicy.js';
import { flowJudgeFromModel } from './conntrack-judge.js';
import type { FlowJudge, TrackedFlow } from './conntrack.js';
import type { NodeRender } from './render-node.js';

const protocols: Record<string, Protocol> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

export function flowJudgeOf(render: Pick<NodeRender, 'model' | 'cnp'>): FlowJudge {
  const cnp = render.cnp;
  if (!cnp || cnp.policies.length === 0) return flowJudgeFromModel(render.model);
  const evaluator = new TieredEvaluator(render.model, cnp);
  const local = new Set(render.model.pods.flatMap((p) => p.ips));
  return {
    concerns: (f: TrackedFlow): boolean => local.has(f.src) || local.has(f.dst),
    allows: (f: TrackedFlow): boolean => {
      const protocol = protocols[f.protocol];
      if (!protocol || f.dport === undefined) return true;
      return evaluator.allows({ src: f.src, dst: f.dst, protocol, port: f.dport });
    },
  };
}
