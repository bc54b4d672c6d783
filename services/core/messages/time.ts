/**
 * Clocks for message timestamps. Header times are nanoseconds since the Unix epoch as bigint
 * (they pass 2^53). `wallClockNs` anchors the monotonic clock to the wall clock once per process,
 * so successive readings never go backwards and have nanosecond resolution; the absolute value
 * is as accurate as the system clock was at start-up.
 */
export type ClockNs = () => bigint;

/** WallAnchor is the wall clock minus the monotonic clock, and how far off that may be. */
export interface WallAnchor {
  offsetNs: bigint;
  /** half the window the millisecond tick was caught in: |true offset − offsetNs| ≤ this. */
  uncertaintyNs: bigint;
}

/**
 * measureWallAnchor takes the wall clock minus the monotonic clock where `wallMs` ticks over to a
 * new millisecond: that instant lies between two monotonic readings a loop turn apart, while a
 * plain `Date.now() * 1e6` is up to 1 ms behind. IMPORTANT: processes on one host subtract each
 * other's wall-clock stamps (bus hop latency, tick → order from `origin_time_ns`); an anchor off
 * by a random part of a millisecond per process would swamp those microsecond figures. A tick
 * whose window was widened by preemption is measured again (at most 5 ticks, ~5 ms once per
 * process); the narrowest window is kept. The clocks are parameters so tests can script them.
 */
export function measureWallAnchor(
  mono: ClockNs = () => process.hrtime.bigint(),
  wallMs: () => number = Date.now,
): WallAnchor {
  let best = 0n;
  let bestWidth = -1n;
  for (let tick = 0; tick < 5 && !(bestWidth >= 0n && bestWidth < 2_000n); tick++) {
    let before = mono();
    const from = wallMs();
    let ms = from;
    let lo = before;
    let hi = before;
    while (ms === from) {
      lo = before;
      before = mono();
      ms = wallMs();
      hi = mono();
    }
    // The tick happened after the previous wallMs() (which followed `lo`) and before `hi`.
    const width = hi - lo;
    if (bestWidth < 0n || width < bestWidth) {
      bestWidth = width;
      best = BigInt(ms) * 1_000_000n - (lo + width / 2n);
    }
  }
  return { offsetNs: best, uncertaintyNs: (bestWidth + 1n) / 2n };
}

const anchorMonoNs = process.hrtime.bigint();
/** wallAnchor is this process's anchor, measured once at start-up. */
export const wallAnchor: WallAnchor = measureWallAnchor();
const anchorWallNs = anchorMonoNs + wallAnchor.offsetNs;

/** wallClockNs is the current time in nanoseconds since the Unix epoch (monotonic per process). */
export const wallClockNs: ClockNs = () => anchorWallNs + (process.hrtime.bigint() - anchorMonoNs);

/**
 * monotonicClockNs is CLOCK_MONOTONIC in nanoseconds. Processes on one host share it, so a
 * receiver may subtract a sender's reading to get a one-way latency (benchmarks use it).
 */
export const monotonicClockNs: ClockNs = () => process.hrtime.bigint();
