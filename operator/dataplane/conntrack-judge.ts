// The judge the conntrack cut uses: the node's allow model, through the same evaluator the
// render is checked against, so "denied" means exactly what the rules now in force deny.
import type { Protocol } from '../api/networkpolicy.js';
import { ModelEvaluator } from '../netpol/evaluate.js';
import type { NodeModel } from '../netpol/types.js';
import type { FlowJudge, TrackedFlow } from './conntrack.js';

const protocols: Record<string, Protocol> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

/**
 * Which flows are this node's rules' to judge: those with a local pod at one end, except the
 * ones with one of the node's own addresses at either end (the bridge's address, the node's
 * interfaces: kubelet probes, host-network pods). Those leave through OUTPUT or arrive through
 * INPUT, never FORWARD where the rules are, and NetworkPolicy leaves node-to-local-pod traffic
 * allowed; cutting them would break probes without any policy asking for it. The rest is
 * forwarded traffic of other nodes.
 */
export function concernsNode(
  model: Pick<NodeModel, 'pods'>,
  nodeAddresses: ReadonlySet<string>,
): (f: TrackedFlow) => boolean {
  const local = new Set(model.pods.flatMap((p) => p.ips));
  return (f) =>
    (local.has(f.src) || local.has(f.dst)) && !nodeAddresses.has(f.src) && !nodeAddresses.has(f.dst);
}

export function flowJudgeFromModel(
  model: NodeModel,
  nodeAddresses: ReadonlySet<string> = new Set(),
): FlowJudge {
  const evaluator = new ModelEvaluator(model);
  return {
    concerns: concernsNode(model, nodeAddresses),
    allows: (f: TrackedFlow): boolean => {
      const protocol = protocols[f.protocol];
      if (!protocol || f.dport === undefined) return true;
      return evaluator.allows({ src: f.src, dst: f.dst, protocol, port: f.dport });
    },
  };
}
