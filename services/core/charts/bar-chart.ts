/**
 * bar-chart: barChartSvg draws grouped vertical bars per category (P&L by symbol: realized and
 * unrealized side by side), negative values below a zero line, each bar labelled with its value.
 */
import { axes, type PlotArea } from "./axes.ts";
import { linearScale, tickLabels } from "./scale.ts";
import {
  colorAt,
  el,
  frame,
  LEGEND_ROW,
  type LegendItem,
  legend,
  legendLayout,
  num,
  text,
} from "./svg.ts";

export interface BarSeries {
  name: string;
  /** One value per category, in the order of `categories`. */
  values: readonly number[];
  color?: string;
}

export interface BarChartOptions {
  title: string;
  subtitle?: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  yLabel: string;
  /** Label printed on each bar (default: the value with two decimals). */
  formatValue?: (value: number) => string;
  width?: number;
  height?: number;
}

/** barChartSvg renders the chart as a standalone SVG document (same input, same bytes). */
export function barChartSvg(opts: BarChartOptions): string {
  const n = opts.categories.length;
  const width =
    opts.width ?? Math.max(480, Math.min(1200, 160 + n * 90 * Math.max(1, opts.series.length / 2)));
  const height = opts.height ?? 360;
  const fmt = opts.formatValue ?? ((v: number) => v.toFixed(2));
  const series = opts.series.map((s, i) => ({ ...s, color: s.color ?? colorAt(i) }));
  const legendItems: LegendItem[] = series.map((s) => ({
    label: s.name,
    color: s.color,
    mark: "box" as const,
  }));
  const rows = legendLayout(legendItems, 78, 58, width - 24).rows;
  const area: PlotArea = {
    left: 78,
    top: 70 + Math.max(0, rows - 1) * LEGEND_ROW,
    right: width - 24,
    bottom: height - 48,
  };
  const parts: string[] = [legend(legendItems, area.left, 58, area.right)];
  const values = series.flatMap((s) => s.values.slice(0, n));
  if (n === 0 || values.length === 0) {
    parts.push(
      text((area.left + area.right) / 2, (area.top + area.bottom) / 2, "no data", {
        "text-anchor": "middle",
        "font-size": 13,
        fill: "#888888",
        class: "empty",
      }),
    );
    return frame({ width, height, title: opts.title, subtitle: opts.subtitle ?? "" }, parts);
  }
  // Headroom beyond the longest bars for their value labels.
  const ys = linearScale(
    Math.min(0, ...values) * 1.12,
    Math.max(0, ...values) * 1.12,
    area.bottom,
    area.top,
    5,
  );
  const slot = (area.right - area.left) / n;
  const barWidth = Math.min(48, (slot * 0.8) / series.length);
  const labels = tickLabels(ys.ticks);
  parts.unshift(
    axes({
      area,
      xTicks: opts.categories.map((c, i) => ({ at: area.left + slot * (i + 0.5), label: c })),
      yTicks: ys.ticks.map((t, i) => ({ at: ys.at(t), label: labels[i]! })),
      yLabel: opts.yLabel,
    }),
  );
  const zero = ys.at(0);
  parts.push(
    el("line", {
      x1: area.left,
      y1: zero,
      x2: area.right,
      y2: zero,
      stroke: "#444444",
      "stroke-width": 1,
    }),
  );
  series.forEach((s, si) => {
    const bars: string[] = [];
    for (let ci = 0; ci < n; ci++) {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) continue;
      const x = area.left + slot * ci + (slot - barWidth * series.length) / 2 + si * barWidth;
      const y = ys.at(v);
      const top = Math.min(y, zero);
      bars.push(
        el("g", { class: "bar", "data-category": opts.categories[ci]!, "data-value": num(v) }, [
          el("rect", { x, y: top, width: barWidth - 2, height: Math.max(0.5, Math.abs(y - zero)) }),
          text(x + (barWidth - 2) / 2, v >= 0 ? top - 3 : top + Math.abs(y - zero) + 11, fmt(v), {
            "text-anchor": "middle",
            "font-size": 9,
            fill: "#222222",
          }),
        ]),
      );
    }
    parts.push(el("g", { class: "series", "data-series": s.name, fill: s.color }, bars));
  });
  return frame(
    {
      width,
      height,
      title: opts.title,
      subtitle: opts.subtitle ?? "",
      description: `${opts.title}: ${opts.categories.join(", ")}`,
    },
    parts,
  );
}
