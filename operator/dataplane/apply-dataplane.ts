// The node's dataplane as the agent sees it: detect the backend once, apply rulesets (cutting
// the conntrack entries of flows a change now denies), clean up. Everything runs through one
// Runner, so the same object programs the host or a lab node's network namespace.
import type { Logger } from '../util/logger.js';
import { logger } from '../util/logger.js';
import type { ApplyResult } from './apply.js';
import { RulesetApplier } from './apply.js';
import type { BackendChoice } from './backend.js';
import { detectBackend, toolsFor } from './backend.js';
import type { CleanupResult } from './cleanup.js';
import { cleanupAgentState } from './cleanup.js';
import type { CutResult, FlowJudge } from './conntrack.js';
import { cutDeniedFlows } from './conntrack.js';
import type { Runner } from './runner.js';
import type { Ruleset } from './types.js';

export interface DataplaneApplyOptions {
  /** Re-read the real state (periodic resync, drift repair). */
  full: boolean;
  /** Judges tracked flows after a change; without it established flows are left alone. */
  judge?: FlowJudge;
}

export interface DataplaneApplyReport {
  apply: ApplyResult;
  conntrack?: CutResult;
}

function changed(r: ApplyResult): boolean {
  return r.iptablesLines > 0 || r.ipsetLines > 0 || r.setsDeleted.length > 0 || r.mode === 'resync';
}

export class NodeDataplane {
  private readonly applier: RulesetApplier;
  private readonly log: Logger;

  private constructor(
    private readonly runner: Runner,
    readonly choice: BackendChoice,
  ) {
    this.log = logger('dataplane', { where: runner.where, backend: choice.backend });
    this.applier = new RulesetApplier(runner, toolsFor(choice.backend), this.log);
  }

  /** Detects the backend (or takes `backend`: "nft" | "legacy") and returns a ready dataplane. */
  static async open(runner: Runner, backend?: string): Promise<NodeDataplane> {
    const choice = await detectBackend(runner, backend);
    const dp = new NodeDataplane(runner, choice);
    dp.log.info('iptables backend chosen', { reason: choice.reason });
    return dp;
  }

  get backend(): string {
    return this.choice.backend;
  }

  async apply(ruleset: Ruleset, opts: DataplaneApplyOptions): Promise<void> {
    await this.applyDetailed(ruleset, opts);
  }

  async applyDetailed(ruleset: Ruleset, opts: DataplaneApplyOptions): Promise<DataplaneApplyReport> {
    const apply = await this.applier.apply(ruleset, { resync: opts.full });
    if (!opts.judge || !changed(apply)) return { apply };
    const conntrack = await cutDeniedFlows(this.runner, opts.judge);
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

  async cleanup(): Promise<void> {
    await this.cleanupDetailed();
  }

  async cleanupDetailed(): Promise<CleanupResult> {
    this.applier.forget();
    const r = await cleanupAgentState(this.runner);
    this.log.info('agent rules removed', { ...r });
    return r;
  }
}
