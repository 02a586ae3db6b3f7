// What the agent owns on a node, and nothing else: filter-table chains named STN-*, ipsets named
// stn-*, and hook rules in the built-in chains that jump into an STN- chain or carry a
// "softtenant" comment. Apply and cleanup touch only what these predicates accept.
import type { Ruleset } from './types.js';

export const agentChainPrefix = 'STN-';
export const agentSetPrefix = 'stn-';
/** Swap partners: still agent-owned, so a crash between create and destroy is cleaned up. */
export const tempSetPrefix = 'stn-tmp-';
export const builtinChains = ['INPUT', 'FORWARD', 'OUTPUT'] as const;
export type BuiltinChain = (typeof builtinChains)[number];

const maxChainName = 28;
const maxSetName = 31;

export function isAgentChain(name: string): boolean {
  return name.startsWith(agentChainPrefix);
}

export function isAgentSet(name: string): boolean {
  return name.startsWith(agentSetPrefix);
}

/** A rule body (as iptables-save prints it after "-A CHAIN") in a built-in chain that is the agent's. */
export function isAgentHookRule(body: string): boolean {
  return /(^|\s)-[jg]\s+STN-/.test(body) || /--comment\s+"?softtenant/.test(body);
}

export class RulesetError extends Error {}

/** Refuses a ruleset that would step outside what the agent owns (so cleanup can find all of it). */
export function validateRuleset(rs: Ruleset): void {
  const chains = new Set<string>();
  for (const c of rs.chains) {
    if (!isAgentChain(c.name))
      throw new RulesetError(`chain ${c.name}: not an agent chain (prefix ${agentChainPrefix})`);
    if (c.name.length > maxChainName)
      throw new RulesetError(`chain ${c.name}: longer than ${maxChainName} characters`);
    if (chains.has(c.name)) throw new RulesetError(`chain ${c.name}: defined twice`);
    chains.add(c.name);
    for (const r of c.rules) {
      if (r.includes('\n')) throw new RulesetError(`chain ${c.name}: rule contains a newline`);
      if (/^\s*-[AIDRNXFZP]\s/.test(r))
        throw new RulesetError(`chain ${c.name}: rule "${r}" must be a body, without -A/-I`);
    }
  }
  const sets = new Set<string>();
  for (const s of rs.ipsets) {
    if (!isAgentSet(s.name) || s.name.startsWith(tempSetPrefix)) {
      throw new RulesetError(
        `ipset ${s.name}: not an agent set name (prefix ${agentSetPrefix}, not ${tempSetPrefix})`,
      );
    }
    if (s.name.length > maxSetName)
      throw new RulesetError(`ipset ${s.name}: longer than ${maxSetName} characters`);
    if (sets.has(s.name)) throw new RulesetError(`ipset ${s.name}: defined twice`);
    sets.add(s.name);
  }
  // A rule naming a chain or set the ruleset lacks would fail the restore (or, once that name
  // is stale, keep it from being deleted); say which rule instead.
  for (const c of rs.chains) {
    for (const r of c.rules) {
      for (const m of r.matchAll(/(?:^|\s)-[jg]\s+(STN-\S+)/g)) {
        if (!chains.has(m[1] as string))
          throw new RulesetError(`chain ${c.name}: rule "${r}" jumps to undefined ${m[1]}`);
      }
      for (const m of r.matchAll(/--match-set\s+(stn-\S+)/g)) {
        if (!sets.has(m[1] as string))
          throw new RulesetError(`chain ${c.name}: rule "${r}" uses undefined ipset ${m[1]}`);
      }
    }
  }
  for (const h of rs.hooks) {
    if (!isAgentHookRule(h.rule)) {
      throw new RulesetError(
        `hook in ${h.builtin} "${h.rule}": must jump to an STN- chain or carry a "softtenant..." comment`,
      );
    }
    const target = /(?:^|\s)-[jg]\s+(\S+)/.exec(h.rule)?.[1];
    if (target && isAgentChain(target) && !chains.has(target)) {
      throw new RulesetError(`hook in ${h.builtin} jumps to ${target}, which the ruleset does not define`);
    }
  }
}
