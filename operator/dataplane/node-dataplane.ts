// The node's dataplane, the edge the agent drives: detect the iptables backend once, apply a
// node's render (cutting the conntrack entries of flows the new rules deny), clean up.
// Everything runs through one Runner, so the same object programs the host, a named network
// namespace, or a lab node's namespace.
//
// After every apply that changed something (a resync included) the flows the node's model now
// denies are cut, judged by the same evaluator the render is checked against.
import type { Logger } from '../util/logger.js';
import { logger } from '../util/logger.js';
import type { ApplyResult } from './apply.js';
import { RulesetApplier } from './apply.js';
import type { BackendChoice } from './backend.js';
import { detectBackend, toolsFor } from './backend.js';
import type { CleanupResult } from './cleanup.js';
import { cleanupAgentState } from './cleanup.js';
import { flowJudgeFromModel } from './conntrack-judge.js';
import type { CutResult } from './conntrack.js';
import { cutDeniedFlows } from './conntrack.js';
import type { NodeRender } from './render-node.js';
import type { Runner } from './runner.js';
import { hostRunner, netnsRunner } from './runner.js';

export interface DataplaneApplyOptions {
  /** Re-read the real state (periodic resync, drift repair). */
  full: boolean;
  /** Cut tracked flows the new rules deny (default true, as the agent does). */
  cutFlows?: boolean;
}

export interface DataplaneApplyReport {
  apply: ApplyResult;
  /** Present when flows were judged (something changed and cutFlows was not false). */
  conntrack?: CutResult;
}

function changed(r: ApplyResult): boolean {
  return r.iptablesLines > 0 || r.ipsetLines > 0 || r.setsDeleted.length > 0 || r.mode === 'resync';
}

export class NodeDataplane {
  /** Conntrack entries deleted since start because a change revoked them (for metrics). */
  flowsCut = 0;
  private readonly applier: RulesetApplier;
  private readonly log: Logger;

  private constructor(
    private readonly runner: Runner,
    readonly choice: BackendChoice,
  ) {
    this.log = logger('dataplane', { where: runner.where, backend: choice.backend });
    this.applier = new RulesetApplier(runner, toolsFor(choice.backend), this.log);
  }

  /**
   * Detects the backend (or takes `backend`: "nft" | "legacy"; "auto" or undefined detects) and
   * returns a ready dataplane.
   */
  static async open(runner: Runner, backend?: string): Promise<NodeDataplane> {
    const choice = await detectBackend(runner, backend === 'auto' ? undefined : backend);
    const dp = new NodeDataplane(runner, choice);
    dp.log.info('iptables backend chosen', { reason: choice.reason });
    return dp;
  }

  /** The dataplane of this host, or of the named network namespace. */
  static forNode(opts: { netns?: string; backend?: string }): Promise<NodeDataplane> {
    return NodeDataplane.open(opts.netns ? netnsRunner(opts.netns) : hostRunner(), opts.backend);
  }

  /** "nft" or "legacy". */
  get backend(): string {
    return this.choice.backend;
  }

  /**
   * Programs the render's ruleset; `full` re-reads the real state to repair drift. Throws on
   * failure, leaving the last good rules in place.
   */
  async apply(
    render: Pick<NodeRender, 'ruleset' | 'model'>,
    opts: DataplaneApplyOptions,
  ): Promise<DataplaneApplyReport> {
    const apply = await this.applier.apply(render.ruleset, { resync: opts.full });
    if (opts.cutFlows === false || !changed(apply)) return { apply };
    const conntrack = await cutDeniedFlows(this.runner, flowJudgeFromModel(render.model));
    this.flowsCut += conntrack.deleted;
    if (conntrack.deleted > 0) {
      this.log.info('cut flows the new rules deny', {
        deleted: conntrack.deleted,
        flows: conntrack.denied
          .slice(0, 20)
          .map((f) => `${f.protocol} ${f.src}:${f.sport ?? ''} -> ${f.dst}:${f.dport ?? ''}`),
      });
    }
    return { apply, conntrack };
  }

  /** Removes everything the agent ever installed (chains, hooks, sets). */
  async cleanup(): Promise<CleanupResult> {
    this.applier.forget();
    const r = await cleanupAgentState(this.runner);
    this.log.info('agent rules removed', { ...r });
    return r;
  }
}
