/**
 * summarize turns a run's result into the figures of summary.json and the tearsheet: daily
 * returns from end-of-day equity, round trips from fills, execution quality from orders.
 */
import { etDate } from "../../broker-sim/core/time.ts";
import { type Fixed, mul, toDecimal, toNumber, ZERO } from "../../core/money.ts";
import type { BacktestResult } from "../engine.ts";
import {
  annualVolatility,
  CONVENTIONS,
  cagr,
  calmar,
  drawdownOf,
  type RoundTrip,
  returnsOf,
  sharpe,
  sortino,
  tradeStats,
  winRateByPeriod,
} from "./metrics.ts";

export interface DailyPoint {
  date: string;
  equity: number;
  return: number;
}

export interface SymbolFigures {
  pnl: number;
  orders: number;
  fills: number;
  fillRatio: number | null;
  slippageBps: number | null;
  roundTrips: number;
}

export interface Summary {
  conventions: typeof CONVENTIONS & { riskFreeAnnual: number };
  period: { from: string; to: string; tradingDays: number; startNs: string; endNs: string };
  figures: Record<string, number | null>;
  bySymbol: Record<string, SymbolFigures>;
  counts: {
    events: number;
    signals: number;
    intents: number;
    orders: number;
    fills: number;
    anomalies: number;
  };
  riskRejections: Record<string, number>;
  daily: DailyPoint[];
  monthly: { month: string; return: number }[];
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** roundTripsOf books fills per symbol with average cost and closes a trip each time it is flat. */
export function roundTripsOf(result: BacktestResult): RoundTrip[] {
  interface Open {
    qty: Fixed;
    cost: Fixed;
    pnl: Fixed;
    fees: Fixed;
    openNs: bigint;
    maxQty: Fixed;
    direction: "long" | "short";
  }
  const open = new Map<string, Open>();
  const trips: RoundTrip[] = [];
  for (const f of result.fills) {
    const signed = f.side === "buy" ? f.qty : -f.qty;
    let p = open.get(f.symbol);
    if (p === undefined || p.qty === ZERO) {
      p = {
        qty: ZERO,
        cost: ZERO,
        pnl: ZERO,
        fees: ZERO,
        openNs: f.exchangeNs,
        maxQty: ZERO,
        direction: signed > ZERO ? "long" : "short",
      };
      open.set(f.symbol, p);
    }
    p.fees += f.fees;
    p.pnl -= f.fees;
    if (p.qty === ZERO || p.qty > ZERO === signed > ZERO) {
      p.qty += signed;
      p.cost += mul(signed, f.price);
    } else {
      // Reducing (the venue never lets a fill cross zero): realize against the average cost.
      const removed = (p.cost * -signed) / p.qty;
      p.pnl += -mul(signed, f.price) - removed;
      p.cost -= removed;
      p.qty += signed;
    }
    const size = p.qty < ZERO ? -p.qty : p.qty;
    if (size > p.maxQty) p.maxQty = size;
    if (p.qty === ZERO) {
      trips.push({
        symbol: f.symbol,
        direction: p.direction,
        openNs: p.openNs,
        closeNs: f.exchangeNs,
        maxQty: p.maxQty,
        pnl: p.pnl,
        fees: p.fees,
      });
    }
  }
  return trips;
}

/** dailyEquity: end-of-day equity per New York date (the start value first, dated the day before). */
export function dailyEquity(result: BacktestResult): { dates: string[]; values: number[] } {
  const byDate = new Map<string, number>();
  for (const s of result.equity) byDate.set(etDate(s.timeNs), toNumber(s.equity));
  const dates = [...byDate.keys()].sort();
  return { dates, values: [toNumber(result.startingCash), ...dates.map((d) => byDate.get(d)!)] };
}

export function summarize(result: BacktestResult, riskFreeAnnual = 0): Summary {
  const { dates, values } = dailyEquity(result);
  const returns = returnsOf(values);
  const dd = drawdownOf(returns);
  const trips = roundTripsOf(result);
  const ts = tradeStats(trips);
  const start = toNumber(result.startingCash);
  const final = toNumber(result.finalEquity);
  // Execution quality per order: filled share, slippage against the arrival mid.
  let orderedQty = 0;
  let filledQty = 0;
  let slipWeighted = 0;
  let slipNotional = 0;
  let traded = 0;
  const bySymbol: Record<
    string,
    SymbolFigures & { slipW: number; slipN: number; ordered: number; filled: number }
  > = {};
  const sym = (s: string) => {
    bySymbol[s] ??= {
      pnl: 0,
      orders: 0,
      fills: 0,
      fillRatio: null,
      slippageBps: null,
      roundTrips: 0,
      slipW: 0,
      slipN: 0,
      ordered: 0,
      filled: 0,
    };
    return bySymbol[s];
  };
  for (const o of result.orders) {
    const s = sym(o.symbol);
    s.orders++;
    const q = toNumber(o.qty);
    const fq = toNumber(o.filledQty);
    orderedQty += q;
    filledQty += fq;
    s.ordered += q;
    s.filled += fq;
    const bps = slippageBps(o.side, o.filledQty, o.filledNotional, o.arrivalMid);
    if (bps !== null) {
      const notional = toNumber(o.filledNotional);
      slipWeighted += bps * notional;
      slipNotional += notional;
      s.slipW += bps * notional;
      s.slipN += notional;
    }
  }
  const cashFlow = new Map<string, Fixed>();
  const position = new Map<string, Fixed>();
  for (const f of result.fills) {
    const s = sym(f.symbol);
    s.fills++;
    const notional = mul(f.qty, f.price);
    traded += toNumber(notional);
    cashFlow.set(
      f.symbol,
      (cashFlow.get(f.symbol) ?? ZERO) + (f.side === "buy" ? -notional : notional) - f.fees,
    );
    position.set(f.symbol, (position.get(f.symbol) ?? ZERO) + (f.side === "buy" ? f.qty : -f.qty));
  }
  for (const [symbol, flow] of cashFlow) {
    const mark = result.marks[symbol] ?? ZERO;
    sym(symbol).pnl = toNumber(flow + mul(position.get(symbol) ?? ZERO, mark));
  }
  for (const t of trips) sym(t.symbol).roundTrips++;
  const cleanBySymbol: Record<string, SymbolFigures> = {};
  for (const s of Object.keys(bySymbol).sort()) {
    const v = bySymbol[s]!;
    cleanBySymbol[s] = {
      pnl: v.pnl,
      orders: v.orders,
      fills: v.fills,
      fillRatio: v.ordered > 0 ? v.filled / v.ordered : null,
      slippageBps: v.slipN > 0 ? v.slipW / v.slipN : null,
      roundTrips: v.roundTrips,
    };
  }
  const exposed = result.equity.filter((e) => e.grossExposure !== ZERO).length;
  const meanEquity = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : start;
  const monthly = new Map<string, number>();
  for (const [i, d] of dates.entries()) {
    const m = d.slice(0, 7);
    monthly.set(m, ((monthly.get(m) ?? 0) + 1) * (1 + returns[i]!) - 1);
  }
  return {
    conventions: { ...CONVENTIONS, riskFreeAnnual },
    period: {
      from: dates[0] ?? "",
      to: dates.at(-1) ?? "",
      tradingDays: returns.length,
      startNs: result.startNs.toString(),
      endNs: result.endNs.toString(),
    },
    figures: {
      startingEquity: start,
      finalEquity: final,
      totalReturn: final / start - 1,
      cagr: finite(cagr(returns)),
      sharpe: finite(sharpe(returns, riskFreeAnnual)),
      sortino: finite(sortino(returns, riskFreeAnnual)),
      calmar: finite(calmar(returns)),
      maxDrawdown: dd.maxDrawdown,
      maxDrawdownDurationDays: dd.durationPeriods,
      volatility: finite(annualVolatility(returns)),
      winRateByTrade: finite(ts.winRate),
      winRateByPeriod: finite(winRateByPeriod(returns)),
      profitFactor: finite(ts.profitFactor),
      expectancy: finite(ts.expectancy),
      roundTrips: ts.count,
      exposure: result.equity.length > 0 ? exposed / result.equity.length : null,
      turnover: meanEquity > 0 ? traded / meanEquity : null,
      fees: toNumber(result.feesPaid),
      fillRatio: orderedQty > 0 ? filledQty / orderedQty : null,
      slippageBps: slipNotional > 0 ? slipWeighted / slipNotional : null,
    },
    bySymbol: cleanBySymbol,
    counts: {
      events: result.events,
      signals: result.signals.length,
      intents: result.intents.length,
      orders: result.orders.length,
      fills: result.fills.length,
      anomalies: result.anomalies,
    },
    riskRejections: result.riskRejections,
    daily: dates.map((date, i) => ({ date, equity: values[i + 1]!, return: returns[i]! })),
    monthly: [...monthly].map(([month, r]) => ({ month, return: r })),
  };
}

/** slippageBps: average fill price against the arrival mid, adverse positive (null: no fill). */
export function slippageBps(
  side: "buy" | "sell",
  filledQty: Fixed,
  filledNotional: Fixed,
  arrivalMid: Fixed,
): number | null {
  if (filledQty <= ZERO || arrivalMid <= ZERO) return null;
  const avg = toNumber(filledNotional) / toNumber(filledQty);
  const mid = toNumber(arrivalMid);
  return ((side === "buy" ? avg - mid : mid - avg) / mid) * 10_000;
}

export const decimal = toDecimal;
