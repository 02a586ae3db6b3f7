// The CEL environment in which the API server evaluates the CRD's x-kubernetes-validations
// rules, for the offline validator: the standard CEL library (@marcbachmann/cel-js) plus the
// part of Kubernetes' IP/CIDR library (k8s.io/apiserver/pkg/cel/library) that rules may use.
// A rule calling a function this environment lacks fails to compile here, and a unit test
// compiles every rule of the CRD, so the two cannot silently drift apart.
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { formatCidr, maskCidr, containsCidr, parseCidr, type Cidr } from './cidr.js';

/** Kubernetes' net.IP: an address without a prefix. */
export class CelIP {
  constructor(readonly addr: Cidr) {}
  toString(): string {
    const text = formatCidr(this.addr);
    return text.slice(0, text.lastIndexOf('/'));
  }
}

/** Kubernetes' net.CIDR: an address (host bits as written) and a prefix length. */
export class CelCIDR {
  constructor(readonly cidr: Cidr) {}
  toString(): string {
    return formatCidr(this.cidr);
  }
}

/**
 * An address alone, parsed as strictly as the API server's ip(): the CIDR parser's rules for the
 * address part (no zones, no IPv4-mapped IPv6, no leading zeros), with a full-length prefix.
 */
function parseIP(text: string): Cidr | undefined {
  if (text.includes('/')) return undefined;
  return parseCidr(`${text}/${text.includes(':') ? 128 : 32}`);
}

function cidrOrThrow(text: string): CelCIDR {
  const c = parseCidr(text);
  if (!c) throw new Error(`network address parse error during conversion from string: ${text}`);
  return new CelCIDR(c);
}

function ipOrThrow(text: string): CelIP {
  const a = parseIP(text);
  if (!a) throw new Error(`IP Address "${text}" parse error during conversion from string`);
  return new CelIP(a);
}

const full = (c: Cidr): Cidr => ({ ...c, prefix: c.family === 4 ? 32 : 128 });
const sameAddress = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.bytes.every((x, i) => x === b.bytes[i]);

function buildEnvironment(): Environment {
  return new Environment({ unlistedVariablesAreDyn: true })
    .registerType('net.IP', CelIP)
    .registerType('net.CIDR', CelCIDR)
    .registerFunction('isIP(string): bool', (s: string) => parseIP(s) !== undefined)
    .registerFunction('ip(string): net.IP', ipOrThrow)
    .registerFunction('string(net.IP): string', (ip: CelIP) => ip.toString())
    .registerFunction('net.IP.family(): int', (ip: CelIP) => BigInt(ip.addr.family))
    .registerOperator('net.IP == net.IP', (a: CelIP, b: CelIP) => sameAddress(a.addr, b.addr))
    .registerFunction('isCIDR(string): bool', (s: string) => parseCidr(s) !== undefined)
    .registerFunction('cidr(string): net.CIDR', cidrOrThrow)
    .registerFunction('string(net.CIDR): string', (c: CelCIDR) => c.toString())
    .registerFunction('net.CIDR.ip(): net.IP', (c: CelCIDR) => new CelIP(full(c.cidr)))
    .registerFunction('net.CIDR.masked(): net.CIDR', (c: CelCIDR) => new CelCIDR(maskCidr(c.cidr)))
    .registerFunction('net.CIDR.prefixLength(): int', (c: CelCIDR) => BigInt(c.cidr.prefix))
    .registerFunction('net.CIDR.containsIP(string): bool', (c: CelCIDR, s: string) =>
      containsCidr(c.cidr, ipOrThrow(s).addr),
    )
    .registerFunction('net.CIDR.containsIP(net.IP): bool', (c: CelCIDR, ip: CelIP) =>
      containsCidr(c.cidr, ip.addr),
    )
    .registerFunction('net.CIDR.containsCIDR(string): bool', (c: CelCIDR, s: string) =>
      containsCidr(c.cidr, cidrOrThrow(s).cidr),
    )
    .registerFunction('net.CIDR.containsCIDR(net.CIDR): bool', (c: CelCIDR, o: CelCIDR) =>
      containsCidr(c.cidr, o.cidr),
    )
    .registerOperator(
      'net.CIDR == net.CIDR',
      (a: CelCIDR, b: CelCIDR) => a.cidr.prefix === b.cidr.prefix && sameAddress(a.cidr, b.cidr),
    );
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
