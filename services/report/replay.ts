/**
 * replay: a P&L curve from the stored fills, with the position-tracker core's own average-cost
 * accounting (applyFill), each symbol marked at its latest fill price. This is what the report
 * draws when portfolio snapshots are sparse (they are written every snapshotIntervalSeconds,
 * an hour by default), and where its win rate comes from.
 */
import { type Fixed, ZERO } from "../core/money.ts";
import { applyFill, createPosition, type Position } from "../position-tracker/core/index.ts";
import type { FillRow } from "./load.ts";

export interface CurvePoint {
  at: number;
  value: Fixed;
}

export interface FillReplay {
  /** Total P&L (realized + unrealized at the latest fill prices) after each fill. */
  pnl: CurvePoint[];
  bySymbol: Map<string, { realized: Fixed; unrealized: Fixed }>;
  /** Fills at or after `since` that closed (part of) a position, and how many realized > 0 / < 0. */
  closingFills: number;
  wins: number;
  losses: number;
}

/** replayFills books every fill in order (fills must be sorted by time). */
export function replayFills(fills: readonly FillRow[], since?: number): FillReplay {
  const positions = new Map<string, Position>();
  const pnl: CurvePoint[] = [];
  let total = ZERO;
  let closingFills = 0;
  let wins = 0;
  let losses = 0;
  for (const f of fills) {
    let p = positions.get(f.symbol);
    if (!p) {
      p = createPosition(f.symbol);
      positions.set(f.symbol, p);
    }
    const before = p.realized + p.unrealized;
    const wasOpen = p.qty !== ZERO;
    const opposite = wasOpen && p.qty > ZERO !== (f.side === "buy");
    const effect = applyFill(p, f.side === "buy" ? f.qty : -f.qty, f.price);
    total += p.realized + p.unrealized - before;
    pnl.push({ at: f.at, value: total });
    if (opposite && (since === undefined || f.at >= since)) {
      closingFills += 1;
      if (effect.realized > ZERO) wins += 1;
      else if (effect.realized < ZERO) losses += 1;
    }
  }
  const bySymbol = new Map(
    [...positions.values()].map((p) => [
      p.symbol,
      { realized: p.realized, unrealized: p.unrealized },
    ]),
  );
  return { pnl, bySymbol, closingFills, wins, losses };
}

/**
 * windowed keeps the points at or after `since`, starting with the value the curve had at
 * `since` (the last point before it, or `startValue`), so a window's curve starts where it began.
 */
export function windowed(
  points: readonly CurvePoint[],
  since: number | undefined,
  startValue = ZERO,
): CurvePoint[] {
  if (since === undefined) return [...points];
  let start = startValue;
  const out: CurvePoint[] = [];
  for (const p of points) {
    if (p.at < since) start = p.value;
    else out.push(p);
  }
  if (out.length === 0 || out[0]!.at > since) out.unshift({ at: since, value: start });
  return out;
}

export interface DrawdownResult {
  /** Distance below the running peak at each point (≤ 0), in the curve's unit. */
  series: CurvePoint[];
  /** The deepest point (≤ 0) and where it was. */
  max: Fixed;
  maxAt: number | null;
  /** The peak that deepest drawdown was measured from. */
  peakAtMax: Fixed | null;
}

/** drawdownOf measures each point's distance below the running peak of `curve`. */
export function drawdownOf(curve: readonly CurvePoint[]): DrawdownResult {
  let peak: Fixed | null = null;
  let max = ZERO;
  let maxAt: number | null = null;
  let peakAtMax: Fixed | null = null;
  const series = curve.map((p) => {
    if (peak === null || p.value > peak) peak = p.value;
    const dd = p.value - peak;
    if (dd < max) {
      max = dd;
      maxAt = p.at;
      peakAtMax = peak;
    }
    return { at: p.at, value: dd };
  });
  return { series, max, maxAt, peakAtMax };
}
