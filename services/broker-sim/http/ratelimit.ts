/**
 * ratelimit: Alpaca's per-account limit (200 requests a minute by default) as a fixed one-minute
 * window, and the X-RateLimit-* headers that go on every response.
 */
export class RateLimiter {
  readonly limit: number;
  private windowStart = 0;
  private used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  private roll(nowMs: number): void {
    if (nowMs - this.windowStart >= 60_000) {
      this.windowStart = nowMs;
      this.used = 0;
    }
  }

  /** take counts one request; false means it is over the limit. */
  take(nowMs: number): boolean {
    this.roll(nowMs);
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }

  headers(nowMs: number): Record<string, string> {
    this.roll(nowMs);
    return {
      "X-RateLimit-Limit": String(this.limit),
      "X-RateLimit-Remaining": String(Math.max(0, this.limit - this.used)),
      "X-RateLimit-Reset": String(Math.ceil((this.windowStart + 60_000) / 1000)),
    };
  }

  retryAfterSec(nowMs: number): number {
    return Math.max(1, Math.ceil((this.windowStart + 60_000 - nowMs) / 1000));
  }

  reset(): void {
    this.windowStart = 0;
    this.used = 0;
  }
}
