/**
 * downsample: min/max per pixel bucket. A line of n points drawn into w pixels keeps, for each
 * pixel column, the first, lowest, highest and last point, so spikes survive (an average would
 * hide a drawdown) and the browser draws at most 4·w points whatever the history's length.
 */

export interface Series {
  /** Epoch milliseconds, ascending. */
  t: number[];
  v: number[];
}

export function downsampleMinMax(series: Series, buckets: number): Series {
  const n = series.t.length;
  if (!(Number.isInteger(buckets) && buckets > 0)) {
    throw new RangeError(`downsample: buckets must be a positive integer, got ${buckets}`);
  }
  if (n <= buckets * 4) return { t: [...series.t], v: [...series.v] };
  const t0 = series.t[0]!;
  const span = series.t[n - 1]! - t0 || 1;
  const out: Series = { t: [], v: [] };
  let i = 0;
  while (i < n) {
    const b = Math.min(buckets - 1, Math.floor(((series.t[i]! - t0) / span) * buckets));
    const start = i;
    let lo = i;
    let hi = i;
    while (
      i < n &&
      Math.min(buckets - 1, Math.floor(((series.t[i]! - t0) / span) * buckets)) === b
    ) {
      if (series.v[i]! < series.v[lo]!) lo = i;
      if (series.v[i]! > series.v[hi]!) hi = i;
      i += 1;
    }
    const keep = [...new Set([start, lo, hi, i - 1])].sort((a, c) => a - c);
    for (const k of keep) {
      out.t.push(series.t[k]!);
      out.v.push(series.v[k]!);
    }
  }
  return out;
}
