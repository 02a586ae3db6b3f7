// A Ruleset as the text `ipset restore` and `iptables-restore --noflush` read. Applied in that
// order to a fresh network namespace (sets first: rules refer to them), the two files give the
// node full enforcement. (The agent's apply edge diffs Rulesets and writes its own, smaller
// restore input; this is the whole-node form `softtenant render` writes.)
import { setSizing } from './apply-plan.js';
import type { ChainSpec, HookSpec, IpsetSpec, Ruleset } from './types.js';

/** `create NAME TYPE family inet hashsize H maxelem M`, sized as the agent sizes its sets. */
export function ipsetCreateLine(set: IpsetSpec): string {
  const { hashsize, maxelem } = setSizing(set.entries.length);
  return `create ${set.name} ${set.type} family inet hashsize ${hashsize} maxelem ${maxelem}`;
}

/** Input for `ipset restore`: every set created, then filled. */
export function renderIpsetRestore(ruleset: Ruleset): string {
  const lines: string[] = [];
  for (const set of ruleset.ipsets) {
    lines.push(ipsetCreateLine(set));
    for (const e of set.entries) lines.push(`add ${set.name} ${e}`);
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
 * Input for `iptables-restore --noflush` (filter table). Each agent chain is declared (which
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
