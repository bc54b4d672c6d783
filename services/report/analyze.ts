/**
 * analyze: analyzeReport turns what was loaded into the report's figures and curves. Pure: same
 * data, same report.
 *
 * The curve: portfolio snapshots when there are enough of them in the window (SPARSE_BELOW),
 * else the P&L replayed from fills, extended to the positions' latest marks. When a snapshot
 * knows the equity, curves are drawn as equity (equity at zero P&L + P&L) and the drawdown is
 * also given in percent of the peak; otherwise as P&L in dollars.
 */
import { type Fixed, mul, toNumber, ZERO } from "../core/money.ts";
import type { ReportData } from "./load.ts";
import { type CurvePoint, drawdownOf, replayFills, windowed } from "./replay.ts";

/** Fewer portfolio snapshots than this in the window: the fills' curve becomes the primary one. */
export const SPARSE_BELOW = 20;

export interface SymbolPnl {
  symbol: string;
  realized: Fixed;
  unrealized: Fixed;
}

export interface ReportFigures {
  window: { from: number | null; to: number | null };
  /** Current P&L (all time): the positions table, else the fills' replay. */
  pnl: { total: Fixed; realized: Fixed; unrealized: Fixed; source: "positions" | "fills" | "none" };
  /** P&L made inside the window (when --since was given), from the primary curve. */
  windowPnl: Fixed | null;
  maxDrawdown: {
    amount: Fixed;
    pct: number | null;
    at: number | null;
    source: "snapshots" | "fills" | "none";
  };
  lastEquity: Fixed | null;
  snapshots: number;
  orders: { total: number; byStatus: Record<string, number> };
  fills: { total: number; buys: number; sells: number; notional: Fixed };
  trades: { closing: number; wins: number; losses: number; winRate: number | null };
}

export interface ReportCurves {
  /** "equity" when an equity level is known, else "pnl". */
  kind: "equity" | "pnl";
  fromSnapshots: CurvePoint[];
  fromFills: CurvePoint[];
  primary: "snapshots" | "fills" | "none";
  /** Drawdown of the primary curve: percent of the peak when kind is equity, else dollars. */
  drawdown: { points: Array<[number, number]>; unit: "%" | "USD" };
}

export interface Report {
  figures: ReportFigures;
  curves: ReportCurves;
  bySymbol: SymbolPnl[];
}

/** analyzeReport computes every figure and curve the report shows. */
export function analyzeReport(data: ReportData): Report {
  const since = data.since;
  const replay = replayFills(data.fills, since);
  const withEquity = data.snapshots.find((s) => s.equity !== null);
  // Equity at zero P&L: what turns a P&L curve into an equity curve.
  const base = withEquity
    ? withEquity.equity! - (withEquity.realized + withEquity.unrealized)
    : null;
  const kind = base === null ? "pnl" : "equity";
  const fromSnapshots = data.snapshots.map((s) => ({
    at: s.at,
    value: kind === "equity" && s.equity !== null ? s.equity : s.realized + s.unrealized,
  }));
  const lift = (points: CurvePoint[]) =>
    base === null ? points : points.map((p) => ({ at: p.at, value: p.value + base }));

  const fillsCurve = [...replay.pnl];
  const positionsTotal = data.positions.reduce((s, p) => s + p.realized + p.unrealized, ZERO);
  const lastMarkAt = Math.max(...data.positions.map((p) => p.updatedAt));
  if (data.positions.length > 0 && fillsCurve.length > 0 && lastMarkAt > fillsCurve.at(-1)!.at) {
    fillsCurve.push({ at: lastMarkAt, value: positionsTotal });
  }
  const fromFills = lift(windowed(fillsCurve, since));
  if (fillsCurve.length === 0) fromFills.length = 0;

  const primary =
    fromSnapshots.length >= SPARSE_BELOW || (fromFills.length === 0 && fromSnapshots.length > 0)
      ? "snapshots"
      : fromFills.length > 0
        ? "fills"
        : "none";
  const curve = primary === "snapshots" ? fromSnapshots : primary === "fills" ? fromFills : [];
  const dd = drawdownOf(curve);
  const pctOf = (amount: Fixed, peak: Fixed | null) =>
    kind === "equity" && peak !== null && peak > ZERO
      ? (toNumber(amount) / toNumber(peak)) * 100
      : null;
  const ddPoints: Array<[number, number]> = dd.series.map((p, i) => {
    const peak = curve[i]!.value - p.value;
    const pct = pctOf(p.value, peak);
    return [p.at, pct ?? toNumber(p.value)];
  });

  const positionsKnown = data.positions.length > 0;
  const realized = positionsKnown
    ? data.positions.reduce((s, p) => s + p.realized, ZERO)
    : [...replay.bySymbol.values()].reduce((s, p) => s + p.realized, ZERO);
  const unrealized = positionsKnown
    ? data.positions.reduce((s, p) => s + p.unrealized, ZERO)
    : [...replay.bySymbol.values()].reduce((s, p) => s + p.unrealized, ZERO);
  const bySymbol: SymbolPnl[] = positionsKnown
    ? data.positions.map((p) => ({
        symbol: p.symbol,
        realized: p.realized,
        unrealized: p.unrealized,
      }))
    : [...replay.bySymbol.entries()]
        .map(([symbol, p]) => ({ symbol, ...p }))
        .sort((a, b) => (a.symbol < b.symbol ? -1 : 1));

  const windowFills = data.fills.filter((f) => since === undefined || f.at >= since);
  const times = [
    ...curve.map((p) => p.at),
    ...fromSnapshots.map((p) => p.at),
    ...windowFills.map((f) => f.at),
  ];
  const lastSnapshotWithEquity = [...data.snapshots].reverse().find((s) => s.equity !== null);
  const orderTotal = Object.values(data.ordersByStatus).reduce((s, n) => s + n, 0);
  return {
    figures: {
      window: {
        from: since ?? (times.length > 0 ? Math.min(...times) : null),
        to: times.length > 0 ? Math.max(...times) : null,
      },
      pnl: {
        total: realized + unrealized,
        realized,
        unrealized,
        source: positionsKnown ? "positions" : data.fills.length > 0 ? "fills" : "none",
      },
      windowPnl:
        since !== undefined && curve.length > 0 ? curve.at(-1)!.value - curve[0]!.value : null,
      maxDrawdown: {
        amount: dd.max,
        pct: pctOf(dd.max, dd.peakAtMax),
        at: dd.maxAt,
        source: primary,
      },
      lastEquity: lastSnapshotWithEquity?.equity ?? null,
      snapshots: data.snapshots.length,
      orders: { total: orderTotal, byStatus: data.ordersByStatus },
      fills: {
        total: windowFills.length,
        buys: windowFills.filter((f) => f.side === "buy").length,
        sells: windowFills.filter((f) => f.side === "sell").length,
        notional: windowFills.reduce((s, f) => s + mul(f.qty, f.price), ZERO),
      },
      trades: {
        closing: replay.closingFills,
        wins: replay.wins,
        losses: replay.losses,
        winRate: replay.closingFills > 0 ? replay.wins / replay.closingFills : null,
      },
    },
    curves: {
      kind,
      fromSnapshots,
      fromFills,
      primary,
      drawdown: { points: ddPoints, unit: kind === "equity" ? "%" : "USD" },
    },
    bySymbol,
  };
}
