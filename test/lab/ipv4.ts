// IPv4 arithmetic for lab addressing (subnets of pod IPs, gateway picking).
import ipaddr from 'ipaddr.js';

export function ipv4ToInt(ip: string): number {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  return ipaddr.IPv4.parse(ip).octets.reduce((acc, o) => acc * 256 + o, 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** "10.244.1.7", 24 -> "10.244.1.0/24" */
export function subnetOf(ip: string, prefixLength: number): string {
  const size = 2 ** (32 - prefixLength);
  return `${intToIpv4(Math.floor(ipv4ToInt(ip) / size) * size)}/${prefixLength}`;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base ?? '') / size);
}

/** Host addresses of a subnet in the order a gateway is picked: first, last, then upwards. */
export function gatewayCandidates(cidr: string): string[] {
  const [base, len] = cidr.split('/');
  const start = ipv4ToInt(base ?? '');
  const size = 2 ** (32 - Number(len));
  if (size < 4) throw new Error(`pod subnet ${cidr} is too small for pods and a gateway`);
  const out = [start + 1, start + size - 2];
  for (let i = 2; i < Math.min(size - 2, 64); i++) out.push(start + i);
  return out.map(intToIpv4);
}
