// Strict CIDR parsing that accepts what the API server's CEL isCIDR()/cidr() accept (Go's
// netip.ParsePrefix minus zones and IPv4-mapped IPv6), so that the offline validator and the CRD
// agree. ipaddr.js is more lenient (it reads "::1.2.3.4" as IPv4-mapped, allows zones), hence a
// parser of our own.

export interface Cidr {
  family: 4 | 6;
  /** 4 or 16 bytes of the address as written (host bits included). */
  bytes: number[];
  prefix: number;
}

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const out: number[] = [];
  for (const g of text.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

function parseIPv6(text: string): number[] | undefined {
  let head = text;
  let tail4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail4 = [v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]];
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::"; "1::2:1.2.3.4" leaves "1::2:" whose trailing ':' is the separator.
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const left = parseGroups(halves[0]);
    const right = parseGroups(halves[1]);
    if (!left || !right) return undefined;
    const missing = 8 - left.length - right.length - tail4.length;
    // "::" stands for at least one zero group.
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right, ...tail4];
  } else {
    const all = parseGroups(head);
    if (!all) return undefined;
    groups = [...all, ...tail4];
    if (groups.length !== 8) return undefined;
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function isIPv4Mapped(bytes: readonly number[]): boolean {
  return bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || text.indexOf('/', slash + 1) >= 0) return undefined;
  const addr = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (addr.includes(':')) {
    const bytes = parseIPv6(addr);
    if (!bytes || isIPv4Mapped(bytes) || prefix > 128) return undefined;
    return { family: 6, bytes, prefix };
  }
  const bytes = parseIPv4(addr);
  if (!bytes || prefix > 32) return undefined;
  return { family: 4, bytes, prefix };
}

function masked(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** The network of c: its address with the host bits cleared. */
export function maskCidr(c: Cidr): Cidr {
  return { ...c, bytes: masked(c.bytes, c.prefix) };
}

export function hasHostBits(c: Cidr): boolean {
  return masked(c.bytes, c.prefix).some((b, i) => b !== c.bytes[i]);
}

/** RFC 5952 text of an IPv6 address: lowercase, no leading zeros, longest zero run (>= 2) as "::". */
function formatIPv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** The text CEL's string(cidr(x)) gives: the address in canonical form and the prefix length. */
export function formatCidr(c: Cidr): string {
  const addr = c.family === 4 ? c.bytes.join('.') : formatIPv6(c.bytes);
  return `${addr}/${c.prefix}`;
}

/** Does outer contain every address of inner (same family, at least as long a prefix)? */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const a = masked(outer.bytes, outer.prefix);
  const b = masked(inner.bytes, outer.prefix);
  return a.every((x, i) => x === b[i]);
}
