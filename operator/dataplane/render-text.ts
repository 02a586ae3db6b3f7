// A Ruleset as the text `ipset restore` and `iptables-restore --noflush` read. Applied in that
// order to a fresh network namespace (sets first: rules refer to them), the two files give the
// node full enforcement. The apply edge reuses the pieces (create lines, chain blocks) to write
// only what changed.
import type { ChainSpec, HookSpec, IpsetSpec, Ruleset } from './types.js';

/**
 * Options every agent set is created with. Constant (not sized to the entries), so a set never
 * needs re-creating because it grew; hash:ip/hash:net grow their hash table on their own.
 */
export const IPSET_CREATE_OPTIONS = 'family inet hashsize 1024 maxelem 262144';

/** `create NAME TYPE family inet ...`; pass `name` to create a temporary twin for `ipset swap`. */
export function ipsetCreateLine(set: IpsetSpec, name: string = set.name): string {
  return `create ${name} ${set.type} ${IPSET_CREATE_OPTIONS}`;
}

/** `add NAME ENTRY` lines; pass `name` to fill a temporary twin. */
export function ipsetAddLines(set: IpsetSpec, name: string = set.name): string[] {
  return set.entries.map((e) => `add ${name} ${e}`);
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

/** `-A CHAIN body` lines of one chain. */
export function chainRuleLines(chain: ChainSpec): string[] {
  return chain.rules.map((r) => `-A ${chain.name} ${r}`);
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
