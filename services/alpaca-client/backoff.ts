/**
 * Backoff and server-requested delays, as pure functions (randomness and time are passed in).
 */

export interface BackoffOptions {
  /** initialMs is the delay cap of the first retry. */
  initialMs: number;
  /** maxMs caps every delay. */
  maxMs: number;
  /** multiplier grows the cap per attempt (default 2). */
  multiplier?: number;
}

export const DEFAULT_REQUEST_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000 };
export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000 };

/**
 * backoffDelay is "equal jitter": half the exponential cap plus a random half, so retries from
 * many clients spread out while each still waits at least half the cap.
 * `attempt` counts from 0; `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const growth = (opts.multiplier ?? 2) ** Math.max(0, attempt);
  const cap = Math.min(opts.maxMs, opts.initialMs * growth);
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** HeaderGetter reads one response header (case-insensitive, first value). */
export type HeaderGetter = (name: string) => string | undefined;

/**
 * MAX_SERVER_RETRY_MS bounds what a response may make us wait: Alpaca's quota resets every
 * minute, so a longer `Retry-After` (or a reset far away) is a broken or hostile answer, and
 * honouring it would stall the order path without bound.
 */
export const MAX_SERVER_RETRY_MS = 60_000;

/**
 * serverRetryDelay is how long the broker asked us to wait, from `Retry-After` (seconds or an
 * HTTP date) or, when the quota is spent, `X-RateLimit-Reset` (UNIX seconds), at most
 * `maxMs`. Undefined when the response says nothing.
 */
export function serverRetryDelay(
  header: HeaderGetter,
  nowMs: number,
  maxMs = MAX_SERVER_RETRY_MS,
): number | undefined {
  const asked = askedDelay(header, nowMs);
  return asked === undefined ? undefined : Math.min(asked, maxMs);
}

function askedDelay(header: HeaderGetter, nowMs: number): number | undefined {
  const retryAfter = header("retry-after");
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - nowMs);
  }
  const remaining = header("x-ratelimit-remaining");
  const reset = header("x-ratelimit-reset");
  if (reset !== undefined && (remaining === undefined || Number(remaining) <= 0)) {
    const resetMs = Number(reset) * 1000;
    if (Number.isFinite(resetMs)) return Math.max(0, resetMs - nowMs);
  }
  return undefined;
}
