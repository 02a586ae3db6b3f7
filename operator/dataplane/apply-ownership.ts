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

const commandFlags = new Set(['-A', '-I', '-D', '-R', '-N', '-X', '-F', '-Z', '-P']);

/**
 * Checks one rule body in a single pass over its words (a big node has thousands of rules and
 * this runs on every sync): no command flag, no newline, every STN- jump and stn- set defined.
 */
function checkRule(chain: string, rule: string, chains: Set<string>, sets: Set<string>): void {
  if (rule.includes('\n')) throw new RulesetError(`chain ${chain}: rule contains a newline`);
  const words = rule.split(' ').filter((w) => w !== '');
  if (commandFlags.has(words[0] ?? ''))
    throw new RulesetError(`chain ${chain}: rule "${rule}" must be a body, without -A/-I`);
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i];
    const next = words[i + 1];
    if ((w === '-j' || w === '-g') && isAgentChain(next) && !chains.has(next)) {
      throw new RulesetError(`chain ${chain}: rule "${rule}" jumps to undefined ${next}`);
    }
    // A rule naming a set the ruleset lacks would fail the restore (or, once that set is
    // stale, keep it from being destroyed); say which rule instead.
    if (w === '--match-set' && isAgentSet(next) && !sets.has(next)) {
      throw new RulesetError(`chain ${chain}: rule "${rule}" uses undefined ipset ${next}`);
    }
  }
}

/**
 * Refuses a ruleset that would step outside what the agent owns (so cleanup can find all of it).
 * `checkRules` limits the per-rule checks to some chains (the applier passes the chains it is
 * about to write; the rest were checked when they were written).
 */
export function validateRuleset(rs: Ruleset, checkRules: (chain: string) => boolean = () => true): void {
  const chains = new Set<string>();
  for (const c of rs.chains) {
    if (!isAgentChain(c.name))
      throw new RulesetError(`chain ${c.name}: not an agent chain (prefix ${agentChainPrefix})`);
    if (c.name.length > maxChainName)
      throw new RulesetError(`chain ${c.name}: longer than ${maxChainName} characters`);
    if (chains.has(c.name)) throw new RulesetError(`chain ${c.name}: defined twice`);
    chains.add(c.name);
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
  for (const c of rs.chains)
    if (checkRules(c.name)) for (const r of c.rules) checkRule(c.name, r, chains, sets);
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
