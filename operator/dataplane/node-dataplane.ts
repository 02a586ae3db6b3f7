// The node's dataplane, the edge the agent drives: detect the iptables backend of each family
// once, apply a node's render — the IPv4 ruleset through iptables, the IPv6 one through
// ip6tables — cutting the conntrack entries of flows the new rules deny (both families), clean
// up. Everything runs through one Runner, so the same object programs the host, a named network
// namespace, or a lab node's namespace.
//
// A node whose kernel has no IPv6 at all (no /proc/sys/net/ipv6) has no IPv6 traffic to police:
// the IPv6 ruleset is not applied there, and the log says so. A node with IPv6 but without a
// working ip6tables is an error, not a silent IPv4-only mode: its pods' IPv6 addresses would be
// open.
//
// After every apply that changed something (a resync included) the flows the node's model now
// denies are cut, judged by the same evaluator the render is checked against: at once (apply's
// default), or later through cutFlows() (the agent does that behind the rules, flow-cutter.ts).
import type { Logger } from '../util/logger.js';
import { logger } from '../util/logger.js';
import type { ApplyResult } from './apply.js';
import { RulesetApplier } from './apply.js';
import type { BackendChoice } from './backend.js';
import { detectBackend, toolsFor } from './backend.js';
import type { CleanupResult } from './cleanup.js';
import { cleanupAgentState } from './cleanup.js';
import { flowJudgeOf } from './cnp-judge.js';
import type { CutResult } from './conntrack.js';
import { cutDeniedFlows } from './conntrack.js';
import { nodeAddresses } from './conntrack-node-addresses.js';
import type { NodeRender } from './render-node.js';
import type { Runner } from './runner.js';
import { hostRunner, netnsRunner } from './runner.js';

/** Whether the kernel gives this network namespace IPv6 (it may be built or booted without). */
async function hasIPv6(runner: Runner): Promise<boolean> {
  try {
    return (await runner.run(['test', '-d', '/proc/sys/net/ipv6'])).code === 0;
  } catch {
    return false;
  }
}

export interface DataplaneApplyOptions {
  /** Re-read the real state (periodic resync, drift repair). */
  full: boolean;
  /** Cut tracked flows the new rules deny (default true, as the agent does). */
  cutFlows?: boolean;
}

export interface DataplaneApplyReport {
  /** IPv4 (iptables). */
  apply: ApplyResult;
  /** IPv6 (ip6tables); absent on a node without IPv6. */
  apply6?: ApplyResult;
  /** Whether the apply wrote anything (or re-read the real state): then flows need judging. */
  changed: boolean;
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
  private readonly applier6: RulesetApplier | undefined;
  private readonly log: Logger;

  private constructor(
    private readonly runner: Runner,
    readonly choice: BackendChoice,
    /** The IPv6 backend; undefined when the node has no IPv6. */
    readonly choice6: BackendChoice | undefined,
  ) {
    this.log = logger('dataplane', { where: runner.where, backend: this.backend });
    this.applier = new RulesetApplier(runner, toolsFor(choice.backend, 4), this.log.child({ family: 4 }));
    this.applier6 = choice6
      ? new RulesetApplier(runner, toolsFor(choice6.backend, 6), this.log.child({ family: 6 }))
      : undefined;
  }

  /**
   * Detects the backend of each family (or takes `backend`: "nft" | "legacy" for both; "auto" or
   * undefined detects) and returns a ready dataplane.
   */
  static async open(runner: Runner, backend?: string): Promise<NodeDataplane> {
    const forced = backend === 'auto' ? undefined : backend;
    const choice = await detectBackend(runner, forced, 4);
    let choice6: BackendChoice | undefined;
    if (await hasIPv6(runner)) {
      try {
        choice6 = await detectBackend(runner, forced, 6);
      } catch (e) {
        throw new Error(`IPv6 is enabled on this node but ip6tables cannot run: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    const dp = new NodeDataplane(runner, choice, choice6);
    dp.log.info('iptables backend chosen', {
      reason: choice.reason,
      ...(choice6 ? { ip6tablesBackend: choice6.backend, ip6tablesReason: choice6.reason } : {}),
    });
    if (!choice6) dp.log.warn('the kernel has no IPv6 here: only IPv4 rules are programmed');
    return dp;
  }

  /** The dataplane of this host, or of the named network namespace. */
  static forNode(opts: { netns?: string; backend?: string }): Promise<NodeDataplane> {
    return NodeDataplane.open(opts.netns ? netnsRunner(opts.netns) : hostRunner(), opts.backend);
  }

  /** "nft" or "legacy"; "nft/legacy" (IPv4/IPv6) when the two families' backends differ. */
  get backend(): string {
    const v6 = this.choice6?.backend;
    return v6 === undefined || v6 === this.choice.backend
      ? this.choice.backend
      : `${this.choice.backend}/${v6}`;
  }

  /**
   * Programs the render's ruleset; `full` re-reads the real state to repair drift. Throws on
   * failure, leaving the last good rules in place.
   */
  async apply(
    render: Pick<NodeRender, 'ruleset' | 'ruleset6' | 'model' | 'cnp'>,
    opts: DataplaneApplyOptions,
  ): Promise<DataplaneApplyReport> {
    const apply = await this.applier.apply(render.ruleset, { resync: opts.full });
    const apply6 = this.applier6
      ? await this.applier6.apply(render.ruleset6, { resync: opts.full })
      : undefined;
    const report: DataplaneApplyReport = {
      apply,
      ...(apply6 ? { apply6 } : {}),
      changed: changed(apply) || (apply6 !== undefined && changed(apply6)),
    };
    if (opts.cutFlows === false || !report.changed) return report;
    return { ...report, conntrack: await this.cutFlows(render) };
  }

  /**
   * Cuts the tracked flows that `render`'s rules deny (both families), never those of the node's
   * own addresses. `render` may be a function: it is called after the listing, so a caller
   * running this behind the rules (the agent) judges with the newest render.
   */
  async cutFlows(
    render: Pick<NodeRender, 'model' | 'cnp'> | (() => Pick<NodeRender, 'model' | 'cnp'>),
  ): Promise<CutResult> {
    const conntrack = await cutDeniedFlows(
      this.runner,
      async () =>
        flowJudgeOf(typeof render === 'function' ? render() : render, await nodeAddresses(this.runner)),
      this.applier6 ? [4, 6] : [4],
    );
    this.flowsCut += conntrack.deleted;
    if (conntrack.deleted > 0 || conntrack.durationMs > 1000) {
      this.log.info('cut flows the new rules deny', {
        tracked: conntrack.tracked,
        judged: conntrack.judged,
        deleteLines: conntrack.deleteLines,
        deleted: conntrack.deleted,
        durationMs: conntrack.durationMs,
        flows: conntrack.denied
          .slice(0, 20)
          .map((f) => `${f.protocol} ${f.src}:${f.sport ?? ''} -> ${f.dst}:${f.dport ?? ''}`),
      });
    }
    return conntrack;
  }

  /** Removes everything the agent ever installed (chains, hooks, sets). */
  async cleanup(): Promise<CleanupResult> {
    this.applier.forget();
    this.applier6?.forget();
    const r = await cleanupAgentState(this.runner);
    this.log.info('agent rules removed', { ...r });
    return r;
  }
}
