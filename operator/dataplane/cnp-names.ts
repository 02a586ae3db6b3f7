// Names and mark bits of the ClusterNetworkPolicy tiers in the ruleset (operator/dataplane/
// cnp-render.ts). Like names.ts: prefixed so the applier, the cleanup and the drift repair own
// them, and stable hashes of what they stand for, so an unchanged cluster renders byte-identical.
import { createHash } from 'node:crypto';
import type { Family } from '../net/address.js';
import { ALLOW_MARK, CHAIN_PREFIX, IPSET_PREFIX } from './names.js';

/**
 * Set by a Pass rule: "skip the rest of this tier". The group chain skips every later policy of
 * the tier while it is set and clears it where the tier ends, so it never leaves the agent's
 * chains. The bit next to ALLOW_MARK, clear of kube-proxy's (0x4000/0x8000) and kube-router's.
 */
export const TIER_PASS_MARK = ALLOW_MARK * 2;
export const TIER_PASS_MARK_HEX = `0x${TIER_PASS_MARK.toString(16)}`;
/** Both bits, cleared together where a tiered group chain starts. */
export const TIER_MARKS_HEX = `0x${(ALLOW_MARK | TIER_PASS_MARK).toString(16)}`;

/** Reached by `-g` from a ClusterNetworkPolicy chain on a Pass rule: sets TIER_PASS_MARK. */
export const TIER_PASS_CHAIN = `${CHAIN_PREFIX}CNP-PASS`;
/** Reached by `-g` on a Deny rule: drops (the API's Deny "Drops the selected traffic"). */
export const TIER_DENY_CHAIN = `${CHAIN_PREFIX}CNP-DENY`;

/**
 * The policy key a ClusterNetworkPolicy takes where the render keys by policy (named-port sets).
 * NetworkPolicy keys are "namespace/name"; this one has no "/", so the two never meet.
 */
export function cnpPolicyKey(name: string): string {
  return `ClusterNetworkPolicy:${name}`;
}

function digest(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

/** One ClusterNetworkPolicy's rules for one direction: STN-CI-<hash> / STN-CE-<hash>. */
export function cnpChainName(direction: 'ingress' | 'egress', name: string): string {
  return `${CHAIN_PREFIX}C${direction === 'ingress' ? 'I' : 'E'}-${digest(`cnp|${direction}|${name}`)}`;
}

/**
 * The chain shared by local pods with the same Admin, NetworkPolicy and Baseline lists in one
 * direction (STN-GI-<hash> / STN-GE-<hash>), and the hash:ip set that dispatches to it
 * (stn-g-<16 hex>, IPv6 stn-g6-<15 hex>; the direction is in the hash).
 */
export function tieredGroupNames(
  direction: 'ingress' | 'egress',
  identity: string,
  family: Family,
): { chain: string; ipset: string } {
  const h = digest(`tiered|${direction}|${identity}`);
  return {
    chain: `${CHAIN_PREFIX}G${direction === 'ingress' ? 'I' : 'E'}-${h}`,
    ipset: family === 4 ? `${IPSET_PREFIX}g-${h}` : `${IPSET_PREFIX}g6-${h.slice(0, 15)}`,
  };
}
