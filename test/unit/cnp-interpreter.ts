// The per-node models walked across the cluster, for the tests: each node's NetworkPolicy model
// (operator/netpol) and ClusterNetworkPolicy model (operator/cnp), built straight from the API
// objects, are judged by the tiered evaluator the conntrack cut uses (Admin, NetworkPolicies,
// Baseline, allow); a connection needs every node on its path to allow it (the source's node its
// egress, the destination's node its ingress). Checked against the independent oracle
// (test/support/cnp-oracle.ts); it reads only the models, never the API objects' rules.
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { Namespace, NetworkPolicy, Pod, Protocol } from '../../operator/api/networkpolicy.js';
import { TieredEvaluator } from '../../operator/cnp/evaluate.js';
import { buildCnpNodeModel } from '../../operator/cnp/model.js';
import type { CnpNodeModel } from '../../operator/cnp/types.js';
import { buildNodeModel } from '../../operator/netpol/model.js';

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

export class ModelInterpreter {
  private readonly cnp = new Map<string, CnpNodeModel>();
  private readonly evaluators = new Map<string, TieredEvaluator>();
  private readonly podNode = new Map<string, string>();

  constructor(cluster: Cluster, nodes: readonly string[]) {
    for (const node of nodes) {
      const cnp = buildCnpNodeModel({ ...cluster, node });
      const np = buildNodeModel({
        namespaces: cluster.namespaces,
        pods: cluster.pods,
        policies: cluster.policies,
        node,
      });
      this.cnp.set(node, cnp);
      this.evaluators.set(node, new TieredEvaluator(np, cnp));
      for (const pod of np.pods) for (const ip of pod.ips) this.podNode.set(ip, node);
    }
  }

  model(node: string): CnpNodeModel {
    return this.cnp.get(node) as CnpNodeModel;
  }

  allows(conn: Conn): boolean {
    const path = new Set([this.podNode.get(conn.src), this.podNode.get(conn.dst)]);
    for (const node of path) if (node !== undefined && !this.evaluators.get(node)?.allows(conn)) return false;
    return true;
  }
}
