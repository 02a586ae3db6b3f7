// What the agent needs from the pure render and from the dataplane edge, as small interfaces so
// the agent loop can be driven against the real API server with any dataplane.
import type { PolicyError } from '../api/nodeenforcement.js';
import type { Ruleset, RulesetSummary } from '../dataplane/types.js';
import type { ClusterObjects, NodeModel } from '../netpol/types.js';

export interface NodeRender {
  model: NodeModel;
  ruleset: Ruleset;
  summary: RulesetSummary;
  /** Policies the render could not program on this node (they are left out). */
  problems: PolicyError[];
  /** 'pods': computed from the previous render (pod churn only); 'full': from scratch. */
  mode?: 'full' | 'pods';
  /** Why a render was full (first render, resync, or what the pod-only path could not do). */
  fullReason?: string;
}

/** `full`: render from scratch (the periodic resync) rather than from the previous render. */
export type RenderNode = (snapshot: ClusterObjects, node: string, opts?: { full: boolean }) => NodeRender;

export interface DataplaneApplier {
  /** "nft" or "legacy". */
  readonly backend: string;
  /**
   * Programs the ruleset (and cuts flows it now denies); `full` re-reads the real state to
   * repair drift. Throws on failure, leaving the last good rules in place.
   */
  apply(render: NodeRender, opts: { full: boolean }): Promise<void>;
  /** Removes everything the agent ever installed. */
  cleanup(): Promise<void>;
}
