/**
 * var computes the portfolio's 99% one-day Value at Risk by historical simulation.
 *
 * Method (documented in ../README.md):
 * - each symbol keeps its last `varWindowDays` daily simple returns r = close_t / close_{t-1} - 1,
 *   each with its trading day (float64: returns are a distribution, not money);
 * - the scenarios are DATES: the most recent `varWindowDays` days on which any simulated symbol
 *   has a return. Every simulated symbol contributes its own return of that date (0 on a date it
 *   did not trade inside its history), so symbols are aligned by date, never by recency;
 * - a symbol is simulated when its history covers the whole scenario window; a symbol with a
 *   shorter history (a recent listing) or fewer than `varMinObservations` returns is not: it adds
 *   a stand-alone add-on, |exposure| · max(2.326 · σ_fallback, its worst observed |return|),
 *   summed on top (as if perfectly correlated). A short history never shortens the window of
 *   the others;
 * - working orders may fill on either side, so a symbol's P&L in a scenario is the worse of its
 *   two ends (every working buy filled, or every working sell filled);
 * - with S ≥ 100 scenarios VaR is the k-th worst scenario loss, k = ⌊S/100⌋ + 1 (the 3rd worst of
 *   252). With fewer, a 99% quantile cannot be measured: VaR is then the larger of the worst
 *   scenario loss and 2.326 · the scenarios' standard deviation, and the result says `thin`;
 * - the result is rounded to cents and compared with maxVar99 exactly.
 */
import type { Fixed } from "../../core/money.ts";
import { longEnd, type SymbolExposure, shortEnd } from "./state.ts";

const Z99 = 2.3263478740408408;
/** MIN_SCENARIOS_FOR_QUANTILE: below this a 99% quantile is not observable (k would be 1). */
export const MIN_SCENARIOS_FOR_QUANTILE = 100;

/** ReturnSeries: a ring buffer of the most recent daily returns of one symbol and their days. */
export interface ReturnSeries {
  /** id tells series apart (a replaced history is a new series). */
  id: number;
  values: Float64Array;
  days: Int32Array;
  capacity: number;
  count: number;
  /** head: the slot the next return goes to. */
  head: number;
  lastClose: Fixed | null;
  lastDay: number;
}

let nextSeriesId = 0;

export function createReturnSeries(capacity: number): ReturnSeries {
  return {
    id: nextSeriesId++,
    values: new Float64Array(capacity),
    days: new Int32Array(capacity),
    capacity,
    count: 0,
    head: 0,
    lastClose: null,
    lastDay: Number.NEGATIVE_INFINITY,
  };
}

/**
 * appendClose records the close of trading day `day`; from the second close on it adds a return
 * dated `day`. A close that is not positive is corrupt data and a day not after the last one is
 * already known: both are skipped (returns false).
 */
export function appendClose(series: ReturnSeries, day: number, close: Fixed): boolean {
  if (close <= 0n || day <= series.lastDay) return false;
  const prev = series.lastClose;
  series.lastClose = close;
  series.lastDay = day;
  if (prev === null) return true;
  const cap = series.capacity;
  series.values[series.head] = Number(close) / Number(prev) - 1;
  series.days[series.head] = day;
  series.head = (series.head + 1) % cap;
  if (series.count < cap) series.count++;
  return true;
}

function slot(series: ReturnSeries, k: number): number {
  const i = series.head - 1 - k;
  return i < 0 ? i + series.capacity : i;
}

/** returnAt is the k-th most recent return (k = 0 the latest, k < count). */
export function returnAt(series: ReturnSeries, k: number): number {
  return series.values[slot(series, k)]!;
}

/** dayAt is the day of the k-th most recent return. */
export function dayAt(series: ReturnSeries, k: number): number {
  return series.days[slot(series, k)]!;
}

export interface VarLimits {
  varWindowDays: number;
  varMinObservations: number;
  varFallbackDailyVolatility: number;
}

export interface VarPair {
  pre: number;
  post: number;
  /** scenarios: dates simulated jointly (0 when no symbol could be simulated). */
  scenarios: number;
  /** thin: fewer than 100 scenarios, so the figure is a bound, not a measured 99% quantile. */
  thin: boolean;
}

interface Exposed {
  series: ReturnSeries | null;
  longPre: number;
  shortPre: number;
  longPost: number;
  shortPost: number;
}

// Scratch buffers reused across calls: a proposal allocates no per-scenario arrays.
let scratchPre = new Float64Array(256);
let scratchPost = new Float64Array(256);
const aligned = new Map<number, Float64Array>();
let alignedFor: number[] | null = null;

/**
 * alignedReturns: a series' returns on the calendar's dates, newest first (0 on a date it has
 * none). A symbol's P&L in a scenario is then the worse of its two ends: r ≥ 0 hurts the short
 * end, r < 0 the long end. Remembered while the calendar stays the same.
 */
function alignedReturns(series: ReturnSeries, calendar: number[], S: number): Float64Array {
  if (alignedFor !== calendar) {
    aligned.clear();
    alignedFor = calendar;
  }
  let out = aligned.get(series.id);
  if (out === undefined) {
    out = new Float64Array(S);
    let k = 0;
    for (let sc = 0; sc < S; sc++) {
      while (k < series.count && dayAt(series, k) > calendar[sc]!) k++;
      if (k < series.count && dayAt(series, k) === calendar[sc]) out[sc] = returnAt(series, k);
    }
    aligned.set(series.id, out);
  }
  return out;
}

let cachedKey = "";
let cachedCalendar: number[] = [];

/**
 * calendarFor: calendarOf, remembered for the last set of series (a proposal after a proposal
 * sees the same histories; any new close changes a series' lastDay and so the key).
 */
function calendarFor(series: readonly ReturnSeries[], window: number): number[] {
  let key = `${window}`;
  for (const s of series) key += `|${s.id}:${s.lastDay}:${s.count}`;
  if (key !== cachedKey) {
    cachedCalendar = calendarOf(series, window);
    cachedKey = key;
  }
  return cachedCalendar;
}

/** calendarOf: the most recent `window` distinct days with a return in any of the series. */
function calendarOf(series: readonly ReturnSeries[], window: number): number[] {
  const next = series.map(() => 0);
  const days: number[] = [];
  while (days.length < window) {
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < series.length; i++) {
      if (next[i]! < series[i]!.count) newest = Math.max(newest, dayAt(series[i]!, next[i]!));
    }
    if (newest === Number.NEGATIVE_INFINITY) break;
    days.push(newest);
    for (let i = 0; i < series.length; i++) {
      if (next[i]! < series[i]!.count && dayAt(series[i]!, next[i]!) === newest) {
        // Not `next[i]!++`: the mutation-testing instrumenter cannot rewrite `++` on a `!` operand.
        next[i] = next[i]! + 1;
      }
    }
  }
  return days;
}

/** worstAbsReturn: the largest |return| a series holds (0 when empty). */
function worstAbsReturn(series: ReturnSeries | null): number {
  let worst = 0;
  if (series !== null)
    for (let k = 0; k < series.count; k++) worst = Math.max(worst, Math.abs(returnAt(series, k)));
  return worst;
}

let worstBuf = new Float64Array(8);

/**
 * lossQuantile: the VaR of the first `n` scenario P&Ls (k-th worst loss, or the thin-window
 * bound). Scratch arrays with a length, not subarrays: a view costs an object per proposal.
 */
function lossQuantile(pnl: Float64Array, n: number): number {
  if (n >= MIN_SCENARIOS_FOR_QUANTILE) {
    // The k smallest P&Ls by insertion (k = ⌊n/100⌋ + 1 is 3 for a year): no sort needed.
    const k = Math.floor(n / 100) + 1;
    if (worstBuf.length < k) worstBuf = new Float64Array(k);
    const worst = worstBuf;
    let len = 0;
    for (let i = 0; i < n; i++) {
      const v = pnl[i]!;
      if (len === k && v >= worst[k - 1]!) continue;
      let j = len < k ? len : k - 1;
      if (len < k) len++;
      while (j > 0 && worst[j - 1]! > v) {
        worst[j] = worst[j - 1]!;
        j--;
      }
      worst[j] = v;
    }
    return Math.max(0, -worst[k - 1]!);
  }
  let mean = 0;
  let lowest = 0;
  for (let i = 0; i < n; i++) {
    mean += pnl[i]! / n;
    lowest = Math.min(lowest, pnl[i]!);
  }
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (pnl[i]! - mean) ** 2 / Math.max(1, n - 1);
  return Math.max(0, -lowest, Z99 * Math.sqrt(variance));
}

/**
 * var99PrePost returns the VaR (dollars, float) before and after adding `deltaQty` (signed:
 * > 0 a buy, < 0 a sell) of `order` at `orderPrice`. Each symbol's exposure is its filled
 * position plus working orders per side, at its price; the order's own symbol is valued at the
 * order's price on both sides.
 */
export function var99PrePost(
  symbols: ReadonlyMap<string, SymbolExposure>,
  order: SymbolExposure,
  orderPrice: Fixed,
  deltaQty: Fixed,
  limits: VarLimits,
): VarPair {
  const exposed: Exposed[] = [];
  const histories: ReturnSeries[] = [];
  const enough = (e: Exposed) => e.series !== null && e.series.count >= limits.varMinObservations;
  for (const s of symbols.values()) {
    const isOrder = s === order;
    const price = isOrder ? orderPrice : s.price;
    const long = longEnd(s);
    const short = shortEnd(s);
    // Dollars as floats: qty / 1e9 × price / 1e9, the price's half computed once per symbol.
    const p = Number(price) / 1e9;
    const longPre = (Number(long) / 1e9) * p;
    const shortPre = (Number(short) / 1e9) * p;
    const e: Exposed = {
      series: s.returns,
      longPre,
      shortPre,
      longPost: isOrder && deltaQty > 0n ? (Number(long + deltaQty) / 1e9) * p : longPre,
      shortPost: isOrder && deltaQty < 0n ? (Number(short + deltaQty) / 1e9) * p : shortPre,
    };
    if (e.longPre === 0 && e.shortPre === 0 && e.longPost === 0 && e.shortPost === 0) continue;
    exposed.push(e);
    if (enough(e)) histories.push(e.series!);
  }
  const calendar = calendarFor(histories, limits.varWindowDays);
  const S = calendar.length >= limits.varMinObservations ? calendar.length : 0;
  const oldest = S > 0 ? calendar[S - 1]! : 0;
  if (scratchPre.length < S) {
    scratchPre = new Float64Array(S);
    scratchPost = new Float64Array(S);
  }
  const pnlPre = scratchPre;
  const pnlPost = scratchPost;
  pnlPre.fill(0, 0, S);
  pnlPost.fill(0, 0, S);
  const addOnRate = Z99 * limits.varFallbackDailyVolatility;
  let addOnPre = 0;
  let addOnPost = 0;
  for (const e of exposed) {
    const series = e.series;
    const simulated = S > 0 && enough(e) && dayAt(series!, series!.count - 1) <= oldest;
    if (!simulated) {
      const rate = Math.max(addOnRate, worstAbsReturn(series));
      addOnPre += rate * Math.max(Math.abs(e.longPre), Math.abs(e.shortPre));
      addOnPost += rate * Math.max(Math.abs(e.longPost), Math.abs(e.shortPost));
      continue;
    }
    const r = alignedReturns(series!, calendar, S);
    const { longPre, shortPre, longPost, shortPost } = e;
    for (let sc = 0; sc < S; sc++) {
      const x = r[sc]!;
      pnlPre[sc]! += x >= 0 ? shortPre * x : longPre * x;
      pnlPost[sc]! += x >= 0 ? shortPost * x : longPost * x;
    }
  }
  const hsPre = S > 0 ? lossQuantile(pnlPre, S) : 0;
  const hsPost = S > 0 ? lossQuantile(pnlPost, S) : 0;
  return {
    pre: hsPre + addOnPre,
    post: hsPost + addOnPost,
    scenarios: S,
    thin: S > 0 && S < MIN_SCENARIOS_FOR_QUANTILE,
  };
}

/** dollarsToCentsFixed rounds a float dollar amount to cents as an exact Fixed. */
export function dollarsToCentsFixed(x: number): Fixed {
  return BigInt(Math.round(x * 100)) * 10_000_000n;
}
