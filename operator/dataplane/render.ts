// Render: the per-node allow model -> a Ruleset (ipsets, filter-table chains, hooks). Pure and
// deterministic: sorted, hashed names, no timestamps.
//
// One model, two rulesets: IPv4 for iptables-restore and IPv6 for ip6tables-restore, with the
// same chains, rules and hook; only the addresses in the sets (each family's own, `family inet`
// or `inet6`), the set names and the REJECT type differ. A peer of one family (an IPv6 ipBlock,
// an IPv6-only pod) has entries in that family's sets only, so it allows nothing in the other.
//
// Packet path (filter table, each family):
//
//   FORWARD --hook--> STN-FORWARD
//     1. RELATED,ESTABLISHED -> RETURN (replies and the rest of allowed connections, and the
//        ICMP/ICMPv6 errors about them: destination unreachable, packet too big, time exceeded,
//        parameter problem, which path MTU discovery and connection setup rely on)
//     2. source in stn-e-G  -> STN-E-G   (once per group G of local pods that the same policies
//                                         isolate for egress)
//     3. dest in stn-i-G    -> STN-I-G   (same for ingress)
//        IPv6 only: rules 2 and 3 leave out neighbour solicitation and advertisement (ICMPv6
//        135, 136, hop limit 255), which never enter isolation (see NEIGHBOUR_DISCOVERY_EXEMPT)
//   STN-E-G / STN-I-G: INVALID -> DROP; clear ALLOW_MARK; jump to the first policy chain, and
//     to each next one only while the mark is clear; then `mark set -> goto STN-PASS` (clears
//     the mark and returns to STN-FORWARD); otherwise REJECT (tcp-reset for TCP,
//     icmp-port-unreachable for the rest). A policy chain with no rule in the family (a
//     default-deny policy) allows nothing, so it is not jumped to.
//   STN-PI-P / STN-PE-P: one rule per (peer set x port) of policy P; a match does
//     `goto STN-MARK`, which sets ALLOW_MARK and returns to the group chain.
//
// Why RETURN and never ACCEPT: an allowed packet goes back to FORWARD and meets whatever else is
// there (the CNI's rules, a host firewall, the chain policy). The agent only ever narrows what
// the node forwards; it must not widen what another tool denies. Same-node traffic passes steps
// 2 and 3 in one traversal, so the source's egress AND the destination's ingress are both
// checked: an egress allow returns to STN-FORWARD and the ingress dispatch still runs.
//
// Bridged same-node traffic (br_netfilter) and routed cross-node traffic both traverse FORWARD
// exactly once per node, and every check here is by address, so one hook covers both paths and
// no rule needs `physdev --physdev-is-bridged` to tell them apart.
// Traffic the node itself sends to its pods (kubelet probes) leaves through OUTPUT and pod
// replies to it arrive through INPUT; neither is hooked, so it stays allowed, as the
// NetworkPolicy API requires for the pod's own node.
//
// Peers are matched through ipsets, so the number of rules depends on policies x rules x ports
// and never on the number of pods; pods joining or leaving a peer set change set entries only.
// Local pods are dispatched the same way: pods that exactly the same policies isolate share one
// chain, found through a hash:ip set of their IPs, instead of one `-s podIP` jump per pod. That
// keeps STN-FORWARD short (per-packet cost is a few set lookups, not a scan of two rules per local
// pod), and a pod starting or stopping next to pods like it changes set entries and no chain.
// INVALID packets are dropped only in those chains, i.e. only for isolated pods' traffic.
import { sortAddresses, type Family } from '../net/address.js';
import { parseCidrBlock } from '../netpol/ip-blocks.js';
import {
  objectKey,
  type CidrBlock,
  type Direction,
  type NamedPortGroup,
  type NodeModel,
  type PolicyModel,
  type PortRange,
  type RuleModel,
} from '../netpol/types.js';
import { blockSetEntries } from './ip-block-sets.js';
import {
  ALLOW_MARK_HEX,
  HOOK_COMMENT_PREFIX,
  MARK_CHAIN,
  PASS_CHAIN,
  TOP_CHAIN,
  commentText,
  podGroupNames,
  policyChainName,
  peerSetName,
} from './names.js';
import type { HookSpec, IpsetSpec, IpsetType, Ruleset } from './types.js';

/** The single hook: FORWARD -> STN-FORWARD, first in FORWARD (apply inserts it idempotently). */
export const FORWARD_HOOK: HookSpec = {
  builtin: 'FORWARD',
  rule: `-m comment --comment "${HOOK_COMMENT_PREFIX} NetworkPolicy enforcement for pods" -j ${TOP_CHAIN}`,
};

const rejectRules: Record<Family, readonly string[]> = {
  4: ['-p tcp -j REJECT --reject-with tcp-reset', '-j REJECT --reject-with icmp-port-unreachable'],
  6: ['-p tcp -j REJECT --reject-with tcp-reset', '-j REJECT --reject-with icmp6-port-unreachable'],
};

/**
 * IPv6 needs neighbour discovery to reach anyone on a link: neighbour solicitation and
 * advertisement (135, 136) are its ARP. Conntrack does not track them (never ESTABLISHED), and
 * on the bridge of a node they cross FORWARD between pods with the pods' own addresses, so
 * isolation would break every IPv6 connection of an isolated pod, allowed ones included. They
 * never enter isolation, but only with hop limit 255, which a sender sets and every router
 * decrements: such a packet cannot have been routed, it comes from the same link (receivers drop
 * ND with any other hop limit, RFC 4861).
 * Router solicitation and advertisement (133, 134) are not exempt: a host sends them from its
 * link-local address (RFC 4861 requires it of an advertisement), which is in no pod set, so they
 * never meet isolation; with a pod's own address they can only be forged, and a pod is no
 * router for another pod (its router is the node, whose own messages go through INPUT and
 * OUTPUT). Redirect (137) is not either: the node sends it (OUTPUT). ICMPv6 errors pass as
 * RELATED in rule 1, like ICMP errors for IPv4.
 *
 * The exemption is a condition of each IPv6 dispatch rule (group sets -> isolation chains), not
 * rules of its own: `u32` reads the fixed IPv6 header (byte 6 next header = 58 ICMPv6, byte 7
 * hop limit = 255) and the first byte after it (ICMPv6 type 135 or 136). So the IPv6 ruleset
 * has exactly the IPv4 ruleset's rules, a packet that enters no isolation tests nothing extra,
 * and one with extension headers before the ICMPv6 header (which real ND does not carry) is
 * isolated like any other. Written as iptables-save prints it, so a resync sees no drift.
 */
export const NEIGHBOUR_DISCOVERY_EXEMPT =
  '-m u32 ! --u32 "0x6>>0x18=0x3a&&0x7>>0x18=0xff&&0x28>>0x18=0x87:0x88"';

/**
 * The rule in STN-FORWARD that sends a packet of a pod group (its addresses in `ipset`) to the
 * group's chain: by destination for ingress, by source for egress. Used for NetworkPolicy groups
 * and ClusterNetworkPolicy tiered groups alike.
 */
export function dispatchRule(direction: Direction, ipset: string, chain: string, family: Family): string {
  const exempt = family === 6 ? ` ${NEIGHBOUR_DISCOVERY_EXEMPT}` : '';
  return `-m set --match-set ${ipset} ${direction === 'ingress' ? 'dst' : 'src'}${exempt} -j ${chain}`;
}

/** `-p tcp -m tcp --dport 80[:90]`, or `-p udp` for every port of a protocol. */
export function portMatch(range: PortRange): string {
  const p = range.protocol.toLowerCase();
  if (range.port === undefined) return `-p ${p}`;
  const ports = range.endPort !== undefined ? `${range.port}:${range.endPort}` : String(range.port);
  return `-p ${p} -m ${p} --dport ${ports}`;
}

/**
 * The entries of one family from a model address list (model IPs are validated, so ':' tells
 * IPv6). Model lists are in address order with IPv4 first, so the result is sorted too.
 */
export function ofFamily(ips: readonly string[], family: Family): string[] {
  const v6 = family === 6;
  let mixed = false;
  for (const ip of ips) if (ip.includes(':') !== v6) mixed = true;
  return mixed ? ips.filter((ip) => ip.includes(':') === v6) : [...ips];
}

/** Addresses in address order, each once (set entries are sorted, so a pod joining is one insert). */
export function byAddress(ips: string[]): string[] {
  return sortAddresses(ips);
}

/** push(...items) without the argument-count limit that large spreads hit. */
function appendAll(target: string[], items: readonly string[]): void {
  for (const item of items) target.push(item);
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

/**
 * Where a rule's peer sets go: the ruleset being built here, or the tiers cnp-render.ts adds to
 * one. A set's name stands for its identity, so adding the same identity twice is one set.
 */
export interface PeerSets {
  readonly family: Family;
  addSet(kind: 'p' | 'n' | 'd', identity: string, type: IpsetType, entries: () => string[]): string;
  /** hash:net entries for a rule's ipBlocks, one list per set. */
  blockSets(blocks: readonly CidrBlock[]): string[][];
}

class RulesetBuilder implements PeerSets {
  constructor(readonly family: Family) {}

  private readonly sets = new Map<string, IpsetSpec>();
  private readonly chains = new Map<string, string[]>();
  private readonly blockEntries = new Map<string, string[][]>();

  /** hash:net entries for a rule's ipBlocks; many policies repeat the same blocks, so cached. */
  blockSets(blocks: readonly CidrBlock[]): string[][] {
    const key = blocks.map((b) => [b.cidr, ...b.except].join(' ')).join(',');
    let hit = this.blockEntries.get(key);
    if (!hit) this.blockEntries.set(key, (hit = blockSetEntries(blocks.map(parseCidrBlock), this.family)));
    return hit;
  }

  private readonly setNames = new Map<string, string>();
  private readonly policyJumps = new Map<string, string>();

  /**
   * Adds a set once and returns its name: set names stand for their identity, so a second add of
   * the same identity is the same set (and its name is not hashed again).
   */
  addSet(kind: 'p' | 'n' | 'd', identity: string, type: IpsetType, entries: () => string[]): string {
    const id = `${kind}|${identity}`;
    let name = this.setNames.get(id);
    if (name === undefined) {
      this.setNames.set(id, (name = peerSetName(kind, identity, this.family)));
      this.putSet(name, type, entries());
    }
    return name;
  }

  putSet(name: string, type: IpsetType, entries: string[]): void {
    this.sets.set(name, { name, type, entries });
  }

  /** The rule a pod-group chain uses to call a policy's chain (hashed once per policy). */
  policyJump(direction: Direction, policyKey: string): string {
    const id = `${direction} ${policyKey}`;
    let rule = this.policyJumps.get(id);
    if (rule === undefined) {
      this.policyJumps.set(
        id,
        (rule = `-m comment --comment "${commentText(id)}" -j ${policyChainName(direction, policyKey)}`),
      );
    }
    return rule;
  }

  chain(name: string): string[] {
    let rules = this.chains.get(name);
    if (!rules) this.chains.set(name, (rules = []));
    return rules;
  }

  build(hooks: HookSpec[]): Ruleset {
    const fixed = [TOP_CHAIN, MARK_CHAIN, PASS_CHAIN];
    const names = [...this.chains.keys()];
    const ordered = [
      ...fixed.filter((n) => this.chains.has(n)),
      ...names.filter((n) => !fixed.includes(n)).sort(),
    ];
    return {
      family: this.family,
      ipsets: [...this.sets.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
      chains: ordered.map((name) => ({ name, rules: this.chains.get(name) as string[] })),
      hooks,
    };
  }
}

/** Address matches for a rule's peers (`-m set --match-set NAME src|dst`); [''] = any address. */
function peerMatches(b: PeerSets, direction: Direction, rule: RuleModel): string[] {
  if (rule.peers.any) return [''];
  const flag = direction === 'ingress' ? 'src' : 'dst';
  const out: string[] = [];
  if (rule.peers.podPeersKey !== '') {
    const name = b.addSet('p', rule.peers.podPeersKey, 'hash:ip', () =>
      ofFamily(rule.peers.podIPs, b.family),
    );
    out.push(`-m set --match-set ${name} ${flag}`);
  }
  for (const entries of b.blockSets(rule.peers.blocks)) {
    const name = b.addSet('n', entries.join(','), 'hash:net', () => entries);
    out.push(`-m set --match-set ${name} ${flag}`);
  }
  return out;
}

/**
 * What a named-port group's set stands for. Ingress: the policy's own local pods that resolve the
 * port. Egress: the rule's peers (which already filter the group) and the resolved port.
 */
export function namedGroupIdentity(
  direction: Direction,
  policyKey: string,
  rule: RuleModel,
  g: NamedPortGroup,
): string {
  const port = `${g.protocol}/${g.name}/${g.port}`;
  if (direction === 'ingress') return `ingress|${policyKey}|${port}`;
  const blocks = rule.peers.blocks.map((b) => [b.cidr, ...b.except].join(' ')).join(',');
  return `egress|${rule.peers.any}|${rule.peers.podPeersKey}|${blocks}|${port}`;
}

/**
 * The iptables rules of one model rule, each ending in `target`: one per (port x peer set), then
 * the named-port groups. The NetworkPolicy chains pass the allow (goto STN-MARK); the
 * ClusterNetworkPolicy chains (cnp-render.ts) pass the rule's action. Appended to `out`.
 */
export function ruleRules(
  b: PeerSets,
  direction: Direction,
  policyKey: string,
  rule: RuleModel,
  target: string,
  out: string[] = [],
): string[] {
  const ports = rule.anyPort ? [''] : rule.ports.map(portMatch);
  // Egress named-port groups already hold the peers; a rule with nothing else needs no peer sets.
  const usesPeers = ports.length > 0 || (direction === 'ingress' && rule.named.length > 0);
  const peers = usesPeers ? peerMatches(b, direction, rule) : [];
  for (const port of ports) for (const peer of peers) out.push(join(port, peer, target));
  for (const g of rule.named) {
    // Ingress peers of only the other family (an IPv6-only ipBlock in the IPv4 ruleset):
    // nothing to allow in this family, and no set to make.
    if (direction === 'ingress' && peers.length === 0) continue;
    const set = b.addSet('d', namedGroupIdentity(direction, policyKey, rule, g), 'hash:ip', () =>
      ofFamily(g.podIPs, b.family),
    );
    const port = portMatch({ protocol: g.protocol, port: g.port });
    const dst = `-m set --match-set ${set} dst`;
    // Ingress: the port is the destination (local) pod's, the peer is still the rule's peer.
    // Egress: the group already holds only peer pods that declare the port.
    if (direction === 'ingress') for (const peer of peers) out.push(join(port, peer, dst, target));
    else out.push(join(port, dst, target));
  }
  return out;
}

function policyRules(b: RulesetBuilder, policy: PolicyModel, direction: Direction): string[] {
  const key = objectKey(policy.namespace, policy.name);
  const out: string[] = [];
  for (const rule of direction === 'ingress' ? policy.ingress : policy.egress)
    ruleRules(b, direction, key, rule, `-g ${MARK_CHAIN}`, out);
  return out;
}

/** Groups local pods by the exact list of policies isolating them in a direction. */
export function podGroups(
  model: NodeModel,
  direction: Direction,
  family: Family,
): Map<string, { policies: string[]; ips: string[] }> {
  const groups = new Map<string, { policies: string[]; ips: string[] }>();
  for (const pod of model.pods) {
    const policies = direction === 'ingress' ? pod.ingressPolicies : pod.egressPolicies;
    if (policies.length === 0) continue;
    const id = policies.join('\n');
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { policies, ips: [] }));
    for (const ip of pod.ips) if (ip.includes(':') === (family === 6)) g.ips.push(ip);
  }
  return groups;
}

/**
 * Renders one family's ruleset for one node. Chains exist only for policies that select a local
 * pod (the model holds no others); sets and chains are sorted by name, rules are in evaluation
 * order. Both families get every chain and set, so the two rulesets have the same shape (a set
 * with no address of a family is empty in that family's ruleset).
 */
export function renderRuleset(model: NodeModel, family: Family = 4): Ruleset {
  const b = new RulesetBuilder(family);
  /** "direction policyKey" of the policy chains that have a rule: only those can allow. */
  const allowing = new Set<string>();
  const top = b.chain(TOP_CHAIN);
  top.push('-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN');
  b.chain(MARK_CHAIN).push(`-j MARK --set-xmark ${ALLOW_MARK_HEX}/${ALLOW_MARK_HEX}`);
  b.chain(PASS_CHAIN).push(`-j MARK --set-xmark 0x0/${ALLOW_MARK_HEX}`);

  for (const policy of model.policies) {
    const key = objectKey(policy.namespace, policy.name);
    for (const direction of ['ingress', 'egress'] as const) {
      if (!(direction === 'ingress' ? policy.isolatesIngress : policy.isolatesEgress)) continue;
      const rules = policyRules(b, policy, direction);
      appendAll(b.chain(policyChainName(direction, key)), rules);
      if (rules.length > 0) allowing.add(`${direction} ${key}`);
    }
  }

  // Egress dispatch first: a packet between two local pods is checked against its source's
  // egress, then (if that allowed it) against its destination's ingress.
  for (const direction of ['egress', 'ingress'] as const) {
    const dispatch: string[] = [];
    for (const group of podGroups(model, direction, family).values()) {
      const names = podGroupNames(direction, group.policies, family);
      b.putSet(names.ipset, 'hash:ip', byAddress([...new Set(group.ips)]));
      dispatch.push(dispatchRule(direction, names.ipset, names.chain, family));
      const rules = b.chain(names.chain);
      rules.push('-m conntrack --ctstate INVALID -j DROP', `-j MARK --set-xmark 0x0/${ALLOW_MARK_HEX}`);
      // Once one policy allowed, the later ones are skipped: one mark test per jump, one exit.
      const jumps = group.policies.filter((policyKey) => allowing.has(`${direction} ${policyKey}`));
      jumps.forEach((policyKey, i) => {
        const jump = b.policyJump(direction, policyKey);
        rules.push(i === 0 ? jump : `-m mark --mark 0x0/${ALLOW_MARK_HEX} ${jump}`);
      });
      if (jumps.length > 0) rules.push(`-m mark --mark ${ALLOW_MARK_HEX}/${ALLOW_MARK_HEX} -g ${PASS_CHAIN}`);
      rules.push(...rejectRules[family]);
    }
    appendAll(top, dispatch.sort());
  }
  return b.build([FORWARD_HOOK]);
}

/** Rule count of a ruleset (chain rules plus hooks), as reports and the bench count them. */
export function countRules(ruleset: Ruleset): number {
  return ruleset.chains.reduce((n, c) => n + c.rules.length, 0) + ruleset.hooks.length;
}

export function countIpsetEntries(ruleset: Ruleset): number {
  return ruleset.ipsets.reduce((n, s) => n + s.entries.length, 0);
}
