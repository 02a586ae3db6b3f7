// The contract between render (pure: model -> ruleset) and apply (the edge that programs a
// node). A ruleset is data; text for ipset/iptables-restore is derived from it, and apply
// diffs rulesets chain by chain and set by set.

import type { Family } from '../net/address.js';

export type IpsetType = 'hash:ip' | 'hash:net';

export interface IpsetSpec {
  /** Agent-owned set name (prefixed, at most 31 characters). */
  name: string;
  type: IpsetType;
  /** Sorted entries; hash:net entries may end in " nomatch" for ipBlock excepts. */
  entries: string[];
}

export interface ChainSpec {
  /** Agent-owned chain in the filter table (prefixed, at most 28 characters). */
  name: string;
  /** Rule bodies as for iptables-restore, without the leading "-A CHAIN". */
  rules: string[];
}

/** A jump from a built-in chain into an agent chain, found again by its comment. */
export interface HookSpec {
  builtin: 'FORWARD' | 'INPUT' | 'OUTPUT';
  /** Rule body without "-A/-I BUILTIN"; carries a "-m comment --comment ..." that identifies it. */
  rule: string;
}

/**
 * A ruleset is a value: nothing modifies one after it is built. The incremental renderer shares
 * unchanged chains between results and the applier recognises them by identity.
 */
export interface Ruleset {
  /**
   * The address family: 4 goes to iptables-restore with `family inet` sets, 6 to
   * ip6tables-restore with `family inet6` sets. A node has one ruleset of each, from one model.
   */
  family: Family;
  ipsets: IpsetSpec[];
  chains: ChainSpec[];
  hooks: HookSpec[];
}

export interface FamilyCounts {
  chains: number;
  rules: number;
  ipsetEntries: number;
}

/** What a rendered ruleset enforces, for reports (per-node status) and logs. */
export interface RulesetSummary {
  /** Both families together. */
  chains: number;
  rules: number;
  ipsetEntries: number;
  /** The same counts per family. */
  families: { ipv4: FamilyCounts; ipv6: FamilyCounts };
  /** "namespace/name" -> UID and generation of each programmed policy that selects a local pod. */
  policies: { namespace: string; name: string; uid?: string; generation?: number }[];
}
