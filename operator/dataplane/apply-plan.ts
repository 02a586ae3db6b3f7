// Pure: the desired ruleset against what is programmed (last applied, or observed on a resync)
// becomes the smallest change — ipset commands, one iptables-restore --noflush transaction that
// names only agent chains and agent hooks, and the sets to destroy once the new rules are in.
import type { BuiltinChain } from './apply-ownership.js';
import { builtinChains, RulesetError, tempSetPrefix } from './apply-ownership.js';
import { canonicalEntry } from './apply-observe.js';
import type { Family } from '../net/address.js';
import type { IpsetSpec, Ruleset } from './types.js';

/** A rule as it is programmed: its text (usable with -D) and its comparison key. */
export interface ProgrammedRule {
  text: string;
  key: string;
}

export interface CurrentSet {
  type: string;
  maxelem: number;
  /** Canonical entries (see canonicalEntry). */
  entries: Set<string>;
  /** The entries exactly as the ruleset last applied listed them, when known (fast no-change check). */
  raw?: readonly string[];
}

export interface CurrentState {
  sets: Map<string, CurrentSet>;
  /** Agent chains -> comparison keys of their rules. */
  chains: Map<string, string[]>;
  /** The agent's hook rules in each built-in chain, in chain order. */
  hooks: Map<BuiltinChain, ProgrammedRule[]>;
}

export interface SetChange {
  name: string;
  how: 'create' | 'delta' | 'swap' | 'recreate';
  added: number;
  removed: number;
}

export interface ApplyPlan {
  /** Lines for `ipset restore` (empty: nothing to do). */
  ipset: string[];
  /** Lines for `iptables-restore --noflush` (empty: nothing to do). */
  iptables: string[];
  /** What each iptables line is about, same index, for error messages. */
  iptablesOwner: string[];
  /** Agent sets no longer wanted: destroyed after the iptables transaction dropped their references. */
  destroySets: string[];
  chainsCreated: string[];
  chainsRewritten: string[];
  chainsDeleted: string[];
  hooksRewritten: BuiltinChain[];
  sets: SetChange[];
  /** Canonical entries of every wanted set, for the next incremental diff. */
  setEntries: Map<string, Set<string>>;
}

export function isEmptyPlan(p: ApplyPlan): boolean {
  return p.ipset.length === 0 && p.iptables.length === 0 && p.destroySets.length === 0;
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function setSizing(entries: number): { hashsize: number; maxelem: number } {
  return {
    hashsize: Math.max(1024, pow2AtLeast(entries)),
    maxelem: Math.max(262144, pow2AtLeast(2 * entries)),
  };
}

/** Element key without the nomatch flag (ipset treats "x" and "x nomatch" as one element). */
function elementOf(entry: string): string {
  return entry.endsWith(' nomatch') ? entry.slice(0, -' nomatch'.length) : entry;
}

function isNomatch(entry: string): boolean {
  return entry.endsWith(' nomatch');
}

export function tempSetName(name: string): string {
  // Short, stable and distinct per set: FNV-1a of the name.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${tempSetPrefix}${h.toString(16).padStart(8, '0')}`;
}

/** The ipset family keyword of an address family. */
export function ipsetFamily(family: Family): 'inet' | 'inet6' {
  return family === 4 ? 'inet' : 'inet6';
}

/** `create NAME TYPE family inet|inet6 hashsize H maxelem M`, sized for `entries` entries. */
export function createSetLine(name: string, type: string, entries: number, family: Family): string {
  const { hashsize, maxelem } = setSizing(entries);
  return `create ${name} ${type} family ${ipsetFamily(family)} hashsize ${hashsize} maxelem ${maxelem}`;
}

/**
 * Entries in an order that never widens a set beyond both its old and new contents for
 * hash:net excepts: "nomatch" entries go in before the networks they carve holes in.
 */
function addOrder(entries: string[]): string[] {
  return [...entries.filter(isNomatch), ...entries.filter((e) => !isNomatch(e))];
}

function canonicalOrThrow(set: IpsetSpec, entry: string): string {
  try {
    return canonicalEntry(set.type, entry);
  } catch (e) {
    throw new RulesetError(`ipset ${set.name}: bad ${set.type} entry "${entry}": ${(e as Error).message}`);
  }
}

function sameEntries(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Plans one set; returns its canonical entries, which the applier keeps for the next diff. */
function planSet(
  want: IpsetSpec,
  have: CurrentSet | undefined,
  out: string[],
  changes: SetChange[],
  family: Family,
): Set<string> {
  const createLine = (name: string, type: string, entries: number): string =>
    createSetLine(name, type, entries, family);
  // The common case of a sync: the set is exactly as last applied. Comparing the raw entries
  // costs one pass and no parsing, which keeps a one-pod change cheap at thousands of entries.
  if (have && have.type === want.type && have.raw && sameEntries(have.raw, want.entries)) return have.entries;
  const wantSet = new Set(want.entries.map((e) => canonicalOrThrow(want, e)));
  if (!have || have.type !== want.type) {
    const entries = [...wantSet].sort();
    if (have) out.push(`destroy ${want.name}`);
    out.push(createLine(want.name, want.type, entries.length));
    for (const e of addOrder(entries)) out.push(`add ${want.name} ${e}`);
    changes.push({
      name: want.name,
      how: have ? 'recreate' : 'create',
      added: entries.length,
      removed: have?.entries.size ?? 0,
    });
    return wantSet;
  }
  const added: string[] = [];
  for (const e of wantSet) if (!have.entries.has(e)) added.push(e);
  const removed: string[] = [];
  for (const e of have.entries) if (!wantSet.has(e)) removed.push(e);
  if (added.length === 0 && removed.length === 0) return wantSet;
  added.sort();
  removed.sort();
  const addedElements = new Set(added.map(elementOf));
  const flagFlip = removed.some((e) => addedElements.has(elementOf(e)));
  const tooSmall = have.maxelem < wantSet.size;
  const large = added.length + removed.length > Math.max(64, wantSet.size);
  if (flagFlip || tooSmall || large) {
    // Fill a partner set and swap: the live set changes in one step and is never empty.
    const tmp = tempSetName(want.name);
    out.push(createLine(tmp, want.type, wantSet.size));
    for (const e of addOrder([...wantSet].sort())) out.push(`add ${tmp} ${e}`);
    out.push(`swap ${tmp} ${want.name}`, `destroy ${tmp}`);
    changes.push({ name: want.name, how: 'swap', added: added.length, removed: removed.length });
    return wantSet;
  }
  // Deltas: additions first (a live set never passes through empty), excepts before networks;
  // removals of networks before removals of their excepts.
  for (const e of addOrder(added)) out.push(`add ${want.name} ${e}`);
  const dels = [...removed.filter((e) => !isNomatch(e)), ...removed.filter(isNomatch)];
  for (const e of dels) out.push(`del ${want.name} ${elementOf(e)}`);
  changes.push({ name: want.name, how: 'delta', added: added.length, removed: removed.length });
  return wantSet;
}

/** Sets in name order (rendered rulesets already are: then no sort and no copy). */
function byName(sets: readonly IpsetSpec[]): readonly IpsetSpec[] {
  let sorted = true;
  for (let i = 1; i < sets.length && sorted; i++) sorted = sets[i - 1].name < sets[i].name;
  return sorted ? sets : [...sets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The key function of an incremental diff: the last applied text is the key. */
export const sameRule = (rule: string): string => rule;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * `keyOf` maps a desired rule to the key the current state uses for the same rule (identity
 * when the current state is the last applied ruleset; the saved spelling after a resync).
 */
export function planApply(
  desired: Ruleset,
  current: CurrentState,
  keyOf: (rule: string) => string = sameRule,
  /** The caller knows the chains and hooks are those of `current` (same arrays as last applied). */
  hints: { chainsUnchanged?: boolean } = {},
): ApplyPlan {
  const identity = keyOf === sameRule;
  const plan: ApplyPlan = {
    ipset: [],
    iptables: [],
    iptablesOwner: [],
    destroySets: [],
    chainsCreated: [],
    chainsRewritten: [],
    chainsDeleted: [],
    hooksRewritten: [],
    sets: [],
    setEntries: new Map(),
  };

  // ---- ipsets: leftovers of an interrupted swap first, then every wanted set.
  const wantedSets = new Set(desired.ipsets.map((s) => s.name));
  for (const name of [...current.sets.keys()].sort())
    if (name.startsWith(tempSetPrefix)) plan.ipset.push(`destroy ${name}`);
  for (const s of byName(desired.ipsets)) {
    plan.setEntries.set(s.name, planSet(s, current.sets.get(s.name), plan.ipset, plan.sets, desired.family));
  }
  plan.destroySets = [...current.sets.keys()]
    .filter((n) => !wantedSets.has(n) && !n.startsWith(tempSetPrefix))
    .sort();

  if (hints.chainsUnchanged) return plan;

  // ---- chains
  const declare: string[] = [];
  const body: [string, string][] = [];
  const wantedChains = new Set(desired.chains.map((c) => c.name));
  for (const c of desired.chains) {
    const have = current.chains.get(c.name);
    if (have && (identity ? sameKeys(have, c.rules) : sameKeys(have, c.rules.map(keyOf)))) continue;
    (have ? plan.chainsRewritten : plan.chainsCreated).push(c.name);
    // In a --noflush restore, declaring an existing chain flushes it: a rewrite is declare + rules.
    declare.push(c.name);
    for (const r of c.rules) body.push([`-A ${c.name} ${r}`, c.name]);
  }
  for (const name of [...current.chains.keys()].sort()) {
    if (wantedChains.has(name)) continue;
    plan.chainsDeleted.push(name);
    declare.push(name);
  }

  // ---- hooks: one copy each, in the wanted order; if that is not what is there, ours are
  // removed and inserted again at the top. Foreign rules are never named.
  const hookLines: [string, string][] = [];
  for (const b of builtinChains) {
    const want = desired.hooks.filter((h) => h.builtin === b).map((h) => h.rule);
    const have = current.hooks.get(b) ?? [];
    if (
      sameKeys(
        have.map((h) => h.key),
        want.map(keyOf),
      )
    ) {
      continue;
    }
    plan.hooksRewritten.push(b);
    for (const h of have) hookLines.push([`-D ${b} ${h.text}`, `hook in ${b}`]);
    for (const r of [...want].reverse()) hookLines.push([`-I ${b} 1 ${r}`, `hook in ${b}`]);
  }

  if (declare.length > 0 || hookLines.length > 0) {
    const lines: [string, string][] = [
      ['*filter', 'table'],
      ...declare.map((n): [string, string] => [`:${n} - [0:0]`, `chain ${n}`]),
      ...body.map(([l, c]): [string, string] => [l, `chain ${c}`]),
      ...hookLines,
      // Deleted last: by now no hook and no rewritten chain refers to them.
      ...plan.chainsDeleted.map((n): [string, string] => [`-X ${n}`, `stale chain ${n}`]),
      ['COMMIT', 'commit'],
    ];
    plan.iptables = lines.map(([l]) => l);
    plan.iptablesOwner = lines.map(([, o]) => o);
  }
  return plan;
}
