// Turns the ipBlocks of one rule, of one address family, into as few hash:net sets as
// correctness allows (each family's ruleset asks for its own; a block of the other family is
// not in them at all).
//
// A hash:net set answers with its most specific entry, so a block's excepts become `nomatch`
// entries that beat the broader CIDR. Two blocks can share a set only if no except of one lies
// inside the other's CIDR: otherwise the except's nomatch would also hide addresses the other
// block allows (NetworkPolicy peers are ORed). Such blocks go to separate sets.
// hash:net cannot hold a /0, so 0.0.0.0/0 (and ::/0) is stored as its two /1 halves; an except
// equal to a half removes that half, any smaller except is more specific than the halves and
// still wins.
import { cidrContains, compareAddresses, type Family } from '../net/address.js';
import type { ParsedBlock } from '../netpol/ip-blocks.js';

const halves: Record<Family, readonly string[]> = {
  4: ['0.0.0.0/1', '128.0.0.0/1'],
  6: ['::/1', '8000::/1'],
};
/** The prefix length `ipset save` leaves out (a host entry is printed as the bare address). */
const hostSuffix: Record<Family, string> = { 4: '/32', 6: '/128' };

function compatible(a: ParsedBlock, b: ParsedBlock): boolean {
  return !a.except.some((e) => cidrContains(b.cidr, e)) && !b.except.some((e) => cidrContains(a.cidr, e));
}

function blockKey(b: ParsedBlock): string {
  return `${b.cidr.text} ${b.except.map((e) => e.text).join(' ')}`;
}

function compareCidrText(a: string, b: string): number {
  const [na, pa] = a.split('/');
  const [nb, pb] = b.split('/');
  return compareAddresses(na ?? '', nb ?? '') || Number(pa) - Number(pb);
}

function entriesOf(group: readonly ParsedBlock[], family: Family): string[] {
  const match = new Set<string>();
  const nomatch = new Set<string>();
  for (const block of group) {
    const positives = new Set(block.cidr.prefix === 0 ? halves[family] : [block.cidr.text]);
    for (const e of block.except) {
      if (positives.has(e.text)) positives.delete(e.text);
      else nomatch.add(e.text);
    }
    for (const p of positives) match.add(p);
  }
  const host = hostSuffix[family];
  const text = (cidr: string, flag: string): string =>
    (cidr.endsWith(host) ? cidr.slice(0, -host.length) : cidr) + flag;
  return [...[...match].map((c) => ({ c, flag: '' })), ...[...nomatch].map((c) => ({ c, flag: ' nomatch' }))]
    .sort((x, y) => compareCidrText(x.c, y.c) || x.flag.length - y.flag.length)
    .map(({ c, flag }) => text(c, flag));
}

/**
 * Partitions the blocks of one family into groups that can share one hash:net set and returns
 * each group's set entries ("a.b.c.d/n", "... nomatch"; a /32 or /128 is written as the bare
 * address, as `ipset save` prints it). Blocks are taken in order; each joins the first
 * compatible group. Blocks of the other family are left out.
 */
export function blockSetEntries(blocks: readonly ParsedBlock[], family: Family = 4): string[][] {
  const groups: ParsedBlock[][] = [];
  const seen = new Set<string>();
  for (const block of blocks) {
    if (block.cidr.family !== family) continue;
    const key = blockKey(block);
    if (seen.has(key)) continue;
    seen.add(key);
    const group = groups.find((g) => g.every((other) => compatible(block, other)));
    if (group) group.push(block);
    else groups.push([block]);
  }
  return groups.map((g) => entriesOf(g, family));
}
