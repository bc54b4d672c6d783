/**
 * Performance figures of a backtest, with their conventions stamped beside them.
 *
 * Return-based figures use DAILY returns (New York trading dates, end-of-day equity), annualised
 * with 252 trading days, with the risk-free rate given per year and de-annualised geometrically
 * ((1 + rf)^(1/252) − 1). Formulas follow empyrical (the library behind pyfolio), and the test
 * checks them against empyrical's own values on the same returns (fixtures/empyrical-reference.json):
 *   CAGR       (Π(1 + r))^(252 / n) − 1
 *   volatility std(r, ddof 1) × √252
 *   Sharpe     mean(r − rf) / std(r − rf, ddof 1) × √252
 *   Sortino    mean(r − rf) × 252 / (√mean(min(r − rf, 0)²) × √252)
 *   max DD     min over t of (equity_t / peak_t − 1), on the daily equity
 *   Calmar     CAGR / |max DD|
 * Win rate by period counts days with a positive return among days with a non-zero return
 * (quantstats' convention); win rate by trade counts round trips (flat → flat per symbol).
 */
import { type Fixed, toNumber } from "../../core/money.ts";

export const CONVENTIONS = {
  returns: "daily (New York trading dates, end-of-day equity)",
  periodsPerYear: 252,
  riskFree: "annual rate, de-annualised geometrically per day",
  winRateByPeriod: "days with a positive return / days with a non-zero return",
  winRateByTrade: "round trips (flat to flat, per symbol) with P&L > 0 / round trips",
  slippage:
    "fill price vs the venue's mid when the order arrived, in bps, adverse positive, notional-weighted",
} as const;

const PERIODS = 252;

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length === 0 ? Number.NaN : s / xs.length;
}

export function stdSample(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

export const dailyRiskFree = (annual: number): number => (1 + annual) ** (1 / PERIODS) - 1;

export function cagr(returns: readonly number[]): number {
  if (returns.length === 0) return Number.NaN;
  let growth = 1;
  for (const r of returns) growth *= 1 + r;
  return growth ** (PERIODS / returns.length) - 1;
}

export const annualVolatility = (returns: readonly number[]): number =>
  stdSample(returns) * Math.sqrt(PERIODS);

export function sharpe(returns: readonly number[], riskFreeAnnual = 0): number {
  const rf = dailyRiskFree(riskFreeAnnual);
  const adj = returns.map((r) => r - rf);
  return (mean(adj) / stdSample(adj)) * Math.sqrt(PERIODS);
}

export function sortino(returns: readonly number[], riskFreeAnnual = 0): number {
  const rf = dailyRiskFree(riskFreeAnnual);
  const adj = returns.map((r) => r - rf);
  const downside = Math.sqrt(mean(adj.map((r) => Math.min(r, 0) ** 2))) * Math.sqrt(PERIODS);
  return (mean(adj) * PERIODS) / downside;
}

export interface Drawdown {
  /** maxDrawdown: the deepest fall from a peak, as a negative fraction (−0.1 = 10% down). */
  maxDrawdown: number;
  /** durationPeriods: the longest time (in periods) spent below a previous peak. */
  durationPeriods: number;
  /** series: the drawdown after each period. */
  series: number[];
}

/** drawdownOf works on returns, starting from a peak of 1 before the first period. */
export function drawdownOf(returns: readonly number[]): Drawdown {
  let value = 1;
  let peak = 1;
  let worst = 0;
  let under = 0;
  let longest = 0;
  const series: number[] = [];
  for (const r of returns) {
    value *= 1 + r;
    if (value >= peak) {
      peak = value;
      under = 0;
    } else {
      under++;
      if (under > longest) longest = under;
    }
    const dd = value / peak - 1;
    series.push(dd);
    if (dd < worst) worst = dd;
  }
  return { maxDrawdown: worst, durationPeriods: longest, series };
}

export function calmar(returns: readonly number[]): number {
  const dd = drawdownOf(returns).maxDrawdown;
  return dd === 0 ? Number.NaN : cagr(returns) / Math.abs(dd);
}

export function winRateByPeriod(returns: readonly number[]): number {
  const nonZero = returns.filter((r) => r !== 0);
  return nonZero.length === 0 ? Number.NaN : nonZero.filter((r) => r > 0).length / nonZero.length;
}

/** RoundTrip: a position in one symbol from flat to flat, with its P&L after fees. */
export interface RoundTrip {
  symbol: string;
  direction: "long" | "short";
  openNs: bigint;
  closeNs: bigint;
  maxQty: Fixed;
  pnl: Fixed;
  fees: Fixed;
}

export interface TradeStats {
  count: number;
  winRate: number;
  profitFactor: number;
  expectancy: number;
}

export function tradeStats(trips: readonly RoundTrip[]): TradeStats {
  let wins = 0;
  let gross = 0;
  let loss = 0;
  let total = 0;
  for (const t of trips) {
    const p = toNumber(t.pnl);
    total += p;
    if (p > 0) {
      wins++;
      gross += p;
    } else loss -= p;
  }
  const n = trips.length;
  return {
    count: n,
    winRate: n === 0 ? Number.NaN : wins / n,
    profitFactor: loss === 0 ? (gross > 0 ? Number.POSITIVE_INFINITY : Number.NaN) : gross / loss,
    expectancy: n === 0 ? Number.NaN : total / n,
  };
}

/** returnsOf turns a series of period-end values (the first is the start) into returns. */
export function returnsOf(values: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < values.length; i++) out.push(values[i]! / values[i - 1]! - 1);
  return out;
}
