// One-slot trigger: any number of requests while a sync runs collapse into one more sync, and
// only one sync runs at a time. A "full" request (periodic resync) is sticky until served.
import { systemClock, type Clock } from '../util/clock.js';

export type SyncRunner = (full: boolean) => Promise<void>;

export class SyncTrigger {
  private pending = false;
  private pendingFull = false;
  private running: Promise<void> | undefined;
  private stopped = false;
  private timer: unknown;

  /** @param minIntervalMs merges bursts: a sync starts at most this often. */
  constructor(
    private readonly run: SyncRunner,
    private readonly minIntervalMs = 50,
    private readonly clock: Clock = systemClock,
  ) {}

  request(full = false): void {
    if (this.stopped) return;
    this.pending = true;
    this.pendingFull ||= full;
    this.schedule();
  }

  /** Resolves when no sync is running or pending (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise<void>((r) => this.clock.setTimeout(r, this.minIntervalMs));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.pending || this.stopped) return;
      const full = this.pendingFull;
      this.pending = false;
      this.pendingFull = false;
      this.running = this.run(full).finally(() => {
        this.running = undefined;
        if (this.pending) this.schedule();
      });
    }, this.minIntervalMs);
  }
}
