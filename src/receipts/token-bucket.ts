// The operator's rate cap on workflow starts (RECEIPT_MAX_PER_SECOND): a token bucket that refills at `rate`
// tokens a second and holds at most `burst`. Over any window of W seconds it lets through at most
// burst + rate * W starts, so a backlog drains at the cap instead of at whatever the pipeline can take.

/** A tenth of a second's worth (at least one): starts come in small groups, not in one-second lumps. */
export function defaultBurst(rate: number): number {
  return Math.max(1, Math.ceil(rate / 10));
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number,
  ) {
    if (!(rate > 0) || !(burst >= 1)) throw new Error(`bad token bucket: rate ${rate}, burst ${burst}`);
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Whole tokens available now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  take(n: number): void {
    this.refill();
    this.tokens -= n;
  }

  /** Milliseconds until one whole token is there (0 if one is). */
  msUntilNext(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  private refill(): void {
    const at = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((at - this.updatedAt) / 1000) * this.rate);
    this.updatedAt = at;
  }
}
