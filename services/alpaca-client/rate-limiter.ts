/**
 * RateLimiter decides when the next request may go out, from two sources:
 *  - a token bucket at our own rate (default 180/min, below Alpaca's 200/min), and
 *  - the broker's own view, from X-RateLimit-Remaining/Reset on every response.
 *
 * It is pure: time comes in as `nowMs` (epoch milliseconds, because X-RateLimit-Reset is epoch
 * seconds). `LimiterGate` (limiter-gate.ts) is the shell that waits.
 *
 * IMPORTANT: requests in flight are not yet counted in the Remaining the broker last reported,
 * so the usable budget is Remaining minus what is still in flight; dropping that subtraction
 * lets a burst of concurrent requests draw 429s.
 */

export interface RateLimiterOptions {
  /** perMinute is our own sustained rate. */
  perMinute: number;
  /** burst is how many requests may go at once after idling (bucket size). */
  burst?: number;
}

/** RateLimitHeaders is the broker's view from one response. */
export interface RateLimitHeaders {
  limit?: number;
  remaining: number;
  /** resetMs is when the remaining quota changes (epoch ms). */
  resetMs?: number;
}

/** WAIT_FOR_RESPONSE: no token can be granted until an in-flight request reports back. */
export const WAIT_FOR_RESPONSE = Number.POSITIVE_INFINITY;

export const DEFAULT_PER_MINUTE = 180;
export const DEFAULT_BURST = 20;

export class RateLimiter {
  readonly capacity: number;
  readonly #ratePerMs: number;
  #tokens: number;
  #lastRefillMs: number | undefined;
  #inFlight = 0;
  /**
   * #serverBudget: requests the broker will still take in its current window (our estimate).
   * It starts at 1: until the first answer tells us the broker's count (another process may have
   * used part of the window), only one request goes.
   */
  #serverBudget: number | undefined = 1;
  #serverResetMs: number | undefined;

  constructor(opts: RateLimiterOptions) {
    if (!(opts.perMinute > 0)) throw new RangeError("perMinute must be > 0");
    this.capacity = Math.max(1, Math.floor(opts.burst ?? Math.min(DEFAULT_BURST, opts.perMinute)));
    this.#ratePerMs = opts.perMinute / 60_000;
    this.#tokens = this.capacity;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** serverBudget is the estimated requests left in the broker's window (undefined: unknown). */
  get serverBudget(): number | undefined {
    return this.#serverBudget;
  }

  /**
   * tryAcquire takes a slot and returns 0, or returns how many ms to wait before asking again
   * (WAIT_FOR_RESPONSE when only a response can free a slot). A granted slot must be given back
   * with `release` when the response (or failure) arrives.
   */
  tryAcquire(nowMs: number): number {
    this.#refill(nowMs);
    if (this.#serverBudget !== undefined && this.#serverBudget <= 0) {
      if (this.#serverResetMs === undefined) return WAIT_FOR_RESPONSE;
      if (nowMs < this.#serverResetMs) return this.#serverResetMs - nowMs;
      // The window has turned. Its new size is unknown until a response says, so send one probe.
      this.#serverBudget = 1;
      this.#serverResetMs = undefined;
    }
    if (this.#tokens < 1)
      return Math.max(1, Math.ceil((1 - this.#tokens) / this.#ratePerMs - 1e-6));
    this.#tokens -= 1;
    this.#inFlight += 1;
    if (this.#serverBudget !== undefined) this.#serverBudget -= 1;
    return 0;
  }

  /**
   * release gives back a slot when the broker answered; `headers` are its X-RateLimit-* (an
   * answer without them means the broker does not send them: only our bucket applies then).
   */
  release(headers: RateLimitHeaders | undefined): void {
    if (this.#inFlight > 0) this.#inFlight -= 1;
    if (headers === undefined) {
      this.#serverBudget = undefined;
      this.#serverResetMs = undefined;
      return;
    }
    const budget = headers.remaining - this.#inFlight;
    const sameWindow =
      headers.resetMs !== undefined &&
      headers.resetMs === this.#serverResetMs &&
      this.#serverBudget !== undefined;
    // Within one window the budget only shrinks; a late response must not raise it again.
    this.#serverBudget = sameWindow ? Math.min(this.#serverBudget as number, budget) : budget;
    this.#serverResetMs = headers.resetMs;
  }

  /** releaseFailed gives back a slot when no answer came (network error, timeout). */
  releaseFailed(): void {
    if (this.#inFlight > 0) this.#inFlight -= 1;
    // A failed probe must not leave us waiting for a response that will never come.
    const budget = this.#serverBudget;
    if (budget !== undefined && budget <= 0 && this.#serverResetMs === undefined) {
      if (this.#inFlight === 0) this.#serverBudget = 1;
    }
  }

  #refill(nowMs: number): void {
    if (this.#lastRefillMs === undefined) {
      this.#lastRefillMs = nowMs;
      return;
    }
    const elapsed = nowMs - this.#lastRefillMs;
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.capacity, this.#tokens + elapsed * this.#ratePerMs);
    this.#lastRefillMs = nowMs;
  }
}

/** parseRateLimitHeaders reads X-RateLimit-Limit/Remaining/Reset; undefined if absent. */
export function parseRateLimitHeaders(
  header: (name: string) => string | undefined,
): RateLimitHeaders | undefined {
  const remainingText = header("x-ratelimit-remaining");
  if (remainingText === undefined) return undefined;
  const remaining = Number(remainingText);
  if (!Number.isFinite(remaining)) return undefined;
  const limit = Number(header("x-ratelimit-limit"));
  const reset = Number(header("x-ratelimit-reset"));
  const out: RateLimitHeaders = { remaining };
  if (Number.isFinite(limit) && limit > 0) out.limit = limit;
  if (Number.isFinite(reset) && reset > 0) out.resetMs = reset * 1000;
  return out;
}
