// Answers "would this connection be allowed on this node?" straight from the model, with the
// NetworkPolicy semantics and nothing of iptables: the conntrack judge (dataplane/conntrack-judge)
// uses it to decide which tracked flows the rules now deny. It reads the model, so it is no
// oracle for the model: the tests check it, the model and the render against the independent
// one in test/support/netpol-oracle.ts.
import type { Protocol } from '../api/networkpolicy.js';
import { blockContainsIP, parseCidrBlock, type ParsedBlock } from './ip-blocks.js';
import { portInRange } from './ports.js';
import type { Direction, LocalPodModel, NodeModel, PolicyModel, RuleModel } from './types.js';
import { objectKey } from './types.js';

export interface Connection {
  src: string;
  dst: string;
  protocol: Protocol;
  port: number;
}

/**
 * Does one model rule match a connection, seen from `direction` (its peers and ports, named ports
 * included)? Shared by the NetworkPolicy evaluator below and the tiered one (operator/cnp/),
 * whose rules are the same RuleModel; each rule's ipBlocks are parsed once.
 */
export class RuleMatcher {
  private readonly blocks = new WeakMap<RuleModel, ParsedBlock[]>();

  matches(rule: RuleModel, direction: Direction, conn: Connection): boolean {
    const peer = direction === 'ingress' ? conn.src : conn.dst;
    const peerMatches =
      rule.peers.any ||
      rule.peers.podIPs.includes(peer) ||
      this.parsedBlocks(rule).some((b) => blockContainsIP(b, peer));
    if (peerMatches && (rule.anyPort || rule.ports.some((r) => portInRange(r, conn.protocol, conn.port))))
      return true;
    return rule.named.some(
      (g) =>
        g.protocol === conn.protocol &&
        g.port === conn.port &&
        g.podIPs.includes(conn.dst) &&
        // Ingress groups hold the local destinations, so the peer must still match; egress
        // groups hold peer pods already.
        (direction === 'egress' || peerMatches),
    );
  }

  private parsedBlocks(rule: RuleModel): ParsedBlock[] {
    let hit = this.blocks.get(rule);
    if (!hit) this.blocks.set(rule, (hit = rule.peers.blocks.map(parseCidrBlock)));
    return hit;
  }
}

export class ModelEvaluator {
  private readonly podsByIP = new Map<string, LocalPodModel>();
  private readonly policies = new Map<string, PolicyModel>();
  private readonly rules = new RuleMatcher();

  constructor(model: NodeModel) {
    for (const pod of model.pods) for (const ip of pod.ips) this.podsByIP.set(ip, pod);
    for (const p of model.policies) this.policies.set(objectKey(p.namespace, p.name), p);
  }

  /**
   * A connection needs the source pod's egress (if the source is a local pod isolated for
   * egress) and the destination pod's ingress (if the destination is a local, ingress-isolated
   * pod) to allow it. Ends that are not local pods of this node are not checked here.
   */
  allows(conn: Connection): boolean {
    const src = this.podsByIP.get(conn.src);
    const dst = this.podsByIP.get(conn.dst);
    if (src && !this.directionAllows(src.egressPolicies, 'egress', conn)) return false;
    if (dst && !this.directionAllows(dst.ingressPolicies, 'ingress', conn)) return false;
    return true;
  }

  private directionAllows(policyKeys: readonly string[], direction: Direction, conn: Connection): boolean {
    if (policyKeys.length === 0) return true;
    return policyKeys.some((key) => {
      const policy = this.policies.get(key);
      const rules = direction === 'ingress' ? policy?.ingress : policy?.egress;
      return (rules ?? []).some((rule) => this.rules.matches(rule, direction, conn));
    });
  }
}
