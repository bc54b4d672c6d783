/**
 * opening-range-breakout: the high and low of the mid during the first `rangeMinutes` after the
 * session opens (New York time, from the event time) make the range; the first mid above the
 * high (by `breakoutBps`) is a BUY, the first below the low a SELL, once per session day, until
 * the session closes.
 */
import { Type } from "@sinclair/typebox";
import { act, defineStrategy, hold } from "../strategy/api.ts";
import { newYorkTime } from "../strategy/market-time.ts";

export const OpeningRangeParams = Type.Object(
  {
    sessionOpenMinute: Type.Integer({
      description: "Session open in minutes after New York midnight (570 is 09:30).",
      default: 570,
      minimum: 0,
      maximum: 1439,
    }),
    sessionCloseMinute: Type.Integer({
      description: "Session close in minutes after New York midnight (960 is 16:00).",
      default: 960,
      minimum: 1,
      maximum: 1440,
    }),
    rangeMinutes: Type.Integer({
      description: "Length of the opening range in minutes.",
      default: 15,
      minimum: 1,
      maximum: 600,
    }),
    breakoutBps: Type.Number({
      description: "How far beyond the range, in basis points, the mid must go.",
      default: 0,
      minimum: 0,
    }),
    strength: Type.Number({
      description: "Strength of a breakout decision (0..1).",
      default: 0.8,
      minimum: 0,
      maximum: 1,
    }),
  },
  { additionalProperties: false },
);

export default defineStrategy({
  name: "opening-range-breakout",
  description: "Breakout of the session's opening range of the mid price, once a day.",
  params: OpeningRangeParams,
  check: (p) =>
    p.sessionOpenMinute + p.rangeMinutes < p.sessionCloseMinute
      ? undefined
      : "params.rangeMinutes must end before params.sessionCloseMinute",
  create(p) {
    const now = { day: 0, minuteOfDay: 0 };
    let day = Number.NaN;
    let high = Number.NaN;
    let low = Number.NaN;
    let traded = false;
    const rangeEnd = p.sessionOpenMinute + p.rangeMinutes;
    return {
      onTick(tick, _features, out) {
        newYorkTime(tick.timeNs, now);
        if (now.day !== day) {
          day = now.day;
          high = Number.NaN;
          low = Number.NaN;
          traded = false;
        }
        const m = now.minuteOfDay;
        if (m < p.sessionOpenMinute || m >= p.sessionCloseMinute) {
          hold(out, "session-closed");
        } else if (m < rangeEnd) {
          if (!(tick.mid <= high)) high = tick.mid;
          if (!(tick.mid >= low)) low = tick.mid;
          hold(out, "building-range");
        } else if (Number.isNaN(high)) {
          hold(out, "no-range");
        } else if (traded) {
          hold(out, "traded-today");
        } else if (tick.mid > high * (1 + p.breakoutBps / 1e4)) {
          traded = true;
          act(out, 1, p.strength, "breakout-up");
        } else if (tick.mid < low * (1 - p.breakoutBps / 1e4)) {
          traded = true;
          act(out, -1, p.strength, "breakout-down");
        } else {
          hold(out, "inside-range");
        }
        return false;
      },
      indicators: () => ({ range_high: high, range_low: low }),
    };
  },
});
