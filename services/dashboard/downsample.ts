/**
 * downsample: min/max (M4) per time bucket, the pure half. The database groups the snapshots
 * into buckets of one stride and returns, per bucket, the first and last point and the lowest
 * and highest value (equity.ts); this file picks the stride and turns the buckets into what the
 * page draws. Each bucket becomes at most four points (first, low, high, last), so spikes
 * survive (an average would hide a drawdown) and the browser draws at most 4 points per bucket
 * however long the history.
 */
import { TIME_STEPS } from "../core/charts/scale.ts";

/** One bucket of a series as the database aggregates it. */
export interface Bucket {
  /** Epoch milliseconds of the bucket's start (a multiple of the stride). */
  start: number;
  /** Points in the bucket. */
  n: number;
  /** Epoch milliseconds of the bucket's first and last point. */
  tFirst: number;
  tLast: number;
  first: number;
  last: number;
  lo: number;
  hi: number;
}

export interface Series {
  /** Epoch milliseconds, ascending. */
  t: number[];
  v: number[];
}

const DAY = 86_400_000;

/**
 * Strides a chart's buckets are cut at: round units (the charts' axis steps, and sub-second ones
 * below them), so that a bucket, once its time is past, keeps its bounds as the history grows
 * (the server keeps finished buckets; equity.ts).
 */
export const STRIDES_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, ...TIME_STEPS];

/**
 * strideFor is the smallest round stride that cuts [t0, t1] into at most `buckets` buckets
 * aligned to the epoch; past the longest, whole days.
 */
export function strideFor(t0: number, t1: number, buckets: number): number {
  if (!(Number.isInteger(buckets) && buckets > 0)) {
    throw new RangeError(`downsample: buckets must be a positive integer, got ${buckets}`);
  }
  if (!(Number.isFinite(t0) && Number.isFinite(t1) && t1 >= t0)) {
    throw new RangeError(`downsample: bad time range ${t0}..${t1}`);
  }
  const count = (s: number) => Math.floor(t1 / s) - Math.floor(t0 / s) + 1;
  for (const s of STRIDES_MS) if (count(s) <= buckets) return s;
  let days = Math.max(1, Math.ceil((t1 - t0) / DAY / buckets));
  while (count(days * DAY) > buckets) days += 1;
  return days * DAY;
}

/**
 * bucketPoints draws each bucket as its first point, its low and high (at the bucket's middle,
 * in the order the line travels: towards the last point), and its last point. Within one
 * pixel column the low and high's exact times do not change the picture.
 */
export function bucketPoints(buckets: readonly Bucket[]): Series {
  const out: Series = { t: [], v: [] };
  const push = (t: number, v: number) => {
    out.t.push(t);
    out.v.push(v);
  };
  for (const b of buckets) {
    push(b.tFirst, b.first);
    if (b.n > 2) {
      const mid = b.tFirst + (b.tLast - b.tFirst) / 2;
      const [a, c] = b.first <= b.last ? [b.lo, b.hi] : [b.hi, b.lo];
      if (a !== b.first) push(mid, a);
      if (c !== b.last) push(mid, c);
    }
    if (b.n > 1) push(b.tLast, b.last);
  }
  return out;
}

/** One row of a chart's table alternative: a span of buckets. */
export interface SpanRow {
  from: number;
  to: number;
  n: number;
  lo: number;
  hi: number;
  last: number;
}

/** spanRows merges consecutive buckets into at most `rows` rows (low, high, last of each). */
export function spanRows(buckets: readonly Bucket[], rows: number): SpanRow[] {
  const per = Math.max(1, Math.ceil(buckets.length / rows));
  const out: SpanRow[] = [];
  for (let i = 0; i < buckets.length; i += per) {
    const part = buckets.slice(i, i + per);
    out.push({
      from: part[0]!.tFirst,
      to: part[part.length - 1]!.tLast,
      n: part.reduce((s, b) => s + b.n, 0),
      lo: Math.min(...part.map((b) => b.lo)),
      hi: Math.max(...part.map((b) => b.hi)),
      last: part[part.length - 1]!.last,
    });
  }
  return out;
}

/** bucketsOf groups a series (ascending times) into buckets of `strideMs` aligned to the epoch. */
export function bucketsOf(series: Series, strideMs: number): Bucket[] {
  const out: Bucket[] = [];
  let b: Bucket | undefined;
  for (let i = 0; i < series.t.length; i += 1) {
    const t = series.t[i]!;
    const v = series.v[i]!;
    const start = Math.floor(t / strideMs) * strideMs;
    if (b?.start === start) {
      b.n += 1;
      b.tLast = t;
      b.last = v;
      if (v < b.lo) b.lo = v;
      if (v > b.hi) b.hi = v;
    } else {
      b = { start, n: 1, tFirst: t, tLast: t, first: v, last: v, lo: v, hi: v };
      out.push(b);
    }
  }
  return out;
}

/**
 * rebased: a bucket's values as percent change from `base` (> 0). The map is increasing, so
 * the low stays the low and the high the high.
 */
export function rebased(b: Bucket, base: number): Bucket {
  const pct = (v: number) => (v / base - 1) * 100;
  return { ...b, first: pct(b.first), last: pct(b.last), lo: pct(b.lo), hi: pct(b.hi) };
}
