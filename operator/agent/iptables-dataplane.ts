// The agent's dataplane port over the real edge (NodeDataplane): iptables/ipset through the
// backend the node uses, in the current or a named network namespace. After every apply that
// changed something (a resync included) it cuts the conntrack entries of flows the node's
// model now denies, judged by the same evaluator the render is checked against.
import { NodeDataplane } from '../dataplane/apply-dataplane.js';
import { flowJudgeFromModel } from '../dataplane/conntrack-judge.js';
import { hostRunner, netnsRunner } from '../dataplane/runner.js';
import type { NodeRender } from '../dataplane/render-node.js';
import type { DataplaneApplier } from './ports.js';

export class IptablesDataplane implements DataplaneApplier {
  /** Conntrack entries deleted since start because a change revoked them (for metrics). */
  flowsCut = 0;

  private constructor(private readonly plane: NodeDataplane) {}

  static async create(opts: { netns?: string; backend?: string }): Promise<IptablesDataplane> {
    const runner = opts.netns ? netnsRunner(opts.netns) : hostRunner();
    const backend = opts.backend === 'auto' ? undefined : opts.backend;
    return new IptablesDataplane(await NodeDataplane.open(runner, backend));
  }

  get backend(): string {
    return this.plane.backend;
  }

  async apply(render: NodeRender, opts: { full: boolean }): Promise<void> {
    const report = await this.plane.applyDetailed(render.ruleset, {
      full: opts.full,
      judge: flowJudgeFromModel(render.model),
    });
    this.flowsCut += report.conntrack?.deleted ?? 0;
  }

  async cleanup(): Promise<void> {
    await this.plane.cleanup();
  }
}
