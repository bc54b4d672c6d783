/**
 * pipeline-stats: latency samples → HDR histogram percentiles, and the pairing of start and end
 * stamps of the pipeline benchmark (each end matched with the latest start before it).
 */
import * as hdr from "hdr-histogram-js";

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  p999: number;
}

/** samplesOf: the samples behind a Percentiles result, for the latency pictures. */
export const samplesOf = new WeakMap<Percentiles, readonly number[]>();

/** percentiles records ns samples in an HDR histogram (3 significant digits) and reads it. */
export function percentiles(samplesNs: readonly number[]): Percentiles {
  const h = hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  for (const v of samplesNs) h.recordValue(Math.max(1, Math.round(v)));
  const out = {
    n: samplesNs.length,
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
  };
  h.destroy();
  samplesOf.set(out, samplesNs);
  return out;
}

/**
 * pairLatest returns, for each end stamp inside [from, to], the time since the latest start
 * stamp before it (ends with no start before them are skipped). Both arrays in any order.
 */
export function pairLatest(
  starts: readonly bigint[],
  ends: readonly bigint[],
  from = 0n,
  to = BigInt(Number.MAX_SAFE_INTEGER) * 1000n,
): number[] {
  const s = [...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: number[] = [];
  for (const e of ends) {
    if (e < from || e > to) continue;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= e) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && s[lo - 1]! >= from) out.push(Number(e - s[lo - 1]!));
  }
  return out;
}

/** us renders ns as µs: two decimals below 10 µs, one above. */
export const us = (ns: number): string => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
export const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : "—");

/** meanOf reads a Prometheus histogram's mean (sum / count, summed over label sets) from text. */
export function meanOf(metricsText: string, name: string): { mean: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const line of metricsText.split("\n")) {
    if (line.startsWith(`${name}_sum`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith(`${name}_count`)) count += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return { mean: count > 0 ? sum / count : Number.NaN, count };
}
