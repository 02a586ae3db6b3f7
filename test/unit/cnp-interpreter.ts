// A tiny interpreter of the per-node models, for the tests: it walks the rule lists that
// operator/cnp builds for a pod (Admin, then the NetworkPolicy model of operator/netpol, then
// Baseline, then allow), as the render's chains will. Checked against the independent oracle
// (test/support/cnp-oracle.ts); it reads only the models, never the API objects.
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { Namespace, NetworkPolicy, Pod, Protocol } from '../../operator/api/networkpolicy.js';
import { buildCnpNodeModel, orderedRules } from '../../operator/cnp/model.js';
import type { CnpNodeModel, CnpRuleModel, Direction } from '../../operator/cnp/types.js';
import { cidrContains, parseCidr, parseIP } from '../../operator/net/address.js';
import { ModelEvaluator } from '../../operator/netpol/evaluate.js';
import { buildNodeModel } from '../../operator/netpol/model.js';
import { portInRange } from '../../operator/netpol/ports.js';
import type { NodeModel } from '../../operator/netpol/types.js';

export interface Cluster {
  namespaces: Namespace[];
  pods: Pod[];
  policies: NetworkPolicy[];
  clusterNetworkPolicies: ClusterNetworkPolicy[];
}

export interface Conn {
  src: string;
  dst: string;
  protocol: Protocol;
  port: number;
}

function inBlock(cidr: string, ip: string): boolean {
  const addr = parseIP(ip);
  if (!addr) return false;
  const c = parseCidr(cidr);
  if (c.family !== addr.family) return false;
  return cidrContains(c, parseCidr(`${ip}/${addr.family === 4 ? 32 : 128}`));
}

/** Does a model rule match the connection (peer and port), seen from `direction`? */
export function ruleMatches(rule: CnpRuleModel, direction: Direction, conn: Conn): boolean {
  const peer = direction === 'ingress' ? conn.src : conn.dst;
  const peerHit =
    rule.peers.any ||
    rule.peers.podIPs.includes(peer) ||
    rule.peers.blocks.some((b) => inBlock(b.cidr, peer));
  if (peerHit && (rule.anyPort || rule.ports.some((r) => portInRange(r, conn.protocol, conn.port))))
    return true;
  return rule.named.some(
    (g) =>
      g.protocol === conn.protocol &&
      g.port === conn.port &&
      g.podIPs.includes(conn.dst) &&
      (direction === 'egress' || peerHit),
  );
}

export class ModelInterpreter {
  private readonly cnp = new Map<string, CnpNodeModel>();
  private readonly np = new Map<string, NodeModel>();
  private readonly podNode = new Map<string, { node: string; key: string }>();
  private readonly evaluators = new Map<string, ModelEvaluator>();

  constructor(cluster: Cluster, nodes: readonly string[]) {
    for (const node of nodes) {
      this.cnp.set(node, buildCnpNodeModel({ ...cluster, node }));
      const np = buildNodeModel({
        namespaces: cluster.namespaces,
        pods: cluster.pods,
        policies: cluster.policies,
        node,
      });
      this.np.set(node, np);
      for (const pod of np.pods)
        for (const ip of pod.ips) this.podNode.set(ip, { node, key: `${pod.namespace}/${pod.name}` });
    }
  }

  model(node: string): CnpNodeModel {
    return this.cnp.get(node) as CnpNodeModel;
  }

  allows(conn: Conn): boolean {
    const src = this.podNode.get(conn.src);
    const dst = this.podNode.get(conn.dst);
    if (src && !this.direction(src.node, src.key, 'egress', conn)) return false;
    if (dst && !this.direction(dst.node, dst.key, 'ingress', conn)) return false;
    return true;
  }

  private tier(node: string, key: string, tier: 'Admin' | 'Baseline', direction: Direction, conn: Conn) {
    for (const { rule } of orderedRules(this.model(node), key, tier, direction))
      if (ruleMatches(rule, direction, conn)) return rule.action;
    return undefined;
  }

  private direction(node: string, key: string, direction: Direction, conn: Conn): boolean {
    const admin = this.tier(node, key, 'Admin', direction, conn);
    if (admin === 'Accept') return true;
    if (admin === 'Deny') return false;
    const np = this.np.get(node) as NodeModel;
    const pod = np.pods.find((p) => `${p.namespace}/${p.name}` === key);
    const isolating = pod ? (direction === 'ingress' ? pod.ingressPolicies : pod.egressPolicies) : [];
    if (pod && isolating.length > 0) {
      // The NetworkPolicy model's own evaluator, given only this pod and this direction.
      const only = {
        ...pod,
        ingressPolicies: direction === 'ingress' ? pod.ingressPolicies : [],
        egressPolicies: direction === 'egress' ? pod.egressPolicies : [],
      };
      const memo = `${node} ${key} ${direction}`;
      let evaluator = this.evaluators.get(memo);
      if (!evaluator) this.evaluators.set(memo, (evaluator = new ModelEvaluator({ ...np, pods: [only] })));
      return evaluator.allows(conn);
    }
    return this.tier(node, key, 'Baseline', direction, conn) !== 'Deny';
  }
}
