// ipBlock peers: validation the API server would do (excepts strictly inside the CIDR), canonical
// text, and address membership (CIDR minus every except).
import type { IPBlock } from '../api/networkpolicy.js';
import { cidrWithin, ipv4InCidr, parseCidr, parseIPv4, type Cidr } from './cidr.js';
import type { CidrBlock } from './types.js';

export interface ParsedBlock {
  cidr: Cidr;
  except: Cidr[];
}

/** Parses and checks an ipBlock; throws an Error whose message says what is wrong. */
export function parseIPBlock(block: IPBlock): ParsedBlock {
  if (typeof block !== 'object' || block === null || typeof block.cidr !== 'string') {
    throw new Error('ipBlock needs a cidr');
  }
  const cidr = parseCidr(block.cidr);
  const excepts = block.except ?? [];
  if (!Array.isArray(excepts)) throw new Error('ipBlock.except must be a list');
  const except = excepts.map((text) => {
    const e = parseCidr(text);
    if (!(cidrWithin(e, cidr) && e.prefix > cidr.prefix)) {
      throw new Error(`except ${text} is not a strict subset of cidr ${block.cidr}`);
    }
    return e;
  });
  return { cidr, except };
}

/** Canonical model form: normalised text, excepts sorted and de-duplicated. */
export function toCidrBlock(block: ParsedBlock): CidrBlock {
  return { cidr: block.cidr.text, except: [...new Set(block.except.map((e) => e.text))].sort() };
}

/** Is an IPv4 address in the CIDR and in none of its excepts? */
export function blockContainsIPv4(block: ParsedBlock, ip: string): boolean {
  const n = parseIPv4(ip);
  return n !== undefined && blockContainsIPv4Number(block, n);
}

/** blockContainsIPv4 for an address already parsed to a number. */
export function blockContainsIPv4Number(block: ParsedBlock, ip: number): boolean {
  return ipv4InCidr(ip, block.cidr) && !block.except.some((e) => ipv4InCidr(ip, e));
}

/** Re-parses a model CidrBlock (already validated). */
export function parseCidrBlock(block: CidrBlock): ParsedBlock {
  return { cidr: parseCidr(block.cidr), except: block.except.map(parseCidr) };
}
