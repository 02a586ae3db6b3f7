// Everything the agent owns on a node is recognisable by name: chains start with "STN-", ipsets
// with "stn-", hook rules carry a comment starting with "softtenant:". Names are stable hashes of
// what the object stands for (a policy, a set of policies, a rule's peers), never of time or
// order, so a re-render of an unchanged cluster gives byte-identical output and the apply edge
// rewrites only what changed.
import { createHash } from 'node:crypto';
import type { Family } from '../net/address.js';

export const CHAIN_PREFIX = 'STN-';
export const IPSET_PREFIX = 'stn-';
/** iptables limits chain names to 28 characters. */
export const MAX_CHAIN_NAME = 28;
/**
 * ipset allows 31 characters; render names stay within 22 so that apply can derive a temporary
 * name for an atomic `ipset swap` by appending up to 9 characters.
 */
export const MAX_RENDERED_IPSET_NAME = 22;

/** Comment prefix of every hook rule the agent puts into a built-in chain. */
export const HOOK_COMMENT_PREFIX = 'softtenant:';

/** The agent's entry chain, jumped to from FORWARD. */
export const TOP_CHAIN = 'STN-FORWARD';
/** Reached by `-g` from a policy chain when a rule allows the packet: sets ALLOW_MARK. */
export const MARK_CHAIN = 'STN-MARK';
/** Reached by `-g` from a per-pod-group chain once a direction is allowed: clears ALLOW_MARK. */
export const PASS_CHAIN = 'STN-PASS';

/**
 * The packet-mark bit that carries "some policy allowed this direction" from a policy chain back
 * to the chain that called it. It is cleared before every check and before the packet leaves the
 * agent's chains, so it never leaks to other tools. kube-proxy uses 0x4000/0x8000 and kube-router
 * 0x10000/0x20000; this bit is clear of both.
 */
export const ALLOW_MARK = 0x1000000;
export const ALLOW_MARK_HEX = `0x${ALLOW_MARK.toString(16)}`;

function digest(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

/** Chain holding one policy's rules for one direction: STN-PI-<hash> / STN-PE-<hash>. */
export function policyChainName(direction: 'ingress' | 'egress', policyKey: string): string {
  return `${CHAIN_PREFIX}P${direction === 'ingress' ? 'I' : 'E'}-${digest(`policy|${direction}|${policyKey}`)}`;
}

/**
 * Chain shared by the local pods that the same set of policies isolates in one direction
 * (STN-I-<hash> / STN-E-<hash>), and the hash:ip set of those pods' IPs that dispatches to it
 * (stn-i-<hash> / stn-e-<hash>).
 */
export function podGroupNames(
  direction: 'ingress' | 'egress',
  policyKeys: readonly string[],
  family: Family = 4,
): { chain: string; ipset: string } {
  const d = direction === 'ingress' ? 'i' : 'e';
  const h = digest(`group|${direction}|${policyKeys.join(',')}`);
  return { chain: `${CHAIN_PREFIX}${d.toUpperCase()}-${h}`, ipset: setName(d, h, family) };
}

/**
 * Chains live in two tables (iptables, ip6tables) and keep one name in both; ipsets share one
 * namespace per node, so an IPv6 set is told apart by a "6" after its kind, and its hash is one
 * digit shorter to stay within MAX_RENDERED_IPSET_NAME: stn-p-<16 hex> / stn-p6-<15 hex>.
 */
function setName(kind: string, hash: string, family: Family): string {
  return family === 4 ? `${IPSET_PREFIX}${kind}-${hash}` : `${IPSET_PREFIX}${kind}6-${hash.slice(0, 15)}`;
}

/**
 * A set of peer addresses, named after what it stands for so that rules meaning the same peers
 * share it, and so that pods coming and going change its entries but never its name. `kind`:
 * "p" the pods of a list of selector peers (hash:ip), "n" ipBlocks (hash:net), "d" the pods a
 * named port resolves to one number on (hash:ip). `identity` is the canonical description.
 */
export function peerSetName(kind: 'p' | 'n' | 'd', identity: string, family: Family = 4): string {
  return setName(kind, digest(`set|${kind}|${identity}`), family);
}

/** Text safe inside a double-quoted iptables comment (at most 256 bytes). */
export function commentText(text: string): string {
  return text.replace(/[^A-Za-z0-9 ._/:,=-]/g, '_').slice(0, 250);
}
