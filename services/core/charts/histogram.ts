/**
 * histogram: histogramSvg draws a distribution (latency samples, or buckets counted elsewhere)
 * with its percentiles marked. Latency is heavy-tailed, so by default both axes turn
 * logarithmic when the data spans orders of magnitude: the tail (p99.9) stays visible.
 */
import { axes, type PlotArea } from "./axes.ts";
import { formatValue, linearScale, logScale, type Scale } from "./scale.ts";
import { colorAt, el, frame, LEGEND_ROW, legend, legendLayout, num, text } from "./svg.ts";

export interface Bucket {
  /** Lower and upper bound of the bucket, in the chart's unit. */
  lo: number;
  hi: number;
  count: number;
}

export interface Marker {
  label: string;
  value: number;
}

export interface HistogramOptions {
  title: string;
  /** Raw samples in `unit`; or give `buckets`. */
  samples?: readonly number[];
  buckets?: readonly Bucket[];
  /** Unit of the values, shown on the axis and beside each percentile ("µs"). */
  unit: string;
  /** x axis title (default "latency (unit)"). */
  xLabel?: string;
  subtitle?: string;
  /** Marked values; default p50, p99 and p99.9 of the samples (or buckets). */
  percentiles?: readonly Marker[];
  xScale?: "auto" | "log" | "linear";
  yScale?: "auto" | "log" | "linear";
  /** Number of bins when samples are given (default 2√n, between 10 and 48). */
  bins?: number;
  width?: number;
  height?: number;
}

export const DEFAULT_QUANTILES = [
  { label: "p50", q: 50 },
  { label: "p99", q: 99 },
  { label: "p99.9", q: 99.9 },
] as const;

/** percentileOf is the nearest-rank percentile of ascending `sorted` (q in 0..100). */
export function percentileOf(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = rankOf(q, sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** percentileOfBuckets is the upper bound of the bucket holding the q-th percentile. */
export function percentileOfBuckets(buckets: readonly Bucket[], q: number): number {
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const target = rankOf(q, total);
  let seen = 0;
  for (const b of buckets) {
    seen += b.count;
    if (seen >= target && b.count > 0) return b.hi;
  }
  return buckets.at(-1)?.hi ?? Number.NaN;
}

/** rankOf is ceil(q% of n), immune to float noise (99.9% of 1000 is 999, not 1000). */
function rankOf(q: number, n: number): number {
  return Math.ceil(Number(((q * n) / 100).toFixed(9)));
}

/** binSamples counts samples into `bins` equal-width bins (equal in log10 when kind is log). */
export function binSamples(
  samples: readonly number[],
  bins: number,
  kind: "log" | "linear",
): Bucket[] {
  if (samples.length === 0) return [];
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of samples) {
    if (kind === "log" && v <= 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) return [];
  if (min === max) return [{ lo: min, hi: max, count: samples.length }];
  const f = kind === "log" ? Math.log10 : (v: number) => v;
  const inv = kind === "log" ? (v: number) => 10 ** v : (v: number) => v;
  const a = f(min);
  const width = (f(max) - a) / bins;
  const out: Bucket[] = Array.from({ length: bins }, (_, i) => ({
    lo: inv(a + i * width),
    hi: inv(a + (i + 1) * width),
    count: 0,
  }));
  for (const v of samples) {
    const i = v <= min ? 0 : Math.min(bins - 1, Math.floor((f(v) - a) / width));
    out[i]!.count += 1;
  }
  return out;
}

/** histogramSvg renders the chart as a standalone SVG document (same input, same bytes). */
export function histogramSvg(opts: HistogramOptions): string {
  const width = opts.width ?? 760;
  const height = opts.height ?? 380;
  const samples = opts.samples ? [...opts.samples].sort((a, b) => a - b) : undefined;
  const positive = samples?.filter((v) => v > 0) ?? [];
  const spread = positive.length > 0 ? positive.at(-1)! / positive[0]! : 1;
  const bucketSpread =
    opts.buckets && opts.buckets.length > 0
      ? opts.buckets.at(-1)!.hi / Math.max(opts.buckets[0]!.lo, Number.MIN_VALUE)
      : 1;
  const xKind =
    opts.xScale === "log" || opts.xScale === "linear"
      ? opts.xScale
      : Math.max(spread, bucketSpread) > 50 &&
          (samples ? samples[0]! > 0 : opts.buckets![0]!.lo > 0)
        ? "log"
        : "linear";
  // Default: about 2√n bins, 10 to 48, so a few hundred samples still make a shape.
  const bins =
    opts.bins ?? Math.max(10, Math.min(48, Math.round(2 * Math.sqrt(samples?.length ?? 0))));
  const buckets = opts.buckets ?? binSamples(samples ?? [], bins, xKind);
  const n = samples?.length ?? buckets.reduce((s, b) => s + b.count, 0);
  const markers =
    opts.percentiles ??
    DEFAULT_QUANTILES.map(({ label, q }) => ({
      label,
      value: samples ? percentileOf(samples, q) : percentileOfBuckets(buckets, q),
    }));

  const legendItems = markers.map((m, i) => ({
    label: `${m.label} ${formatValue(m.value)} ${opts.unit}`,
    color: colorAt(i + 1),
    mark: "dash" as const,
  }));
  const rows = legendLayout(legendItems, 70, 62, width - 24).rows;
  const area: PlotArea = {
    left: 70,
    top: 78 + Math.max(0, rows - 1) * LEGEND_ROW,
    right: width - 24,
    bottom: height - 48,
  };
  const parts: string[] = [legend(legendItems, area.left, 62, area.right)];

  if (buckets.length === 0) {
    parts.push(
      text((area.left + area.right) / 2, (area.top + area.bottom) / 2, "no samples", {
        "text-anchor": "middle",
        "font-size": 13,
        fill: "#888888",
        class: "empty",
      }),
    );
    return frame({ width, height, title: opts.title, subtitle: opts.subtitle ?? "n = 0" }, parts);
  }
  const lo = buckets[0]!.lo;
  const hi = Math.max(buckets.at(-1)!.hi, ...markers.map((m) => m.value).filter(Number.isFinite));
  const xs: Scale =
    xKind === "log"
      ? logScale(lo, hi, area.left, area.right)
      : linearScale(Math.min(lo, 0), hi, area.left, area.right, 8);
  const maxCount = Math.max(...buckets.map((b) => b.count));
  const minCount = Math.min(...buckets.filter((b) => b.count > 0).map((b) => b.count));
  const yKind =
    opts.yScale === "log" || opts.yScale === "linear"
      ? opts.yScale
      : maxCount / minCount > 100
        ? "log"
        : "linear";
  const ys =
    yKind === "log"
      ? countLogScale(maxCount, area)
      : linearScale(0, maxCount, area.bottom, area.top, 5);

  parts.unshift(
    axes({
      area,
      xTicks: xs.ticks.map((t) => ({ at: xs.at(t), label: formatValue(t) })),
      yTicks: ys.ticks
        .filter((t) => Number.isInteger(t))
        .map((t) => ({ at: ys.at(t), label: formatValue(t) })),
      xLabel: `${opts.xLabel ?? `latency (${opts.unit})`}${xKind === "log" ? ", log scale" : ""}`,
      yLabel: yKind === "log" ? "count (log scale)" : "count",
    }),
  );
  const bars = buckets
    .filter((b) => b.count > 0)
    .map((b) => {
      const x0 = xs.at(b.lo);
      const x1 = Math.max(xs.at(b.hi), x0 + 1);
      const y = ys.at(b.count);
      return el("rect", {
        class: "bar",
        x: x0,
        y,
        width: Math.max(1, x1 - x0 - 0.5),
        height: area.bottom - y,
      });
    });
  parts.push(el("g", { class: "bars", fill: "#8fb3d9", "data-bars": bars.length }, bars));
  parts.push(
    el(
      "g",
      { class: "percentiles" },
      markers.map((m, i) => marker(m, i, xs, area, opts.unit)),
    ),
  );
  const subtitle =
    opts.subtitle ??
    `n = ${n.toLocaleString("en-US")}; ${buckets.length} ${xKind === "log" ? "log-spaced " : ""}bins`;
  return frame(
    {
      width,
      height,
      title: opts.title,
      subtitle,
      description: `${opts.title}: ${legendItems.map((l) => l.label).join(", ")}; n = ${n}`,
    },
    parts,
  );
}

function marker(m: Marker, index: number, xs: Scale, area: PlotArea, unit: string): string {
  const x = Math.min(area.right, Math.max(area.left, xs.at(m.value)));
  const color = colorAt(index + 1);
  const rightHalf = x > area.left + (area.right - area.left) * 0.7;
  return el("g", { class: "percentile", "data-label": m.label, "data-value": num(m.value) }, [
    el("line", {
      x1: x,
      y1: area.top,
      x2: x,
      y2: area.bottom,
      stroke: color,
      "stroke-width": 1.5,
      "stroke-dasharray": "5 3",
    }),
    text(
      rightHalf ? x - 4 : x + 4,
      area.top + 12 + index * 13,
      `${m.label} ${formatValue(m.value)} ${unit}`,
      {
        "font-size": 10,
        fill: color,
        "text-anchor": rightHalf ? "end" : "start",
      },
    ),
  ]);
}

/** countLogScale: log10 counts with the baseline at 0.5, so a bucket of one still shows. */
function countLogScale(maxCount: number, area: PlotArea): Scale {
  const lo = Math.log10(0.5);
  const hi = Math.max(1, Math.ceil(Math.log10(maxCount)));
  const ticks = Array.from({ length: hi + 1 }, (_, e) => 10 ** e);
  return {
    at: (v) =>
      area.bottom - ((Math.log10(Math.max(v, 0.5)) - lo) / (hi - lo)) * (area.bottom - area.top),
    min: 0.5,
    max: 10 ** hi,
    ticks,
    kind: "log",
  };
}
