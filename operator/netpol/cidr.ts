// IP addresses and CIDRs as numbers: parsing, canonical text, containment. IPv4 is what the
// iptables render programs, so it gets a fast uint32 path; IPv6 is parsed (validated) by ipaddr.js
// and carried through the model as canonical text.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Canonical "network/prefix" (host bits cleared). */
  text: string;
  prefix: number;
  /** IPv4 only: network address as an unsigned 32-bit number. */
  network: number;
}

/**
 * Parses dotted-quad IPv4 ("a.b.c.d", 1-3 digits each, 0-255) into an unsigned 32-bit number;
 * undefined if it is not one. A character loop, because it runs for every pod on every sync.
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

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The address family of an IP literal, or undefined when it is not an IP address. */
export function ipFamily(text: string): Family | undefined {
  if (parseIPv4(text) !== undefined) return 4;
  return ipaddr.IPv6.isValid(text) && text.includes(':') ? 6 : undefined;
}

/** Parses "a.b.c.d/n" or an IPv6 CIDR; throws with the offending text when invalid. */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw new Error(`CIDR must be a string, got ${typeof text}`);
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`"${text}" is not a CIDR (no prefix length)`);
  const addr = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw new Error(`"${text}" has an invalid prefix length`);
  const prefix = Number(prefixText);
  const v4 = parseIPv4(addr);
  if (v4 !== undefined) {
    if (prefix > 32) throw new Error(`"${text}" has an invalid prefix length`);
    const network = (v4 & maskOf(prefix)) >>> 0;
    return { family: 4, text: `${formatIPv4(network)}/${prefix}`, prefix, network };
  }
  if (addr.includes(':') && ipaddr.IPv6.isValid(addr)) {
    if (prefix > 128) throw new Error(`"${text}" has an invalid prefix length`);
    const [net] = ipaddr.IPv6.networkAddressFromCIDR(text).toNormalizedString().split('/');
    const canonical = ipaddr.IPv6.parse(net ?? addr).toString();
    return { family: 6, text: `${canonical}/${prefix}`, prefix, network: 0 };
  }
  throw new Error(`"${text}" is not a valid IP address range`);
}

/** IPv4: does `inner` lie entirely inside `outer` (equal counts as inside)? */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.family !== outer.family) return false;
  if (inner.family === 6) {
    const [a] = ipaddr.parseCIDR(inner.text);
    return inner.prefix >= outer.prefix && a.match(ipaddr.parseCIDR(outer.text));
  }
  return inner.prefix >= outer.prefix && (inner.network & maskOf(outer.prefix)) >>> 0 === outer.network;
}

/** IPv4 address (as a number) inside an IPv4 CIDR? */
export function ipv4InCidr(ip: number, cidr: Cidr): boolean {
  return cidr.family === 4 && (ip & maskOf(cidr.prefix)) >>> 0 === cidr.network;
}
