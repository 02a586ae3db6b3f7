// What the agent needs from the pure render and from the dataplane edge, as small interfaces so
// the agent loop can be driven against the real API server with any dataplane.
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { NodeRender } from '../dataplane/render-node.js';

export interface ClusterSnapshot {
  namespaces: readonly Namespace[];
  pods: readonly Pod[];
  policies: readonly NetworkPolicy[];
}

/** `full`: render from scratch (the periodic resync) rather than from the previous render. */
export type RenderNode = (snapshot: ClusterSnapshot, node: string, opts?: { full: boolean }) => NodeRender;

export interface DataplaneApplier {
  /** "nft" or "legacy". */
  readonly backend: string;
  /**
   * Programs the ruleset (and cuts flows it now denies); `full` re-reads the real state to
   * repair drift. Throws on failure, leaving the last good rules in place. (NodeDataplane.)
   */
  apply(render: NodeRender, opts: { full: boolean }): Promise<unknown>;
  /** Removes everything the agent ever installed. */
  cleanup(): Promise<unknown>;
}
