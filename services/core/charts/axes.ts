/**
 * axes: the plot area's frame, grid lines, tick marks with labels, and the axis titles, given
 * ticks already placed in pixels. Shared by the histogram and the line chart.
 */
import { el, text } from "./svg.ts";

export interface PlotArea {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface Tick {
  /** Pixel position along the axis. */
  at: number;
  label: string;
}

export interface AxesOptions {
  area: PlotArea;
  xTicks: readonly Tick[];
  yTicks: readonly Tick[];
  xLabel?: string;
  yLabel?: string;
}

/** axes draws grid, ticks and labels; data is drawn on top by the caller. */
export function axes(opts: AxesOptions): string {
  const { left, top, right, bottom } = opts.area;
  const grid: string[] = [];
  const marks: string[] = [];
  const labels: string[] = [];
  for (const t of opts.yTicks) {
    grid.push(el("line", { x1: left, y1: t.at, x2: right, y2: t.at }));
    marks.push(el("line", { x1: left - 4, y1: t.at, x2: left, y2: t.at }));
    labels.push(text(left - 7, t.at + 4, t.label, { "text-anchor": "end", "font-size": 10 }));
  }
  for (const t of opts.xTicks) {
    grid.push(el("line", { x1: t.at, y1: top, x2: t.at, y2: bottom }));
    marks.push(el("line", { x1: t.at, y1: bottom, x2: t.at, y2: bottom + 4 }));
    labels.push(text(t.at, bottom + 16, t.label, { "text-anchor": "middle", "font-size": 10 }));
  }
  const titles: string[] = [];
  if (opts.xLabel) {
    titles.push(
      text((left + right) / 2, bottom + 34, opts.xLabel, {
        "text-anchor": "middle",
        "font-size": 11,
        class: "x-label",
      }),
    );
  }
  if (opts.yLabel) {
    const cy = (top + bottom) / 2;
    titles.push(
      text(14, cy, opts.yLabel, {
        "text-anchor": "middle",
        "font-size": 11,
        transform: `rotate(-90 14 ${cy})`,
        class: "y-label",
      }),
    );
  }
  return el("g", { class: "axes" }, [
    el("g", { class: "grid", stroke: "#e6e6e6", "stroke-width": 1 }, grid),
    el("rect", {
      x: left,
      y: top,
      width: right - left,
      height: bottom - top,
      fill: "none",
      stroke: "#888888",
      "stroke-width": 1,
    }),
    el("g", { class: "ticks", stroke: "#888888" }, marks),
    el("g", { class: "tick-labels", fill: "#222222" }, labels),
    el("g", { class: "axis-titles", fill: "#222222" }, titles),
  ]);
}
