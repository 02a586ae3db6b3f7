// Reading what is really programmed: the filter table as iptables-save (or ip6tables-save)
// prints it, and the agent's ipsets of that family as `ipset save` prints them. Parsing is pure;
// observe() runs the two tools.
import type { BuiltinChain } from './apply-ownership.js';
import { builtinChains, isAgentChain, isAgentSet } from './apply-ownership.js';
import { formatIP, parseIP, tryParseCidr, type Family } from '../net/address.js';
import type { BackendTools } from './backend.js';
import type { Runner } from './runner.js';
import { runChecked } from './runner.js';

export interface ObservedTable {
  /** Agent chains (declared, possibly empty) -> rule bodies as saved. */
  chains: Map<string, string[]>;
  /** Every rule body of each built-in chain, in order (foreign ones too: hooks are found among them). */
  builtins: Map<BuiltinChain, string[]>;
}

export interface ObservedSet {
  name: string;
  type: string;
  maxelem: number;
  /** Canonical entries (see canonicalEntry). */
  entries: Set<string>;
}

export interface ObservedState {
  table: ObservedTable;
  sets: Map<string, ObservedSet>;
}

/** Parses the *filter section of iptables-save output. */
export function parseFilterTable(text: string): ObservedTable {
  const chains = new Map<string, string[]>();
  const builtins = new Map<BuiltinChain, string[]>(builtinChains.map((b) => [b, []]));
  let inFilter = false;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('*')) {
      inFilter = line === '*filter';
      continue;
    }
    if (!inFilter || line === '' || line.startsWith('#')) continue;
    if (line === 'COMMIT') {
      inFilter = false;
      continue;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (isAgentChain(name)) chains.set(name, chains.get(name) ?? []);
      continue;
    }
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const [, chain, body] = m as unknown as [string, string, string];
    const builtin = builtins.get(chain as BuiltinChain);
    if (builtin) builtin.push(body);
    else if (isAgentChain(chain)) chains.set(chain, [...(chains.get(chain) ?? []), body]);
  }
  return { chains, builtins };
}

function parseIPv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${text}`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new Error(`not an IPv4 address: ${text}`);
    n = n * 256 + v;
  }
  return n;
}

function formatIPv4(n: number): string {
  return `${Math.floor(n / 16777216)}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/** An IPv6 entry: RFC 5952 text; for hash:net the network with host bits cleared and its length. */
function canonicalIPv6Entry(type: string, addr: string, nomatch: string): string {
  if (type === 'hash:net') {
    const slash = addr.indexOf('/');
    const cidr = tryParseCidr(slash < 0 ? `${addr}/128` : addr, 'legacy');
    if (cidr?.family !== 6) throw new Error(`not an IPv6 network: ${addr}`);
    return `${cidr.text}${nomatch}`;
  }
  const ip = parseIP(addr, 'legacy');
  if (ip?.family !== 6) throw new Error(`not an IPv6 address: ${addr}`);
  return `${formatIP(ip.bytes)}${nomatch}`;
}

/**
 * One spelling per entry (`type` as a ruleset or `ipset save` names it): hash:ip -> "a.b.c.d";
 * hash:net -> "a.b.c.d/len" with the host bits cleared (ipset stores the network and prints /32
 * without a mask); " nomatch" kept; IPv6 alike (RFC 5952 text, /128 for a host network).
 * Hand-rolled for IPv4 rather than a general parser: a sync canonicalises every entry of every
 * changed set, tens of thousands on a big node.
 */
export function canonicalEntry(type: string, entry: string): string {
  const parts = entry.trim().split(/\s+/);
  const addr = parts[0] ?? '';
  const nomatch = parts.includes('nomatch') ? ' nomatch' : '';
  if (addr.includes(':')) return canonicalIPv6Entry(type, addr, nomatch);
  if (type === 'hash:net') {
    const slash = addr.indexOf('/');
    const ip = parseIPv4(slash < 0 ? addr : addr.slice(0, slash));
    const lenText = slash < 0 ? '32' : addr.slice(slash + 1);
    const len = Number(lenText);
    if (!/^\d{1,2}$/.test(lenText) || len > 32) throw new Error(`bad prefix length in ${addr}`);
    const size = 2 ** (32 - len);
    return `${formatIPv4(Math.floor(ip / size) * size)}/${len}${nomatch}`;
  }
  return `${formatIPv4(parseIPv4(addr))}${nomatch}`;
}

/** The family a `create` line of `ipset save` declares (inet when it says none, as ipset does). */
function createLineFamily(words: readonly string[]): Family {
  const at = words.indexOf('family');
  return at > 0 && words[at + 1] === 'inet6' ? 6 : 4;
}

/**
 * Parses `ipset save` output, keeping only agent sets, and of those only the given family's
 * when one is given: the IPv4 and IPv6 appliers share one ipset namespace and each owns its own.
 */
export function parseIpsetSave(text: string, family?: Family): Map<string, ObservedSet> {
  const sets = new Map<string, ObservedSet>();
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (
      words[0] === 'create' &&
      words[1] &&
      isAgentSet(words[1]) &&
      (family === undefined || createLineFamily(words) === family)
    ) {
      const maxAt = words.indexOf('maxelem');
      sets.set(words[1], {
        name: words[1],
        type: words[2] ?? '',
        maxelem: maxAt > 0 ? Number(words[maxAt + 1]) : 65536,
        entries: new Set(),
      });
    } else if (words[0] === 'add' && words[1]) {
      const set = sets.get(words[1]);
      if (set) set.entries.add(canonicalEntry(set.type, words.slice(2).join(' ')));
    }
  }
  return sets;
}

export async function observeTable(runner: Runner, tools: BackendTools): Promise<ObservedTable> {
  return parseFilterTable(
    await runChecked(
      runner,
      [tools.save, '-t', 'filter'],
      `reading the IPv${tools.family} filter table (${tools.backend})`,
    ),
  );
}

/** The agent's sets, of one family or (undefined) of both. */
export async function observeSets(runner: Runner, family?: Family): Promise<Map<string, ObservedSet>> {
  return parseIpsetSave(await runChecked(runner, ['ipset', 'save'], 'reading ipsets'), family);
}

export async function observe(runner: Runner, tools: BackendTools): Promise<ObservedState> {
  const [table, sets] = await Promise.all([observeTable(runner, tools), observeSets(runner, tools.family)]);
  return { table, sets };
}
