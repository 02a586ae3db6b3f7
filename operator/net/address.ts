// IP addresses and CIDRs, IPv4 and IPv6, for the whole project: the SoftTenant validator (which
// must refuse what the CRD's CEL rules refuse), the NetworkPolicy model and render, and the lab.
//
// Values, canonical text and containment come from ipaddr.js. Which text counts as an address is
// decided here first, because ipaddr.js accepts far more than the API server does (octal and hex
// IPv4 parts, "10.1" short forms, zones, five-digit groups, a "::" that stands for nothing) and
// reads "::1.2.3.4" as the IPv4-mapped ::ffff:1.2.3.4. The grammar is Go's netip.ParseAddr, which
// is what CEL's isCIDR()/cidr() and the API server's strict IP validation use; see Syntax.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

/**
 * - 'strict': Go's netip grammar (CEL isCIDR()/cidr(), the API server's StrictIPCIDRValidation,
 *   on by default since Kubernetes 1.36): IPv4 as four decimal parts without leading zeros;
 *   IPv6 as 1-4 hex digits per group, at most one "::" standing for at least one zero group, an
 *   optional dotted IPv4 tail, no zone; a decimal prefix length without leading zeros; and no
 *   IPv4-mapped IPv6 (::ffff:a.b.c.d), which both CEL and the API server refuse.
 * - 'legacy': also what the API server accepted before (netutils.ParseCIDRSloppy): leading zeros
 *   in IPv4 parts and in the prefix length, read as decimal, and IPv4-mapped IPv6. Objects
 *   written then are still served, so whatever reads stored objects accepts this.
 */
export type Syntax = 'strict' | 'legacy';

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export interface IPAddress {
  family: Family;
  /** 4 or 16 bytes. */
  bytes: readonly number[];
}

export interface Cidr {
  family: Family;
  prefix: number;
  /** Canonical "network/prefix" (host bits cleared; RFC 5952 for IPv6): the model's form. */
  text: string;
  /** Canonical text of the address as written, and the prefix: CEL's string(cidr(x)). */
  written: string;
  /** The address as written has bits set beyond the prefix length. */
  hostBits: boolean;
  /** The address as written (host bits included), as CEL's cidr(x).ip() gives it. */
  address: IPAddress;
  /** Network address bytes (host bits cleared), 4 or 16. */
  bytes: readonly number[];
  /** IPv4 only: the network address as an unsigned 32-bit number (0 for IPv6). */
  network: number;
}

/**
 * Parses dotted-quad IPv4 ("a.b.c.d", 1-3 digits each, 0-255) into an unsigned 32-bit number;
 * undefined if it is not one. A character loop rather than ipaddr.js, because it runs for every
 * pod on every sync (pod IPs are written by the kubelet, not by people).
 */
export function parseIPv4(text: string): number | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46 && digits > 0 && dots < 3) {
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return undefined;
    }
  }
  return dots === 3 && digits > 0 ? n * 256 + octet : undefined;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const strictDecimal = /^(0|[1-9][0-9]*)$/;
const anyDecimal = /^[0-9]+$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

function ipv4Bytes(text: string, syntax: Syntax): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const pattern = syntax === 'strict' ? strictDecimal : anyDecimal;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!pattern.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

function hexGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const out: number[] = [];
  for (const g of text.split(':')) {
    if (!hexGroup.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

function ipv6Bytes(text: string, syntax: Syntax): number[] | undefined {
  let head = text;
  let tail: number[] = [];
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = ipv4Bytes(text.slice(lastColon + 1), syntax);
    if (!v4) return undefined;
    tail = [v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]];
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::"; "1::2:1.2.3.4" leaves "1::2:", whose last ':' only separates.
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  let groups: number[];
  if (halves.length === 2) {
    const left = hexGroups(halves[0]);
    const right = hexGroups(halves[1]);
    if (!left || !right) return undefined;
    const missing = 8 - left.length - right.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right, ...tail];
  } else if (halves.length === 1) {
    const all = hexGroups(head);
    if (!all) return undefined;
    groups = [...all, ...tail];
    if (groups.length !== 8) return undefined;
  } else {
    return undefined;
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function isIPv4Mapped(address: IPAddress): boolean {
  return (
    address.family === 6 && (ipaddr.fromByteArray([...address.bytes]) as ipaddr.IPv6).isIPv4MappedAddress()
  );
}

/** The address grammar alone (no IPv4-mapped rule). */
function parseAddressText(text: string, syntax: Syntax): IPAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) {
    const bytes = ipv6Bytes(text, syntax);
    return bytes ? { family: 6, bytes } : undefined;
  }
  const bytes = ipv4Bytes(text, syntax);
  return bytes ? { family: 4, bytes } : undefined;
}

/** An IP address literal in the given syntax, or undefined. */
export function parseIP(text: string, syntax: Syntax = 'strict'): IPAddress | undefined {
  const address = parseAddressText(text, syntax);
  return address && syntax === 'strict' && isIPv4Mapped(address) ? undefined : address;
}

/** The family of an IP literal as the API server may store it (pod IPs), or undefined. */
export function ipFamily(text: string): Family | undefined {
  if (parseIPv4(text) !== undefined) return 4;
  return parseIP(text, 'legacy')?.family;
}

/** Canonical text of an address: dotted decimal, or RFC 5952 (what Go's netip prints). */
export function formatIP(bytes: readonly number[]): string {
  const addr = ipaddr.fromByteArray([...bytes]);
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

function masked(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** Parses "address/prefix"; throws an AddressError that quotes the text and says what is wrong. */
export function parseCidr(text: string, syntax: Syntax = 'strict'): Cidr {
  if (typeof text !== 'string') throw new AddressError(`CIDR must be a string, got ${typeof text}`);
  const slash = text.indexOf('/');
  if (slash < 0) throw new AddressError(`"${text}" is not a CIDR (no prefix length)`);
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const address = parseAddressText(addressText, syntax);
  if (!address) {
    const why = parseAddressText(addressText, 'legacy')
      ? 'has leading zeros in the address'
      : 'is not a valid IP address range';
    throw new AddressError(`"${text}" ${why}`);
  }
  if (syntax === 'strict' && isIPv4Mapped(address))
    throw new AddressError(`"${text}" has an IPv4-mapped IPv6 address`);
  const bits = address.family === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (!(syntax === 'strict' ? strictDecimal : anyDecimal).test(prefixText) || prefix > bits)
    throw new AddressError(`"${text}" has an invalid prefix length`);
  const bytes = masked(address.bytes, prefix);
  return {
    family: address.family,
    prefix,
    text: `${formatIP(bytes)}/${prefix}`,
    written: `${formatIP(address.bytes)}/${prefix}`,
    hostBits: bytes.some((b, i) => b !== address.bytes[i]),
    address,
    bytes,
    network: address.family === 4 ? bytes.reduce((n, b) => n * 256 + b, 0) : 0,
  };
}

/** Parses without throwing: undefined when the text is not a CIDR in that syntax. */
export function tryParseCidr(text: string, syntax: Syntax = 'strict'): Cidr | undefined {
  try {
    return parseCidr(text, syntax);
  } catch {
    return undefined;
  }
}

/**
 * Does `outer` hold every address of `inner` (same family, equal counts as inside)? `inner` is a
 * CIDR, or an IPv4 address as a number (the render's fast path).
 */
export function cidrContains(outer: Cidr, inner: Cidr | number): boolean {
  if (typeof inner === 'number') {
    if (outer.family !== 4) return false;
    const mask = outer.prefix === 0 ? 0 : (0xffffffff << (32 - outer.prefix)) >>> 0;
    return (inner & mask) >>> 0 === outer.network;
  }
  if (inner.family !== outer.family || inner.prefix < outer.prefix) return false;
  const a = masked(inner.bytes, outer.prefix);
  return a.every((b, i) => b === outer.bytes[i]);
}

/** An ipBlock except must be a strict subset of its cidr: inside it and narrower. */
export function isStrictSubset(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix > outer.prefix && cidrContains(outer, inner);
}

/**
 * What the API server (Kubernetes 1.36, strict IP/CIDR validation) says about a new
 * NetworkPolicy ipBlock cidr or except value; undefined when it accepts it. It does not ask for
 * canonical text ("2001:DB8::/32" passes); the SoftTenant CRD's own CEL rules do.
 */
export function networkPolicyCidrError(text: string): string | undefined {
  const legacy = tryParseCidr(text, 'legacy');
  if (!legacy) return 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';
  // The order of the API server's checks: grammar, then IPv4-mapped, then host bits.
  const slash = text.indexOf('/');
  const address = parseAddressText(text.slice(0, slash), 'strict');
  if (!address || !strictDecimal.test(text.slice(slash + 1)))
    return 'must not have leading 0s in IP or prefix length';
  if (isIPv4Mapped(address)) return 'must not have an IPv4-mapped IPv6 address';
  if (legacy.hostBits) return 'must not have bits set beyond the prefix length';
  return undefined;
}

/** The family of an address the model already holds (validated): ':' only appears in IPv6. */
export function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

/**
 * Canonical text of an IP literal in the legacy syntax (what a pod's status may hold): IPv4 as
 * written, IPv6 in RFC 5952 form (what `ipset save` and `conntrack -L` print), so that the model,
 * the rules and what the kernel reports spell one address one way. Undefined if not an IP.
 */
export function canonicalIP(text: string): string | undefined {
  if (parseIPv4(text) !== undefined) return text;
  const hit = canonical6.get(text);
  if (hit !== undefined) return hit;
  const address = parseIP(text, 'legacy');
  if (!address) return undefined;
  return remember(canonical6, text, formatIP(address.bytes));
}

/**
 * IPv6 parsing results by text. Every render meets every pod's IPv6 address again (a dual-stack
 * cluster of 10k pods sorts thousands of them per peer set), and parsing is far slower than a
 * lookup. Bounded: emptied when full, so pod churn cannot grow it without end.
 */
const canonical6 = new Map<string, string>();
const keys6 = new Map<string, string>();
const memoLimit = 1 << 17;

function remember(memo: Map<string, string>, key: string, value: string): string {
  if (memo.size >= memoLimit) memo.clear();
  memo.set(key, value);
  return value;
}

/** A key that orders IPv6 addresses by value: 32 hex digits. */
function ipv6Key(ip: string): string {
  const hit = keys6.get(ip);
  if (hit !== undefined) return hit;
  const address = parseIP(ip, 'legacy');
  if (address?.family !== 6) throw new AddressError(`"${ip}" is not an IPv6 address`);
  return remember(keys6, ip, address.bytes.map((b) => b.toString(16).padStart(2, '0')).join(''));
}

/**
 * Orders two addresses: IPv4 before IPv6, each family by value. For the few comparisons of a
 * binary search; to sort a list use sortAddresses, which parses each address once.
 */
export function compareAddresses(a: string, b: string): number {
  const fa = familyOf(a);
  const fb = familyOf(b);
  if (fa !== fb) return fa - fb;
  if (fa === 4) return (parseIPv4(a) as number) - (parseIPv4(b) as number);
  const ka = ipv6Key(a);
  const kb = ipv6Key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Addresses sorted as compareAddresses orders them, each once. A list of IPv4 addresses only is
 * sorted by number without building keys for IPv6 (the common case, on every render).
 */
export function sortAddresses(ips: readonly string[]): string[] {
  const v4: { ip: string; n: number }[] = [];
  const v6: { ip: string; k: string }[] = [];
  for (const ip of ips) {
    if (ip.includes(':')) v6.push({ ip, k: ipv6Key(ip) });
    else v4.push({ ip, n: parseIPv4(ip) as number });
  }
  v4.sort((x, y) => x.n - y.n);
  v6.sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
  const out: string[] = [];
  for (const x of v4) if (out[out.length - 1] !== x.ip) out.push(x.ip);
  for (const x of v6) if (out[out.length - 1] !== x.ip) out.push(x.ip);
  return out;
}

/** Is an address (either family) inside a CIDR? Different families never contain each other. */
export function cidrContainsIP(outer: Cidr, ip: string): boolean {
  if (!ip.includes(':')) {
    const n = parseIPv4(ip);
    return n !== undefined && cidrContains(outer, n);
  }
  if (outer.family !== 6) return false;
  const address = parseIP(ip, 'legacy');
  if (address?.family !== 6) return false;
  return masked(address.bytes, outer.prefix).every((b, i) => b === outer.bytes[i]);
}
