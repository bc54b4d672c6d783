/**
 * rate-limit is a sliding-window counter of broker calls on event time: the times of the calls
 * made in the last 60 s are kept, so the ceiling holds over ANY 60 s window (a token bucket of
 * B plus R/min lets B + R through in one window: 20 + 180 = 199 orders where 180 were meant).
 *
 * Every call the engine makes on the account counts (Alpaca's 200/min is per account and counts
 * lookups, cancels and listings, not orders alone): new orders and re-sends take a slot only when
 * one is free (`tryTake`); lookups and cancels are never held back — they keep the book safe —
 * but are recorded (`record`) and so delay the next orders.
 */
import { TradepipeError } from "../../core/errors.ts";

export const WINDOW_NS = 60_000_000_000n;

export interface CallWindow {
  limit: number;
  /** times: event times of recent calls, oldest first, from index `head`. */
  times: bigint[];
  head: number;
}

export function createCallWindow(perMinute: number): CallWindow {
  if (!Number.isInteger(perMinute) || perMinute < 1)
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `maxOrdersPerMinute: must be a positive integer, got ${perMinute}`,
    );
  return { limit: perMinute, times: [], head: 0 };
}

/** prune drops calls older than the window ending at `nowNs` (window = (now − 60 s, now]). */
function prune(w: CallWindow, nowNs: bigint): void {
  const cutoff = nowNs - WINDOW_NS;
  while (w.head < w.times.length && w.times[w.head]! <= cutoff) w.head++;
  if (w.head > 1024 && w.head * 2 > w.times.length) {
    w.times.splice(0, w.head);
    w.head = 0;
  }
}

/** callsInWindow: calls made in the 60 s ending at `nowNs`. */
export function callsInWindow(w: CallWindow, nowNs: bigint): number {
  prune(w, nowNs);
  return w.times.length - w.head;
}

/** tryTake records one call at `nowNs` if the window has room; false when it is full. */
export function tryTake(w: CallWindow, nowNs: bigint): boolean {
  if (callsInWindow(w, nowNs) >= w.limit) return false;
  record(w, nowNs, 1);
  return true;
}

/** record counts `count` calls made at `nowNs` whether or not the window has room. */
export function record(w: CallWindow, nowNs: bigint, count: number): void {
  // Event time may step back a little (events from several sources): never store out of order.
  const last = w.times.length > w.head ? w.times[w.times.length - 1]! : nowNs;
  const t = nowNs < last ? last : nowNs;
  for (let i = 0; i < count; i++) w.times.push(t);
}

/** nextTokenAtNs is the earliest event time at which tryTake will succeed. */
export function nextTokenAtNs(w: CallWindow, nowNs: bigint): bigint {
  const n = callsInWindow(w, nowNs);
  if (n < w.limit) return nowNs;
  // The window has room again once the (n − limit + 1)-th oldest call has left it.
  return w.times[w.head + n - w.limit]! + WINDOW_NS;
}
