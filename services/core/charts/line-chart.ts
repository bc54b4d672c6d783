/**
 * line-chart: lineChartSvg draws one or more series of (t, value) points over time (or any
 * numeric x), with axes, ticks, a legend, and optionally the area down to zero filled (for a
 * drawdown).
 */
import { axes, type PlotArea } from "./axes.ts";
import { formatValue, linearScale, tickLabels, timeTicks } from "./scale.ts";
import {
  colorAt,
  el,
  frame,
  LEGEND_ROW,
  type LegendItem,
  legend,
  legendLayout,
  num,
} from "./svg.ts";

export type Point = readonly [t: number, value: number];

export interface Series {
  name: string;
  points: readonly Point[];
  color?: string;
  /** Fill between the line and zero (a drawdown below the axis). */
  fillToZero?: boolean;
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  series: readonly Series[];
  yLabel: string;
  xLabel?: string;
  /** "time" (default): t is milliseconds since the epoch, labelled in UTC. */
  xAxis?: "time" | "number";
  /** Keep zero inside the y range (default false). */
  includeZero?: boolean;
  /** Tick label of a y value (default compact: 1.2k, 3.5M). */
  formatY?: (value: number) => string;
  width?: number;
  height?: number;
}

/** Series with at most this many points also get a dot per point. */
const DOTS_UP_TO = 60;
/** Longer series are thinned to about this many points (a min and a max per slice of time). */
export const MAX_DRAWN_POINTS = 2000;

/**
 * thinPoints keeps, for each of maxPoints/2 equal slices of time, the slice's lowest and highest
 * point in time order: the drawn line keeps every peak and trough (a drawdown's bottom) while the
 * SVG stays small. Series that are short enough come back unchanged.
 */
export function thinPoints(
  points: readonly Point[],
  maxPoints = MAX_DRAWN_POINTS,
): readonly Point[] {
  if (points.length <= maxPoints) return points;
  const slices = Math.max(1, Math.floor(maxPoints / 2));
  const t0 = points[0]![0];
  const span = points.at(-1)![0] - t0 || 1;
  const out: Point[] = [];
  let slice = -1;
  let lo: Point | undefined;
  let hi: Point | undefined;
  const flush = () => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else out.push(...(lo[0] <= hi[0] ? [lo, hi] : [hi, lo]));
  };
  for (const p of points) {
    const k = Math.min(slices - 1, Math.floor(((p[0] - t0) / span) * slices));
    if (k !== slice) {
      flush();
      slice = k;
      lo = p;
      hi = p;
    } else {
      if (p[1] < lo![1]) lo = p;
      if (p[1] >= hi![1]) hi = p;
    }
  }
  flush();
  return out;
}

/** lineChartSvg renders the chart as a standalone SVG document (same input, same bytes). */
export function lineChartSvg(opts: LineChartOptions): string {
  const width = opts.width ?? 760;
  const height = opts.height ?? 340;
  const timeAxis = (opts.xAxis ?? "time") === "time";
  const series = opts.series.map((s, i) => ({
    ...s,
    color: s.color ?? colorAt(i),
    points: [...s.points]
      .filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v))
      .sort((a, b) => a[0] - b[0]),
  }));
  const all = series.flatMap((s) => s.points);
  const legendItems: LegendItem[] = series.map((s) => ({
    label: s.name,
    color: s.color,
    mark: s.fillToZero ? "box" : "line",
  }));
  const rows = legendLayout(legendItems, 78, 58, width - 24).rows;
  const area: PlotArea = {
    left: 78,
    top: 70 + Math.max(0, rows - 1) * LEGEND_ROW,
    right: width - 24,
    bottom: height - 48,
  };
  const parts: string[] = [legend(legendItems, area.left, 58, area.right)];
  if (all.length === 0) {
    parts.push(
      el(
        "text",
        {
          x: (area.left + area.right) / 2,
          y: (area.top + area.bottom) / 2,
          "text-anchor": "middle",
          "font-size": 13,
          fill: "#888888",
          class: "empty",
        },
        "no data",
      ),
    );
    return frame({ width, height, title: opts.title, subtitle: opts.subtitle ?? "" }, parts);
  }
  const ts = all.map((p) => p[0]);
  const vs = all.map((p) => p[1]);
  let tMin = Math.min(...ts);
  let tMax = Math.max(...ts);
  if (tMin === tMax) {
    tMin -= timeAxis ? 1000 : 1;
    tMax += timeAxis ? 1000 : 1;
  }
  const x = (t: number) => area.left + ((t - tMin) / (tMax - tMin)) * (area.right - area.left);
  const vMin = opts.includeZero ? Math.min(0, ...vs) : Math.min(...vs);
  const vMax = opts.includeZero ? Math.max(0, ...vs) : Math.max(...vs);
  const ys = linearScale(vMin, vMax, area.bottom, area.top, 5);
  const yLabels = opts.formatY ? ys.ticks.map(opts.formatY) : tickLabels(ys.ticks);
  const xTicks = timeAxis
    ? (() => {
        const tt = timeTicks(tMin, tMax, 6);
        return tt.ticks.map((t) => ({ at: x(t), label: tt.label(t) }));
      })()
    : linearScale(tMin, tMax, 0, 1, 6)
        .ticks.filter((t) => t >= tMin && t <= tMax)
        .map((t) => ({ at: x(t), label: formatValue(t) }));
  parts.unshift(
    axes({
      area,
      xTicks,
      yTicks: ys.ticks.map((t, i) => ({ at: ys.at(t), label: yLabels[i]! })),
      ...(opts.xLabel || timeAxis ? { xLabel: opts.xLabel ?? "time (UTC)" } : {}),
      yLabel: opts.yLabel,
    }),
  );
  const zeroY = Math.min(area.bottom, Math.max(area.top, ys.at(0)));
  for (const s of series) {
    const drawn = thinPoints(s.points);
    const coords = drawn.map(([t, v]) => `${num(x(t))},${num(ys.at(v))}`);
    const children: string[] = [];
    if (s.fillToZero && s.points.length > 1) {
      const first = drawn[0]!;
      const last = drawn.at(-1)!;
      children.push(
        el("polygon", {
          class: "area",
          points: [
            `${num(x(first[0]))},${num(zeroY)}`,
            ...coords,
            `${num(x(last[0]))},${num(zeroY)}`,
          ].join(" "),
          fill: s.color,
          "fill-opacity": 0.25,
          stroke: "none",
        }),
      );
    }
    children.push(
      el("polyline", {
        class: "line",
        points: coords.join(" "),
        fill: "none",
        stroke: s.color,
        "stroke-width": 1.75,
        "stroke-linejoin": "round",
      }),
    );
    if (s.points.length <= DOTS_UP_TO) {
      for (const [t, v] of s.points) {
        children.push(
          el("circle", { class: "dot", cx: x(t), cy: ys.at(v), r: 2.5, fill: s.color }),
        );
      }
    }
    parts.push(
      el(
        "g",
        {
          class: "series",
          "data-series": s.name,
          "data-points": s.points.length,
          "data-drawn": drawn.length,
        },
        children,
      ),
    );
  }
  return frame(
    {
      width,
      height,
      title: opts.title,
      subtitle: opts.subtitle ?? "",
      description: `${opts.title}: ${series.map((s) => `${s.name} (${s.points.length} points)`).join(", ")}`,
    },
    parts,
  );
}
