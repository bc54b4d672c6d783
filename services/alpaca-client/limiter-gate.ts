/**
 * LimiterGate is the waiting shell around RateLimiter: callers queue in FIFO order and are let
 * through when the limiter grants a slot. When a slot is free and nobody waits, `acquire`
 * returns undefined (no promise, no timer) so the hot path stays synchronous.
 */
import { RateLimiter, type RateLimiterOptions, type RateLimitHeaders } from "./rate-limiter.ts";

export class LimiterGate {
  readonly limiter: RateLimiter;
  readonly #now: () => number;
  readonly #waiters: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;

  constructor(opts: RateLimiterOptions, now: () => number = Date.now) {
    this.limiter = new RateLimiter(opts);
    this.#now = now;
  }

  /** acquire resolves when the request may go; undefined means "go now". */
  acquire(): Promise<void> | undefined {
    if (this.#waiters.length === 0 && this.limiter.tryAcquire(this.#now()) === 0) return undefined;
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
      this.#pump();
    });
  }

  /** release returns the slot with the response's rate-limit headers (if any). */
  release(headers: RateLimitHeaders | undefined): void {
    this.limiter.release(headers);
    if (this.#waiters.length > 0) this.#pump();
  }

  /** releaseFailed returns the slot of a request that got no answer. */
  releaseFailed(): void {
    this.limiter.releaseFailed();
    if (this.#waiters.length > 0) this.#pump();
  }

  /** close lets every waiter through so shutdown never hangs on the limiter. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#waiters.splice(0)) w();
  }

  #pump(): void {
    while (this.#waiters.length > 0) {
      const wait = this.limiter.tryAcquire(this.#now());
      if (wait === 0) {
        (this.#waiters.shift() as () => void)();
        continue;
      }
      // Infinity: a response will call release() and pump again; the timer is only a safety net.
      this.#arm(Number.isFinite(wait) ? wait : 1_000);
      return;
    }
  }

  #arm(ms: number): void {
    const at = this.#now() + ms;
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, ms);
  }
}
