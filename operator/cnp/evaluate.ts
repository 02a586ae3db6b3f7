// Answers "would this connection be allowed on this node?" from the node's NetworkPolicy model and
// its ClusterNetworkPolicy model together, in the tier order the API defines: per direction, the
// Admin tier (first matching rule decides; Pass skips to the next step), the NetworkPolicies (if
// they isolate the pod in that direction, final), the Baseline tier, the default (allow). The
// conntrack cut judges tracked flows with it, so "denied" means what the tiered rules now deny.
// It reads the models, so it is no oracle for them: the tests check it and the render against
// the independent one in test/support/cnp-oracle.ts.
import type {
  ClusterNetworkPolicyRuleAction,
  ClusterNetworkPolicyTier,
} from '../api/clusternetworkpolicy.js';
import { type Connection, ModelEvaluator, RuleMatcher } from '../netpol/evaluate.js';
import type { Direction, NodeModel } from '../netpol/types.js';
import { orderedRules } from './model.js';
import type { CnpNodeModel, CnpRuleModel } from './types.js';

export class TieredEvaluator {
  private readonly podKeyByIP = new Map<string, string>();
  /** One NetworkPolicy evaluator per direction, each blind to the other direction. */
  private readonly netpol: Record<Direction, ModelEvaluator>;
  private readonly npIsolated: Record<Direction, Set<string>>;
  private readonly matcher = new RuleMatcher();
  /** Rule lists per pod, tier and direction: the cut judges many flows of few pods. */
  private readonly rules = new Map<string, CnpRuleModel[]>();

  constructor(
    netpol: NodeModel,
    private readonly cnp: CnpNodeModel,
  ) {
    for (const pod of netpol.pods)
      for (const ip of pod.ips) this.podKeyByIP.set(ip, `${pod.namespace}/${pod.name}`);
    const only = (direction: Direction): NodeModel => ({
      ...netpol,
      pods: netpol.pods.map((p) => ({
        ...p,
        ingressPolicies: direction === 'ingress' ? p.ingressPolicies : [],
        egressPolicies: direction === 'egress' ? p.egressPolicies : [],
      })),
    });
    this.netpol = {
      ingress: new ModelEvaluator(only('ingress')),
      egress: new ModelEvaluator(only('egress')),
    };
    const isolated = (direction: Direction): Set<string> =>
      new Set(
        netpol.pods
          .filter((p) => (direction === 'ingress' ? p.ingressPolicies : p.egressPolicies).length > 0)
          .map((p) => `${p.namespace}/${p.name}`),
      );
    this.npIsolated = { ingress: isolated('ingress'), egress: isolated('egress') };
  }

  /** The source's egress and the destination's ingress, each where that end is a local pod. */
  allows(conn: Connection): boolean {
    const src = this.podKeyByIP.get(conn.src);
    const dst = this.podKeyByIP.get(conn.dst);
    if (src !== undefined && !this.directionAllows(src, 'egress', conn)) return false;
    if (dst !== undefined && !this.directionAllows(dst, 'ingress', conn)) return false;
    return true;
  }

  private directionAllows(podKey: string, direction: Direction, conn: Connection): boolean {
    const admin = this.tier(podKey, 'Admin', direction, conn);
    if (admin === 'Accept') return true;
    if (admin === 'Deny') return false;
    if (this.npIsolated[direction].has(podKey)) return this.netpol[direction].allows(conn);
    return this.tier(podKey, 'Baseline', direction, conn) !== 'Deny';
  }

  /** The action of the first matching rule of the tier, or undefined (no rule matched). */
  private tier(
    podKey: string,
    tier: ClusterNetworkPolicyTier,
    direction: Direction,
    conn: Connection,
  ): ClusterNetworkPolicyRuleAction | undefined {
    const key = `${podKey}|${tier}|${direction}`;
    let rules = this.rules.get(key);
    if (!rules)
      this.rules.set(key, (rules = orderedRules(this.cnp, podKey, tier, direction).map((r) => r.rule)));
    for (const rule of rules) if (this.matcher.matches(rule, direction, conn)) return rule.action;
    return undefined;
  }
}
