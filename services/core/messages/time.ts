/**
 * Clocks for message timestamps. Header times are nanoseconds since the Unix epoch as bigint
 * (they pass 2^53). `wallClockNs` anchors the monotonic clock to the wall clock once per process,
 * so successive readings never go backwards and have nanosecond resolution; the absolute value
 * is as accurate as the system clock was at start-up.
 */
export type ClockNs = () => bigint;

const anchorWallNs = BigInt(Date.now()) * 1_000_000n;
const anchorMonoNs = process.hrtime.bigint();

/** wallClockNs is the current time in nanoseconds since the Unix epoch (monotonic per process). */
export const wallClockNs: ClockNs = () => anchorWallNs + (process.hrtime.bigint() - anchorMonoNs);

/**
 * monotonicClockNs is CLOCK_MONOTONIC in nanoseconds. Processes on one host share it, so a
 * receiver may subtract a sender's reading to get a one-way latency (benchmarks use it).
 */
export const monotonicClockNs: ClockNs = () => process.hrtime.bigint();
