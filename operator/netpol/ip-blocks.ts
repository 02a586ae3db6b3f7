// ipBlock peers: validation the API server would do (excepts strictly inside the CIDR), canonical
// text, and address membership (CIDR minus every except). Policies are read in the legacy
// syntax (see net/address.ts): the API server still serves ipBlocks written before it became
// strict, and host bits in them are cleared, as every enforcer does.
import type { IPBlock } from '../api/networkpolicy.js';
import { cidrContains, cidrContainsIP, isStrictSubset, parseCidr, type Cidr } from '../net/address.js';
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
  const cidr = parseCidr(block.cidr, 'legacy');
  const excepts = block.except ?? [];
  if (!Array.isArray(excepts)) throw new Error('ipBlock.except must be a list');
  const except = excepts.map((text) => {
    const e = parseCidr(text, 'legacy');
    if (!isStrictSubset(e, cidr)) {
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

/** Is an address (either family) in the CIDR and in none of its excepts? A block holds one family. */
export function blockContainsIP(block: ParsedBlock, ip: string): boolean {
  return cidrContainsIP(block.cidr, ip) && !block.except.some((e) => cidrContainsIP(e, ip));
}

/** blockContainsIP for an IPv4 address already parsed to a number (the model's fast path). */
export function blockContainsIPv4Number(block: ParsedBlock, ip: number): boolean {
  return cidrContains(block.cidr, ip) && !block.except.some((e) => cidrContains(e, ip));
}

/** Re-parses a model CidrBlock (already validated). */
export function parseCidrBlock(block: CidrBlock): ParsedBlock {
  return { cidr: parseCidr(block.cidr, 'legacy'), except: block.except.map((e) => parseCidr(e, 'legacy')) };
}
