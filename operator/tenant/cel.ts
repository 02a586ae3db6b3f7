// The CEL environment in which the API server evaluates the CRD's x-kubernetes-validations
// rules, for the offline validator: the standard CEL library (@marcbachmann/cel-js) plus the
// part of Kubernetes' IP/CIDR library (k8s.io/apiserver/pkg/cel/library) that rules may use.
// A rule calling a function this environment lacks fails to compile here, and a unit test
// compiles every rule of the CRD, so the two cannot silently drift apart.
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { cidrContains, formatIP, parseIP, tryParseCidr, type Cidr, type IPAddress } from '../net/address.js';

/** Kubernetes' net.IP: an address without a prefix. */
export class CelIP {
  constructor(readonly addr: IPAddress) {}
  toString(): string {
    return formatIP(this.addr.bytes);
  }
}

/** Kubernetes' net.CIDR: an address (host bits as written) and a prefix length. */
export class CelCIDR {
  constructor(readonly cidr: Cidr) {}
  toString(): string {
    return this.cidr.written;
  }
}

// The strict syntax of net/address.ts is the API server's (Go netip: no zones, no IPv4-mapped
// IPv6, no leading zeros).
function cidrOrThrow(text: string): CelCIDR {
  const c = tryParseCidr(text, 'strict');
  if (!c) throw new Error(`network address parse error during conversion from string: ${text}`);
  return new CelCIDR(c);
}

function ipOrThrow(text: string): CelIP {
  const a = parseIP(text, 'strict');
  if (!a) throw new Error(`IP Address "${text}" parse error during conversion from string`);
  return new CelIP(a);
}

/** An address as a CIDR of its full length, for containment. */
const hostCidr = (ip: IPAddress): Cidr =>
  tryParseCidr(`${formatIP(ip.bytes)}/${ip.family === 4 ? 32 : 128}`) as Cidr;
const sameAddress = (a: IPAddress, b: IPAddress): boolean =>
  a.family === b.family && a.bytes.every((x, i) => x === b.bytes[i]);

function buildEnvironment(): Environment {
  return new Environment({ unlistedVariablesAreDyn: true })
    .registerType('net.IP', CelIP)
    .registerType('net.CIDR', CelCIDR)
    .registerFunction('isIP(string): bool', (s: string) => parseIP(s, 'strict') !== undefined)
    .registerFunction('ip(string): net.IP', ipOrThrow)
    .registerFunction('string(net.IP): string', (ip: CelIP) => ip.toString())
    .registerFunction('net.IP.family(): int', (ip: CelIP) => BigInt(ip.addr.family))
    .registerOperator('net.IP == net.IP', (a: CelIP, b: CelIP) => sameAddress(a.addr, b.addr))
    .registerFunction('isCIDR(string): bool', (s: string) => tryParseCidr(s, 'strict') !== undefined)
    .registerFunction('cidr(string): net.CIDR', cidrOrThrow)
    .registerFunction('string(net.CIDR): string', (c: CelCIDR) => c.toString())
    .registerFunction('net.CIDR.ip(): net.IP', (c: CelCIDR) => new CelIP(c.cidr.address))
    .registerFunction('net.CIDR.masked(): net.CIDR', (c: CelCIDR) => cidrOrThrow(c.cidr.text))
    .registerFunction('net.CIDR.prefixLength(): int', (c: CelCIDR) => BigInt(c.cidr.prefix))
    .registerFunction('net.CIDR.containsIP(string): bool', (c: CelCIDR, s: string) =>
      cidrContains(c.cidr, hostCidr(ipOrThrow(s).addr)),
    )
    .registerFunction('net.CIDR.containsIP(net.IP): bool', (c: CelCIDR, ip: CelIP) =>
      cidrContains(c.cidr, hostCidr(ip.addr)),
    )
    .registerFunction('net.CIDR.containsCIDR(string): bool', (c: CelCIDR, s: string) =>
      cidrContains(c.cidr, cidrOrThrow(s).cidr),
    )
    .registerFunction('net.CIDR.containsCIDR(net.CIDR): bool', (c: CelCIDR, o: CelCIDR) =>
      cidrContains(c.cidr, o.cidr),
    )
    .registerOperator('net.CIDR == net.CIDR', (a: CelCIDR, b: CelCIDR) => a.cidr.written === b.cidr.written);
}

let environment: Environment | undefined;
const compiled = new Map<string, ParseResult>();

/** A rule compiled once (rules repeat across the schema: one selector shape is used ten times). */
export function compileRule(expression: string): ParseResult {
  let program = compiled.get(expression);
  if (!program) {
    environment ??= buildEnvironment();
    program = environment.parse(expression);
    compiled.set(expression, program);
  }
  return program;
}
