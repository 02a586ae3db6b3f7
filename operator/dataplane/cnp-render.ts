// ClusterNetworkPolicy tiers in the ruleset. Pure: a node's NetworkPolicy render and its
// ClusterNetworkPolicy model (operator/cnp/) -> the same render with the tiers added, per family.
//
// Local pods that a ClusterNetworkPolicy selects in a direction leave their NetworkPolicy group
// and join a tiered group: pods with the same Admin, NetworkPolicy and Baseline lists share one
// chain, dispatched from STN-FORWARD through a hash:ip set, as NetworkPolicy groups are:
//
//   STN-GE-G / STN-GI-G:
//     INVALID -> DROP; clear ALLOW_MARK and TIER_PASS_MARK
//     Admin:    -j STN-C?-A1; ALLOW_MARK -> goto STN-PASS (Accept: allowed, back to STN-FORWARD)
//               unless TIER_PASS_MARK: -j STN-C?-A2; ALLOW_MARK -> goto STN-PASS ...
//               clear TIER_PASS_MARK (a Pass ends the tier here)
//     NetworkPolicies, when they isolate the group: their chains as in a NetworkPolicy group,
//               then REJECT (their allow-list is final)
//     otherwise Baseline, as Admin; then fall off the end: the default, allowed
//   STN-CE-P / STN-CI-P (one per policy and direction): its rules in spec order, each
//     (port x peer set) a rule whose target is the action: Accept goto STN-MARK, Deny goto
//     STN-CNP-DENY (DROP), Pass goto STN-CNP-PASS (sets TIER_PASS_MARK). A goto returns to the
//     group chain, so the first matching rule of a policy decides and the later ones never run.
//
// Everything else stays as the NetworkPolicy render made it: the same peer sets (a
// ClusterNetworkPolicy peer and a NetworkPolicy peer that select the same pods share one set),
// RETURN and never ACCEPT, RELATED,ESTABLISHED first in STN-FORWARD (the conntrack cut, judged by
// operator/cnp/evaluate.ts, ends flows a change revokes), both paths through the one FORWARD hook.
// A node where no ClusterNetworkPolicy selects a local pod gets the NetworkPolicy render
// unchanged (the same object).
import { buildCnpNodeModel } from '../cnp/model.js';
import type { CnpNodeModel, CnpPolicyModel, CnpRuleModel } from '../cnp/types.js';
import type { EnforcedClusterNetworkPolicy, PolicyError } from '../api/nodeenforcement.js';
import type { Family } from '../net/address.js';
import { parseCidrBlock } from '../netpol/ip-blocks.js';
import type { CidrBlock, ClusterObjects, Direction, NodeModel } from '../netpol/types.js';
import { objectKey } from '../netpol/types.js';
import {
  TIER_DENY_CHAIN,
  TIER_MARKS_HEX,
  TIER_PASS_CHAIN,
  TIER_PASS_MARK_HEX,
  cnpChainName,
  cnpPolicyKey,
  tieredGroupNames,
} from './cnp-names.js';
import { blockSetEntries } from './ip-block-sets.js';
import {
  ALLOW_MARK_HEX,
  MARK_CHAIN,
  PASS_CHAIN,
  TOP_CHAIN,
  commentText,
  peerSetName,
  podGroupNames,
} from './names.js';
import { byAddress, dispatchRule, ruleRules, type PeerSets } from './render.js';
import { summarizeRuleset, type NodeRender } from './render-node.js';
import type { ChainSpec, IpsetSpec, IpsetType, Ruleset } from './types.js';

const DIRECTIONS: readonly Direction[] = ['egress', 'ingress'];

// The API: "Deny: Drops the selected traffic". A drop, not a reject: the client sees nothing
// (the network-policy-api conformance suite counts only a timeout as denied). A NetworkPolicy
// group's final REJECT is the NetworkPolicy render's, unchanged.
const DENY_RULES = ['-j DROP'];

const ACTION_TARGET: Record<CnpRuleModel['action'], string> = {
  Accept: `-g ${MARK_CHAIN}`,
  Deny: `-g ${TIER_DENY_CHAIN}`,
  Pass: `-g ${TIER_PASS_CHAIN}`,
};

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

class TierBuilder implements PeerSets {
  readonly sets: Map<string, IpsetSpec>;
  readonly chains: Map<string, string[]>;

  constructor(
    readonly base: Ruleset,
    readonly family: Family,
  ) {
    this.sets = new Map(base.ipsets.map((s) => [s.name, s]));
    this.chains = new Map(base.chains.map((c) => [c.name, c.rules]));
  }

  /** A peer set; one that the NetworkPolicy render made already is the same set (same identity). */
  addSet(kind: 'p' | 'n' | 'd', identity: string, type: IpsetType, entries: () => string[]): string {
    const name = peerSetName(kind, identity, this.family);
    if (!this.sets.has(name)) this.sets.set(name, { name, type, entries: entries() });
    return name;
  }

  /** hash:net entries for a rule's ipBlocks (the NetworkPolicy render's split, per family). */
  blockSets(blocks: readonly CidrBlock[]): string[][] {
    return blockSetEntries(blocks.map(parseCidrBlock), this.family);
  }

  /** One policy's rules for one direction, in spec order, each ending in its action's target. */
  policyRules(policy: CnpPolicyModel, direction: Direction): string[] {
    const key = cnpPolicyKey(policy.name);
    const out: string[] = [];
    for (const rule of policy[direction])
      ruleRules(this, direction, key, rule, ACTION_TARGET[rule.action], out);
    return out;
  }

  build(): Ruleset {
    const fixed = [TOP_CHAIN, MARK_CHAIN, PASS_CHAIN];
    const names = [...this.chains.keys()];
    const ordered = [
      ...fixed.filter((n) => this.chains.has(n)),
      ...names.filter((n) => !fixed.includes(n)).sort(),
    ];
    return {
      family: this.family,
      ipsets: [...this.sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      chains: ordered.map((name): ChainSpec => ({ name, rules: this.chains.get(name) as string[] })),
      hooks: this.base.hooks,
    };
  }
}

/** The jumps of one tier in a tiered group chain; a Pass skips the tier's later policies. */
function tierSection(direction: Direction, tier: 'admin' | 'baseline', names: readonly string[]): string[] {
  const out: string[] = [];
  names.forEach((name, i) => {
    const unlessPassed = i > 0 ? `-m mark --mark 0x0/${TIER_PASS_MARK_HEX}` : '';
    const comment = `-m comment --comment "${commentText(`${tier} ${direction} ${name}`)}"`;
    out.push(join(unlessPassed, comment, `-j ${cnpChainName(direction, name)}`));
    out.push(`-m mark --mark ${ALLOW_MARK_HEX}/${ALLOW_MARK_HEX} -g ${PASS_CHAIN}`);
  });
  if (names.length > 0) out.push(`-j MARK --set-xmark 0x0/${TIER_PASS_MARK_HEX}`);
  return out;
}

interface TieredGroup {
  admin: string[];
  netpol: string[];
  baseline: string[];
  ips: string[];
}

/** One family's ruleset with the tiers. */
export function renderTieredRuleset(base: Ruleset, np: NodeModel, cnp: CnpNodeModel): Ruleset {
  const family = base.family;
  const b = new TierBuilder(base, family);
  const baseChains = new Map(base.chains.map((c) => [c.name, c.rules]));
  b.chains.set(TIER_PASS_CHAIN, [`-j MARK --set-xmark ${TIER_PASS_MARK_HEX}/${TIER_PASS_MARK_HEX}`]);
  b.chains.set(TIER_DENY_CHAIN, DENY_RULES);
  for (const policy of cnp.policies)
    for (const direction of DIRECTIONS)
      if (policy[direction].length > 0)
        b.chains.set(cnpChainName(direction, policy.name), b.policyRules(policy, direction));

  const cnpPods = new Map(cnp.pods.map((p) => [objectKey(p.namespace, p.name), p]));
  const inFamily = (ips: readonly string[]): string[] =>
    ips.filter((ip) => ip.includes(':') === (family === 6));
  const removed = new Set<string>();
  const dispatch: string[][] = [];
  for (const direction of DIRECTIONS) {
    /** Dispatch rule -> the names it was made of (so nothing parses rule text back). */
    const baseDispatch = new Map<string, { ipset: string; chain: string }>();
    const netpolGroups = new Map<string, { policies: string[]; ips: string[] }>();
    const tiered = new Map<string, TieredGroup>();
    for (const pod of np.pods) {
      const netpol = direction === 'ingress' ? pod.ingressPolicies : pod.egressPolicies;
      const c = cnpPods.get(objectKey(pod.namespace, pod.name));
      const admin = c?.admin[direction] ?? [];
      const baseline = c?.baseline[direction] ?? [];
      if (netpol.length > 0) {
        // The NetworkPolicy render's group of this pod: its dispatch rule is rewritten below.
        const names = podGroupNames(direction, netpol, family);
        baseDispatch.set(dispatchRule(direction, names.ipset, names.chain, family), names);
      }
      if (admin.length === 0 && baseline.length === 0) {
        if (netpol.length === 0) continue;
        const id = netpol.join('\n');
        let g = netpolGroups.get(id);
        if (!g) netpolGroups.set(id, (g = { policies: netpol, ips: [] }));
        g.ips.push(...inFamily(pod.ips));
        continue;
      }
      const id = `admin:${admin.join(',')}|netpol:${netpol.join(',')}|baseline:${baseline.join(',')}`;
      let g = tiered.get(id);
      if (!g) tiered.set(id, (g = { admin, netpol, baseline, ips: [] }));
      g.ips.push(...inFamily(pod.ips));
    }
    const rules: string[] = [];
    // NetworkPolicy groups lose the pods that moved to a tiered group; emptied ones go.
    for (const [rule, { ipset, chain }] of baseDispatch) {
      removed.add(rule);
      const kept = [...netpolGroups.values()].find(
        (g) => podGroupNames(direction, g.policies, family).ipset === ipset,
      );
      if (kept) {
        b.sets.set(ipset, { name: ipset, type: 'hash:ip', entries: byAddress([...new Set(kept.ips)]) });
        rules.push(rule);
      } else {
        b.sets.delete(ipset);
        b.chains.delete(chain);
      }
    }
    for (const [id, g] of tiered) {
      const names = tieredGroupNames(direction, id, family);
      b.sets.set(names.ipset, {
        name: names.ipset,
        type: 'hash:ip',
        entries: byAddress([...new Set(g.ips)]),
      });
      rules.push(dispatchRule(direction, names.ipset, names.chain, family));
      const chain = ['-m conntrack --ctstate INVALID -j DROP', `-j MARK --set-xmark 0x0/${TIER_MARKS_HEX}`];
      chain.push(...tierSection(direction, 'admin', g.admin));
      if (g.netpol.length > 0) {
        // The NetworkPolicy group chain's checks (jumps, allowed -> STN-PASS, REJECT), as rendered.
        const npChain = baseChains.get(podGroupNames(direction, g.netpol, family).chain) ?? [];
        const clear = npChain.indexOf(`-j MARK --set-xmark 0x0/${ALLOW_MARK_HEX}`);
        chain.push(...npChain.slice(clear + 1));
      } else {
        chain.push(...tierSection(direction, 'baseline', g.baseline));
      }
      b.chains.set(names.chain, chain);
    }
    dispatch.push(rules.sort());
  }
  const top = (baseChains.get(TOP_CHAIN) ?? []).filter((r) => !removed.has(r));
  b.chains.set(TOP_CHAIN, [...top, ...dispatch.flat()]);
  return b.build();
}

/** A model problem of a ClusterNetworkPolicy as a node report error (cluster-scoped: no namespace). */
function asPolicyError(p: CnpNodeModel['problems'][number]): PolicyError {
  return {
    kind: 'ClusterNetworkPolicy',
    namespace: '',
    name: p.name,
    reason: p.reason,
    message: `ClusterNetworkPolicy ${p.name}: ${p.message}`,
  };
}

/** The ClusterNetworkPolicies a render programs as written (for the node report), by name. */
export function programmedClusterNetworkPolicies(
  render: Pick<NodeRender, 'cnp'>,
): EnforcedClusterNetworkPolicy[] {
  return (render.cnp?.policies ?? [])
    .filter((p) => p.programmable && p.uid !== undefined)
    .map((p) => ({ name: p.name, uid: p.uid as string, generation: p.generation ?? 0 }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Adds the ClusterNetworkPolicy tiers to a node's NetworkPolicy render (from renderNode or the
 * agent's incremental renderer). Without ClusterNetworkPolicies the render is returned as it is.
 */
export function withClusterNetworkPolicies(
  render: NodeRender,
  objects: ClusterObjects,
  node: string,
): NodeRender {
  const cnps = objects.clusterNetworkPolicies ?? [];
  if (cnps.length === 0) return render;
  const cnp = buildCnpNodeModel({
    node,
    namespaces: objects.namespaces,
    pods: objects.pods,
    clusterNetworkPolicies: cnps,
  });
  const problems = [...render.problems, ...cnp.problems.map(asPolicyError)];
  if (cnp.policies.length === 0) return { ...render, problems, cnp };
  const ruleset = renderTieredRuleset(render.ruleset, render.model, cnp);
  const ruleset6 = renderTieredRuleset(render.ruleset6, render.model, cnp);
  return {
    ...render,
    ruleset,
    ruleset6,
    summary: summarizeRuleset(ruleset, ruleset6, render.model),
    problems,
    cnp,
  };
}
