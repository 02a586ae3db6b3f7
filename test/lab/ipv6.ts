// IPv6 arithmetic for lab addressing (a node's /64 pod subnet and its gateway), on the project's
// one address module.
import { formatIP, parseCidr, parseIP } from '../../operator/net/address.js';

/** The prefix of every IPv6 pod subnet in the lab (one per node, as a CNI hands out). */
export const podPrefixLength6 = 64;

/** "fd00:10:244:1::10" -> "fd00:10:244:1::/64" */
export function subnetOf6(ip: string): string {
  const c = parseCidr(`${ip}/${podPrefixLength6}`, 'legacy');
  if (c.family !== 6) throw new Error(`not an IPv6 address: ${ip}`);
  return c.text;
}

/** Host addresses of a /64 in the order a gateway is picked: ::1, ::2, ... */
export function gatewayCandidates6(cidr: string): string[] {
  const c = parseCidr(cidr);
  if (c.family !== 6) throw new Error(`not an IPv6 subnet: ${cidr}`);
  return Array.from({ length: 16 }, (_, i) => formatIP([...c.bytes.slice(0, 15), i + 1]));
}

/** Canonical text of an IPv6 literal (RFC 5952), so addresses compare as the kernel prints them. */
export function canonical6(ip: string): string {
  const a = parseIP(ip, 'legacy');
  if (a?.family !== 6) throw new Error(`not an IPv6 address: ${ip}`);
  return formatIP(a.bytes);
}
