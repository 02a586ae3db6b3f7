// Client-side rate limit of the requests this process makes (client-go's token bucket: `qps`
// tokens a second, at most `burst` saved up). The API server protects itself with API Priority
// and Fairness; this bound is the client's own guard, so that a runaway loop or a resync of many
// tenants cannot flood it from one process. Long-running watches are not counted.
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error('rate limit: qps must be > 0 and burst >= 1');
    this.tokens = burst;
    this.last = this.now();
  }

  /** Resolves when the caller may send one request. */
  take(): Promise<void> {
    this.refill();
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private refill(): void {
    const at = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((at - this.last) / 1000) * this.qps);
    this.last = at;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.qps) * 1000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiting.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        (this.waiting.shift() as () => void)();
      }
      if (this.waiting.length > 0) this.schedule();
    }, wait);
  }
}
