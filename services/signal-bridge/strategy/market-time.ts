/**
 * Exchange time for strategies, from the event time alone (a strategy may not read the clock or
 * use `Date`): the New York trading day and minute of the day, with US daylight saving time.
 * The offset is the simulator's exchange calendar (broker-sim/core/time.ts, pure), so the
 * simulator's session and a strategy's idea of it are one definition.
 */
import { etOffsetHours } from "../../broker-sim/core/time.ts";

const NS_PER_MINUTE = 60_000_000_000n;
const MINUTES_PER_DAY = 1440;

/** NewYorkTime is a moment in exchange time. */
export interface NewYorkTime {
  /** Days since 1970-01-01 of the local (New York) date: changes at local midnight. */
  day: number;
  /** Minutes since local midnight (570 is 09:30, the regular open). */
  minuteOfDay: number;
}

/** newYorkTime converts an event time (ns since the epoch) to New York local day and minute. */
export function newYorkTime(
  timeNs: bigint,
  out: NewYorkTime = { day: 0, minuteOfDay: 0 },
): NewYorkTime {
  const local = Number(timeNs / NS_PER_MINUTE) + etOffsetHours(timeNs) * 60;
  out.day = Math.floor(local / MINUTES_PER_DAY);
  out.minuteOfDay = local - out.day * MINUTES_PER_DAY;
  return out;
}
