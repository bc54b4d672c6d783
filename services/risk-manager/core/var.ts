/**
 * var computes the portfolio's 99% one-day Value at Risk by historical simulation.
 *
 * Method (documented in ../README.md):
 * - each symbol keeps its last `varWindowDays` daily simple returns r = close_t / close_{t-1} - 1
 *   in a ring buffer (float64: returns are a distribution, not money);
 * - scenario s (s = 0 the most recent day) applies every symbol's s-th most recent return to the
 *   current signed dollar exposure (filled position + working orders, at the latest price):
 *   P&L_s = Σ_i exposure_i · r_i,s. Symbols are aligned by recency, which equals alignment by date
 *   when histories come from one trading calendar;
 * - with S scenarios (the shortest history among covered symbols, at most varWindowDays), VaR is
 *   the k-th worst scenario loss with k = ⌊S/100⌋ + 1 (the 3rd worst of 252), floored at 0;
 * - a symbol with fewer than `varMinObservations` returns is not simulated: it adds a parametric
 *   stand-in, 2.326 · σ_fallback · |exposure|, summed on top (as if perfectly correlated), so a
 *   missing history makes VaR larger, never smaller;
 * - the result is rounded to cents and compared with maxVar99 exactly.
 */
import type { Fixed } from "../../core/money.ts";
import type { SymbolExposure } from "./state.ts";

const Z99 = 2.3263478740408408;

/**
 * ReturnSeries: a ring buffer of the most recent daily returns of one symbol. Each value is
 * written twice (at i and i + capacity) so the latest `count` returns are always one contiguous
 * run ending at head − 1 + capacity: the VaR loop reads them without a modulo.
 */
export interface ReturnSeries {
  values: Float64Array;
  capacity: number;
  count: number;
  head: number;
  lastClose: Fixed | null;
}

export function createReturnSeries(capacity: number): ReturnSeries {
  return { values: new Float64Array(capacity * 2), capacity, count: 0, head: 0, lastClose: null };
}

/**
 * appendClose records a daily close; from the second close on it adds a return. A close that is
 * not positive is corrupt data: it is skipped (returns false) rather than turned into a return.
 */
export function appendClose(series: ReturnSeries, close: Fixed): boolean {
  if (close <= 0n) return false;
  const prev = series.lastClose;
  series.lastClose = close;
  if (prev === null) return true;
  const cap = series.capacity;
  const r = Number(close) / Number(prev) - 1;
  series.values[series.head] = r;
  series.values[series.head + cap] = r;
  series.head = (series.head + 1) % cap;
  if (series.count < cap) series.count++;
  return true;
}

/** returnAt is the k-th most recent return (k = 0 the latest, k < count). */
export function returnAt(series: ReturnSeries, k: number): number {
  return series.values[series.head - 1 + series.capacity - k]!;
}

export interface VarLimits {
  varWindowDays: number;
  varMinObservations: number;
  varFallbackDailyVolatility: number;
}

export interface VarPair {
  pre: number;
  post: number;
}

// Scratch buffers reused across calls: the hot path allocates nothing per symbol or scenario.
let scratchExposure = new Float64Array(16);
const scratchSeries: ReturnSeries[] = [];
let scratchPnl = new Float64Array(256);
const worstPre: number[] = [];
const worstPost: number[] = [];

function dollars(qty: Fixed, price: Fixed): number {
  return (Number(qty) / 1e9) * (Number(price) / 1e9);
}

function insertWorst(worst: number[], k: number, v: number): void {
  if (worst.length === k && v >= worst[k - 1]!) return;
  let i = worst.length < k ? worst.length : k - 1;
  if (worst.length < k) worst.push(v);
  while (i > 0 && worst[i - 1]! > v) {
    worst[i] = worst[i - 1]!;
    i--;
  }
  worst[i] = v;
}

/**
 * var99PrePost returns the VaR (dollars, float) before and after adding `deltaQty` of
 * `orderSymbol` at `orderPrice`. Exposure of every symbol is filledQty + pendingQty at its price;
 * the order's own symbol is valued at the order's price on both sides.
 */
export function var99PrePost(
  symbols: ReadonlyMap<string, SymbolExposure>,
  order: SymbolExposure,
  orderPrice: Fixed,
  deltaQty: Fixed,
  limits: VarLimits,
): VarPair {
  if (scratchExposure.length < symbols.size + 1)
    scratchExposure = new Float64Array(symbols.size * 2 + 1);
  let n = 0;
  let fallbackPre = 0;
  let fallbackPost = 0;
  let scenarios = limits.varWindowDays;
  let orderSeries: ReturnSeries | null = null;
  let orderDelta = 0;
  for (const s of symbols.values()) {
    const qty = s.filledQty + s.pendingQty;
    const isOrder = s === order;
    const price = isOrder ? orderPrice : s.price;
    const ePre = dollars(qty, price);
    const ePost = isOrder ? dollars(qty + deltaQty, price) : ePre;
    if (ePre === 0 && ePost === 0) continue;
    const series = s.returns;
    if (series === null || series.count < limits.varMinObservations) {
      fallbackPre += Math.abs(ePre);
      fallbackPost += Math.abs(ePost);
      continue;
    }
    if (isOrder) {
      orderSeries = series;
      orderDelta = ePost - ePre;
    }
    scratchExposure[n] = ePre;
    scratchSeries[n] = series;
    if (series.count < scenarios) scenarios = series.count;
    n++;
  }
  let hsPre = 0;
  let hsPost = 0;
  if (n > 0) {
    if (scratchPnl.length < scenarios) scratchPnl = new Float64Array(scenarios);
    const pnl = scratchPnl;
    pnl.fill(0, 0, scenarios);
    for (let i = 0; i < n; i++) {
      const series = scratchSeries[i]!;
      const v = series.values;
      const base = series.head - 1 + series.capacity;
      const e = scratchExposure[i]!;
      for (let sc = 0; sc < scenarios; sc++) pnl[sc]! += e * v[base - sc]!;
    }
    const k = Math.floor(scenarios / 100) + 1;
    worstPre.length = 0;
    worstPost.length = 0;
    if (orderSeries === null) {
      for (let sc = 0; sc < scenarios; sc++) insertWorst(worstPre, k, pnl[sc]!);
      hsPre = hsPost = Math.max(0, -worstPre[k - 1]!);
    } else {
      const v = orderSeries.values;
      const base = orderSeries.head - 1 + orderSeries.capacity;
      for (let sc = 0; sc < scenarios; sc++) {
        const pre = pnl[sc]!;
        insertWorst(worstPre, k, pre);
        insertWorst(worstPost, k, pre + orderDelta * v[base - sc]!);
      }
      hsPre = Math.max(0, -worstPre[k - 1]!);
      hsPost = Math.max(0, -worstPost[k - 1]!);
    }
  }
  const sigma = Z99 * limits.varFallbackDailyVolatility;
  return { pre: hsPre + sigma * fallbackPre, post: hsPost + sigma * fallbackPost };
}

/** dollarsToCentsFixed rounds a float dollar amount to cents as an exact Fixed. */
export function dollarsToCentsFixed(x: number): Fixed {
  return BigInt(Math.round(x * 100)) * 10_000_000n;
}
