// A Ruleset as the text `ipset restore` and `iptables-restore --noflush` (IPv4) or
// `ip6tables-restore --noflush` (IPv6) read. Applied in that order to a fresh network namespace
// (sets first: rules refer to them), the files give the node full enforcement. (The agent's apply edge diffs Rulesets and writes its own, smaller
// restore input; this is the whole-node form `softtenant render` writes.)
import type { Family } from '../net/address.js';
import { createSetLine } from './apply-plan.js';
import type { ChainSpec, HookSpec, IpsetSpec, Ruleset } from './types.js';

/** `create NAME TYPE family inet|inet6 hashsize H maxelem M`, sized as the agent sizes its sets. */
export function ipsetCreateLine(set: IpsetSpec, family: Family): string {
  return createSetLine(set.name, set.type, set.entries.length, family);
}

/**
 * Input for `ipset restore`: every set of the given rulesets created, then filled. Sets of both
 * families live in one ipset namespace, so one file carries both, each set tagged with its family.
 */
export function renderIpsetRestore(...rulesets: Ruleset[]): string {
  const lines: string[] = [];
  for (const ruleset of rulesets) {
    for (const set of ruleset.ipsets) {
      lines.push(ipsetCreateLine(set, ruleset.family));
      for (const e of set.entries) lines.push(`add ${set.name} ${e}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** `-I BUILTIN body`: the hook goes first in the built-in chain. */
export function hookLine(hook: HookSpec): string {
  return `-I ${hook.builtin} ${hook.rule}`;
}

export interface IptablesTextOptions {
  /** Include the hook rules (default true: the text is for a fresh node namespace). */
  hooks?: boolean;
  /** Only these chains (default all); their declarations flush them under --noflush. */
  chains?: readonly ChainSpec[];
}

/**
 * Input for `iptables-restore --noflush` or, for an IPv6 ruleset, `ip6tables-restore --noflush`
 * (filter table; the text has the same form for both). Each agent chain is declared (which
 * creates it, or flushes it if it exists) and refilled; built-in chains are not declared, so
 * other tools' rules stay. The hook is an insert, so this text is meant for a namespace that does
 * not have it yet; the apply edge adds hooks only where they are missing.
 */
export function renderIptablesRestore(ruleset: Ruleset, options: IptablesTextOptions = {}): string {
  const chains = options.chains ?? ruleset.chains;
  const lines = ['*filter'];
  for (const c of chains) lines.push(`:${c.name} - [0:0]`);
  for (const c of chains) for (const r of c.rules) lines.push(`-A ${c.name} ${r}`);
  if (options.hooks ?? true) for (const h of ruleset.hooks) lines.push(hookLine(h));
  lines.push('COMMIT');
  return `${lines.join('\n')}\n`;
}
