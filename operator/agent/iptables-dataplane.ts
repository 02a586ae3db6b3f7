// The agent's dataplane: iptables/ipset through the backend the node uses, in the current or
// a named network namespace, plus cutting the conntrack entries of flows a change revoked.
import { RulesetApplier } from '../dataplane/apply.js';
import { detectBackend, toolsFor } from '../dataplane/backend.js';
import { cutDeniedFlows, type TrackedFlow } from '../dataplane/conntrack.js';
import { hostRunner, netnsRunner, type Runner } from '../dataplane/runner.js';
import { ModelEvaluator } from '../netpol/evaluate.js';
import type { Protocol } from '../api/networkpolicy.js';
import type { Logger } from '../util/logger.js';
import type { DataplaneApplier, NodeRender } from './ports.js';

export class IptablesDataplane implements DataplaneApplier {
  /** Conntrack entries deleted since start because a change revoked them (for metrics). */
  flowsCut = 0;

  private constructor(
    private readonly runner: Runner,
    private readonly applier: RulesetApplier,
    private readonly log: Logger,
  ) {}

  static async create(opts: { netns?: string; backend?: string }, log: Logger): Promise<IptablesDataplane> {
    const runner = opts.netns ? netnsRunner(opts.netns) : hostRunner();
    const choice = await detectBackend(runner, opts.backend === 'auto' ? undefined : opts.backend);
    log.info('iptables backend chosen', {
      backend: choice.backend,
      reason: choice.reason,
      where: runner.where,
    });
    return new IptablesDataplane(runner, new RulesetApplier(runner, toolsFor(choice.backend), log), log);
  }

  get backend(): string {
    return this.applier.tools.backend;
  }

  get where(): Runner {
    return this.runner;
  }

  async apply(render: NodeRender, opts: { full: boolean }): Promise<void> {
    const result = await this.applier.apply(render.ruleset, { resync: opts.full });
    const changed =
      result.chainsCreated.length +
        result.chainsRewritten.length +
        result.chainsDeleted.length +
        result.setsChanged +
        result.entriesRemoved >
      0;
    // Only a change can revoke an allowance; an unchanged ruleset leaves conntrack alone.
    if (!changed) return;
    const evaluator = new ModelEvaluator(render.model);
    const local = new Set(render.model.pods.flatMap((p) => p.ips));
    const cut = await cutDeniedFlows(this.runner, {
      concerns: (f: TrackedFlow) => local.has(f.src) || local.has(f.dst),
      allows: (f: TrackedFlow) =>
        evaluator.allows({
          src: f.src,
          dst: f.dst,
          protocol: f.protocol.toUpperCase() as Protocol,
          port: f.dport ?? 0,
        }),
    });
    this.flowsCut += cut.deleted;
    if (cut.deleted > 0) this.log.info('cut revoked flows', { deleted: cut.deleted, judged: cut.judged });
  }

  async cleanup(): Promise<void> {
    const { cleanupAgentState } = await import('../dataplane/cleanup.js');
    await cleanupAgentState(this.runner);
  }
}
