/** charts: dependency-free SVG charts (pure functions) and their PNG rendering. */

export { type BarChartOptions, type BarSeries, barChartSvg } from "./bar-chart.ts";
export {
  type Bucket,
  binSamples,
  type HistogramOptions,
  histogramSvg,
  type Marker,
  percentileOf,
  percentileOfBuckets,
} from "./histogram.ts";
export { type LineChartOptions, lineChartSvg, type Point, type Series } from "./line-chart.ts";
export { svgToPng } from "./png.ts";
export { formatValue } from "./scale.ts";
export { stackSvgs } from "./stack.ts";
export { escapeXml } from "./svg.ts";
