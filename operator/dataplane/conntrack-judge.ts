// The judge the conntrack cut uses: the node's allow model, through the same evaluator the
// render is checked against, so "denied" means exactly what the rules now in force deny.
import type { Protocol } from '../api/networkpolicy.js';
import { ModelEvaluator } from '../netpol/evaluate.js';
import type { NodeModel } from '../netpol/types.js';
import type { FlowJudge, TrackedFlow } from './conntrack.js';

const protocols: Record<string, Protocol> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

export function flowJudgeFromModel(model: NodeModel): FlowJudge {
  const evaluator = new ModelEvaluator(model);
  const local = new Set(model.pods.flatMap((p) => p.ips));
  return {
    // Only flows with a local pod at one end are this node's to judge; the rest is forwarded
    // traffic of other nodes or the node's own.
    concerns: (f: TrackedFlow): boolean => local.has(f.src) || local.has(f.dst),
    allows: (f: TrackedFlow): boolean => {
      const protocol = protocols[f.protocol];
      if (!protocol || f.dport === undefined) return true;
      return evaluator.allows({ src: f.src, dst: f.dst, protocol, port: f.dport });
    },
  };
}
