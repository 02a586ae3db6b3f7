// IPv4 arithmetic for lab addressing (subnets of pod IPs, gateway picking), on the project's one
// address module.
import { cidrContains as contains, formatIPv4, parseCidr, parseIP } from '../../operator/net/address.js';

export function ipv4ToInt(ip: string): number {
  const address = parseIP(ip);
  if (address?.family !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  return address.bytes.reduce((n, b) => n * 256 + b, 0);
}

export const intToIpv4 = formatIPv4;

function ipv4Cidr(cidr: string): ReturnType<typeof parseCidr> {
  const c = parseCidr(cidr);
  if (c.family !== 4) throw new Error(`not an IPv4 subnet: ${cidr}`);
  return c;
}

/** "10.244.1.7", 24 -> "10.244.1.0/24" */
export function subnetOf(ip: string, prefixLength: number): string {
  return ipv4Cidr(`${intToIpv4(ipv4ToInt(ip))}/${prefixLength}`).text;
}

export function cidrContains(cidr: string, ip: string): boolean {
  return contains(ipv4Cidr(cidr), ipv4ToInt(ip));
}

/** Host addresses of a subnet in the order a gateway is picked: first, last, then upwards. */
export function gatewayCandidates(cidr: string): string[] {
  const c = ipv4Cidr(cidr);
  const start = c.network;
  const size = 2 ** (32 - c.prefix);
  if (size < 4) throw new Error(`pod subnet ${cidr} is too small for pods and a gateway`);
  const out = [start + 1, start + size - 2];
  for (let i = 2; i < Math.min(size - 2, 64); i++) out.push(start + i);
  return out.map(intToIpv4);
}
