/**
 * ma-crossover: BUY when the fast simple moving average of the mid crosses above the slow one,
 * SELL when it crosses below. In `trend` mode it states the trend on every tick instead (BUY
 * while fast > slow), which is what a veto filter wants: with role `veto` it blocks signals
 * against the trend.
 */
import { Type } from "@sinclair/typebox";
import { act, defineStrategy, feature, hold } from "../strategy/api.ts";

export const MaCrossoverParams = Type.Object(
  {
    fast: Type.Integer({
      description: "Fast SMA period, in price changes.",
      default: 10,
      minimum: 1,
    }),
    slow: Type.Integer({
      description: "Slow SMA period, in price changes.",
      default: 30,
      minimum: 2,
    }),
    mode: Type.Union([Type.Literal("cross"), Type.Literal("trend")], {
      description: "cross: one decision per crossing; trend: the trend on every tick.",
      default: "cross",
    }),
    minGapBps: Type.Number({
      description: "Gap between the averages, in basis points of the slow one, a crossing needs.",
      default: 0,
      minimum: 0,
    }),
    strength: Type.Number({
      description: "Strength of the decisions (0..1).",
      default: 0.7,
      minimum: 0,
      maximum: 1,
    }),
  },
  { additionalProperties: false },
);

export default defineStrategy({
  name: "ma-crossover",
  description: "Fast/slow simple moving average crossover of the mid price.",
  params: MaCrossoverParams,
  check: (p) =>
    p.fast < p.slow
      ? undefined
      : `params.fast must be below params.slow (got ${p.fast} and ${p.slow})`,
  features: (p) => ({
    fast: feature("sma", { period: p.fast }),
    slow: feature("sma", { period: p.slow }),
  }),
  create(p) {
    /** side is where fast stands against slow: 1 above, −1 below, 0 not yet known. */
    let side = 0;
    let fast = Number.NaN;
    let slow = Number.NaN;
    return {
      onTick(tick, f, out) {
        fast = f.fast;
        slow = f.slow;
        if (Number.isNaN(slow)) {
          hold(out, "warming-up");
          return false;
        }
        const gap = ((fast - slow) / slow) * 1e4;
        const now = gap > p.minGapBps ? 1 : gap < -p.minGapBps ? -1 : 0;
        if (p.mode === "trend") {
          if (now === 0) hold(out, "flat");
          else act(out, now, p.strength, now > 0 ? "trend-up" : "trend-down");
          return false;
        }
        if (!tick.priceChanged || now === 0 || now === side) {
          hold(out, "no-cross");
          return false;
        }
        const crossed = side !== 0;
        side = now;
        if (crossed) act(out, now, p.strength, now > 0 ? "cross-up" : "cross-down");
        else hold(out, "first-side");
        return false;
      },
      indicators: () => ({ [`sma_${p.fast}`]: fast, [`sma_${p.slow}`]: slow }),
    };
  },
});
