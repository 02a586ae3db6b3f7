// What the agent loop needs from the cluster, the pure render, the dataplane edge and the report,
// as small interfaces: the loop runs against the real API server and iptables in production and
// is tested directly through these ports (with a hand-moved clock).
import type { NodeEnforcementStatus } from '../api/nodeenforcement.js';
import type { NodeRender } from '../dataplane/render-node.js';
import type { ClusterObjects } from '../netpol/types.js';

/** A node report without the heartbeat fields, which the writer fills in. */
export type ReportContent = Omit<NodeEnforcementStatus, 'heartbeatTime' | 'heartbeatSeconds'>;

/** `full`: render from scratch (the periodic resync) rather than from the previous render. */
export type RenderNode = (snapshot: ClusterObjects, node: string, opts?: { full: boolean }) => NodeRender;

/** The cluster objects the agent renders from (WatchedCluster: watch caches on the API server). */
export interface ClusterSource {
  /** Starts watching; `changed` is called on every change. */
  start(changed: () => void): void;
  /** Resolves once every kind has been listed once (the agent never programs a partial view). */
  synced(): Promise<void>;
  snapshot(): ClusterObjects;
  stop(): Promise<void>;
}

/** Where the agent reports what it enforces (ReportWriter: the node's NodeEnforcement object). */
export interface ReportSink {
  update(content: ReportContent): void;
  /** Writes what is pending (on shutdown). */
  flush(): Promise<void>;
  stop(): void;
}

export interface DataplaneApplier {
  /** "nft" or "legacy". */
  readonly backend: string;
  /**
   * Programs the ruleset; `full` re-reads the real state to repair drift. With `cutFlows: false`
   * it returns once the rules are in place, saying whether anything changed. Throws on failure,
   * leaving the last good rules in place. (NodeDataplane.)
   */
  apply(render: NodeRender, opts: { full: boolean; cutFlows: false }): Promise<{ changed: boolean }>;
  /**
   * Cuts the tracked flows the rules deny, judged by the render `render()` returns when the
   * flows have been listed (the newest). Runs behind the rules (flow-cutter.ts).
   */
  cutFlows(render: () => NodeRender): Promise<unknown>;
  /** Removes everything the agent ever installed. */
  cleanup(): Promise<unknown>;
}
