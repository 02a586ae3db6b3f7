// A token bucket (client-go's flowcontrol semantics): `qps` tokens a second, at most `burst` saved
// up, full at the start. Used for the client-side rate limit of the process's API requests
// (kube/raw-request.ts), for the Events' own budget and for the per-tenant Event spam filter
// (controller/recorder.ts). The clock is injected, so the arithmetic is tested without waiting.
/** Rounding of the refill arithmetic (300 s at 1/300 per second is one token, not 0.9999999). */
const EPSILON = 1e-9;

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

  /** Resolves when the caller may send one request (in the order of the calls). */
  take(): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /** Takes a token if one is there now (and nobody waits for one); never waits. */
  tryTake(): boolean {
    this.refill();
    if (this.waiting.length > 0 || this.tokens + EPSILON < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket is full again, i.e. as good as a new one (the spam filter forgets it). */
  isFull(): boolean {
    this.refill();
    return this.waiting.length === 0 && this.tokens + EPSILON >= this.burst;
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
      while (this.waiting.length > 0 && this.tokens + EPSILON >= 1) {
        this.tokens -= 1;
        (this.waiting.shift() as () => void)();
      }
      if (this.waiting.length > 0) this.schedule();
    }, wait);
  }
}
