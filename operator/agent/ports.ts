// What the agent needs from the pure render and from the dataplane edge, as small interfaces so
// the agent loop can be driven against the real API server with any dataplane.
import type { PolicyError } from '../api/nodeenforcement.js';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { Ruleset, RulesetSummary } from '../dataplane/types.js';

export interface ClusterSnapshot {
  namespaces: readonly Namespace[];
  pods: readonly Pod[];
  policies: readonly NetworkPolicy[];
}

export interface NodeRender {
  ruleset: Ruleset;
  summary: RulesetSummary;
  /** Policies the render could not program on this node (they are left out). */
  problems: PolicyError[];
}

export type RenderNode = (snapshot: ClusterSnapshot, node: string) => NodeRender;

export interface DataplaneApplier {
  /** "nft" or "legacy". */
  readonly backend: string;
  /** Programs the ruleset; `full` re-reads the real state to repair drift. Throws on failure. */
  apply(ruleset: Ruleset, opts: { full: boolean }): Promise<void>;
  /** Removes everything the agent ever installed. */
  cleanup(): Promise<void>;
}
