// Cutting revoked flows behind the rules, off the sync's path. A sync programs the rules and
// returns (so a new pod's address is programmed without waiting for anything else); the cut is
// then requested here and runs in the background, one at a time: requests made while a cut runs
// collapse into one more, which judges with the newest render (the rules in force by then).
// Listing and judging a large conntrack table takes time; it must never hold back the next
// sync, and a flow it cuts a little later was already refused new connections by the rules.
import { systemClock, type Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { NodeRender } from '../dataplane/render-node.js';
import { SyncTrigger } from './sync-trigger.js';

export type CutFlows = (render: () => NodeRender) => Promise<unknown>;

export class FlowCutter {
  private readonly trigger: SyncTrigger;
  private latest: NodeRender | undefined;
  /** Cuts that failed (logged; the next request tries again). */
  failures = 0;
  runs = 0;

  /** @param minIntervalMs a cut starts at most this often (pod churn would otherwise keep one running). */
  constructor(
    private readonly cut: CutFlows,
    private readonly log: Logger,
    minIntervalMs = 250,
    clock: Clock = systemClock,
  ) {
    this.trigger = new SyncTrigger(() => this.run(), minIntervalMs, clock);
  }

  /** Asks for a cut judged by this render, or a newer one if another arrives before it runs. */
  request(render: NodeRender): void {
    this.latest = render;
    this.trigger.request();
  }

  /** Resolves when no cut is pending or running. */
  idle(): Promise<void> {
    return this.trigger.idle();
  }

  stop(): Promise<void> {
    return this.trigger.stop();
  }

  private async run(): Promise<void> {
    const current = this.latest;
    if (!current) return;
    try {
      this.runs++;
      await this.cut(() => this.latest ?? current);
    } catch (err) {
      this.failures++;
      this.log.error('cutting revoked flows failed; the next change or resync tries again', {
        error: errorMessage(err),
      });
    }
  }
}
