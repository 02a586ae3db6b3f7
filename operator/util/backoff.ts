// Exponential backoff with a cap and jitter, for retrying failed applies, watches and writes.
export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs = 500,
    private readonly maxMs = 60_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next attempt after one more failure. */
  next(): number {
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.failures++;
    // Jitter of +-20% keeps many agents from retrying in lockstep after an API outage.
    return Math.round(exp * (0.8 + 0.4 * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
