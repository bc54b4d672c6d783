import assert from "node:assert/strict";
import { test } from "node:test";
import { barChartSvg } from "./bar-chart.ts";
import { binSamples, histogramSvg, percentileOf, percentileOfBuckets } from "./histogram.ts";
import { lineChartSvg, thinPoints } from "./line-chart.ts";
import { svgToPng } from "./png.ts";
import { linearScale, logScale, tickLabels, timeTicks } from "./scale.ts";
import { stackSvgs } from "./stack.ts";
import { escapeXml, num } from "./svg.ts";
import { findAll, parseXml, textOf, type XmlElement } from "./xml-check.ts";

const byClass = (root: XmlElement, cls: string) =>
  findAll(root, (e) => (e.attrs.class ?? "").split(" ").includes(cls));

/** latencySamples: a deterministic heavy-tailed set (1..~2000 µs). */
function latencySamples(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % n) ** 2 / ((n * n) / 2000));
}

test("percentileOf is nearest-rank", () => {
  const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentileOf(sorted, 50), 500);
  assert.equal(percentileOf(sorted, 99), 990);
  assert.equal(percentileOf(sorted, 99.9), 999);
  assert.equal(percentileOf(sorted, 100), 1000);
  assert.ok(Number.isNaN(percentileOf([], 50)));
});

test("binSamples keeps every sample, in log and linear bins", () => {
  const samples = latencySamples(5000);
  for (const kind of ["log", "linear"] as const) {
    const buckets = binSamples(samples, 40, kind);
    assert.equal(buckets.length, 40);
    assert.equal(
      buckets.reduce((s, b) => s + b.count, 0),
      samples.length,
    );
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(Math.abs(buckets[i]!.lo - buckets[i - 1]!.hi) < 1e-9 * buckets[i]!.lo);
    }
  }
  assert.deepEqual(binSamples([], 10, "log"), []);
  assert.deepEqual(binSamples([3, 3], 10, "linear"), [{ lo: 3, hi: 3, count: 2 }]);
});

test("percentileOfBuckets is the upper bound of the bucket holding the rank", () => {
  const buckets = [
    { lo: 0, hi: 10, count: 50 },
    { lo: 10, hi: 20, count: 49 },
    { lo: 20, hi: 30, count: 1 },
  ];
  assert.equal(percentileOfBuckets(buckets, 50), 10);
  assert.equal(percentileOfBuckets(buckets, 99), 20);
  assert.equal(percentileOfBuckets(buckets, 99.9), 30);
});

test("histogramSvg: well-formed, one bar per non-empty bin, p50/p99/p99.9 marked", () => {
  const samples = latencySamples(10_000);
  const svg = histogramSvg({ title: "hop latency", samples, unit: "µs", bins: 30 });
  const root = parseXml(svg);
  assert.equal(root.name, "svg");
  assert.equal(root.attrs.xmlns, "http://www.w3.org/2000/svg");
  const nonEmpty = binSamples(samples, 30, "log").filter((b) => b.count > 0).length;
  assert.equal(byClass(root, "bar").length, nonEmpty);
  assert.equal(byClass(root, "bars")[0]!.attrs["data-bars"], String(nonEmpty));
  const markers = byClass(root, "percentile");
  assert.deepEqual(
    markers.map((m) => m.attrs["data-label"]),
    ["p50", "p99", "p99.9"],
  );
  const sorted = [...samples].sort((a, b) => a - b);
  assert.equal(markers[1]!.attrs["data-value"], num(percentileOf(sorted, 99)));
  // Heavy tail: log axis, labelled so.
  assert.match(textOf(byClass(root, "x-label")[0]!), /latency \(µs\), log scale/);
  assert.match(textOf(root), /n = 10,000/);
  // Bars stay inside the plot area.
  for (const bar of byClass(root, "bar")) {
    assert.ok(Number(bar.attrs.height) >= 0 && Number(bar.attrs.width) >= 1);
  }
});

test("histogramSvg is deterministic and accepts buckets and explicit markers", () => {
  const samples = latencySamples(2000);
  assert.equal(
    histogramSvg({ title: "t", samples, unit: "µs" }),
    histogramSvg({ title: "t", samples: [...samples].reverse(), unit: "µs" }),
  );
  const svg = histogramSvg({
    title: "from buckets",
    buckets: [
      { lo: 1, hi: 2, count: 10 },
      { lo: 2, hi: 4, count: 0 },
      { lo: 4, hi: 8, count: 3 },
    ],
    unit: "ms",
    percentiles: [{ label: "p90", value: 5 }],
    xScale: "linear",
  });
  const root = parseXml(svg);
  assert.equal(byClass(root, "bar").length, 2);
  assert.deepEqual(
    byClass(root, "percentile").map((m) => m.attrs["data-label"]),
    ["p90"],
  );
});

test("histogramSvg with no samples says so", () => {
  const root = parseXml(histogramSvg({ title: "none", samples: [], unit: "µs" }));
  assert.equal(byClass(root, "bar").length, 0);
  assert.equal(textOf(byClass(root, "empty")[0]!), "no samples");
});

test("labels with < & > and quotes are escaped, and read back as written", () => {
  const title = `a <b> & "c" 'd'`;
  const svg = histogramSvg({ title, samples: [1, 2, 3], unit: "<µs>" });
  assert.ok(!svg.includes("<b>"));
  const root = parseXml(svg);
  assert.equal(textOf(byClass(root, "title")[0]!), title);
  const line = lineChartSvg({
    title,
    series: [{ name: "A&B <1>", points: [[0, 1]] }],
    yLabel: "y<",
  });
  const lr = parseXml(line);
  assert.equal(
    findAll(lr, (e) => e.name === "g" && e.attrs["data-series"] === "A&B <1>").length,
    1,
  );
  assert.equal(escapeXml(`<&>"'`), "&lt;&amp;&gt;&quot;&apos;");
});

test("lineChartSvg: one polyline per series with every point, legend, axes", () => {
  const t0 = Date.UTC(2026, 0, 5, 14, 30);
  const a = Array.from({ length: 120 }, (_, i) => [t0 + i * 1000, 100_000 + i * 10] as const);
  const b = [
    [t0, 100_000],
    [t0 + 60_000, 100_500],
  ] as const;
  const svg = lineChartSvg({
    title: "Equity",
    series: [
      { name: "snapshots", points: a },
      { name: "fills", points: b },
    ],
    yLabel: "USD",
  });
  const root = parseXml(svg);
  const series = byClass(root, "series");
  assert.deepEqual(
    series.map((s) => [s.attrs["data-series"], s.attrs["data-points"]]),
    [
      ["snapshots", "120"],
      ["fills", "2"],
    ],
  );
  const lines = byClass(root, "line");
  assert.equal(lines[0]!.attrs.points!.split(" ").length, 120);
  // Few points also get dots; many do not.
  assert.equal(byClass(series[1]!, "dot").length, 2);
  assert.equal(byClass(series[0]!, "dot").length, 0);
  assert.equal(byClass(root, "legend-item").length, 2);
  assert.match(textOf(byClass(root, "y-label")[0]!), /USD/);
  const tickText = textOf(byClass(root, "tick-labels")[0]!);
  assert.match(tickText, /14:30/);
});

test("lineChartSvg fills to zero and survives empty and single-point input", () => {
  const dd = lineChartSvg({
    title: "Drawdown",
    series: [
      {
        name: "dd",
        points: [
          [0, 0],
          [1000, -2],
          [2000, -1],
        ],
        fillToZero: true,
      },
    ],
    yLabel: "%",
    includeZero: true,
  });
  assert.equal(byClass(parseXml(dd), "area").length, 1);
  const empty = parseXml(lineChartSvg({ title: "x", series: [], yLabel: "y" }));
  assert.equal(textOf(byClass(empty, "empty")[0]!), "no data");
  const one = parseXml(
    lineChartSvg({ title: "x", series: [{ name: "s", points: [[5, 5]] }], yLabel: "y" }),
  );
  assert.equal(byClass(one, "dot").length, 1);
});

test("scales: nice linear ticks, decades on log, distinct tick labels, round times", () => {
  const lin = linearScale(3, 97, 0, 100);
  assert.deepEqual(lin.ticks, [0, 20, 40, 60, 80, 100]);
  assert.equal(lin.at(50), 50);
  const log = logScale(3, 4000, 0, 400);
  assert.deepEqual(log.ticks, [1, 10, 100, 1000, 10000]);
  assert.equal(log.at(100), 200);
  assert.deepEqual(tickLabels([100_000, 100_500, 101_000]), ["100,000", "100,500", "101,000"]);
  assert.deepEqual(tickLabels([0, 5000, 10000]), ["0", "5000", "10k"]);
  const t0 = Date.UTC(2026, 0, 5, 14, 30, 7);
  const tt = timeTicks(t0, t0 + 20_000);
  assert.ok(tt.ticks.every((t) => t % 5000 === 0));
  assert.equal(tt.label(Date.UTC(2026, 0, 5, 14, 30, 10)), "14:30:10");
});

test("stackSvgs nests the documents one below the other", () => {
  const a = lineChartSvg({
    title: "A",
    series: [{ name: "a", points: [[0, 1]] }],
    yLabel: "y",
    height: 300,
  });
  const b = lineChartSvg({
    title: "B",
    series: [{ name: "b", points: [[0, 1]] }],
    yLabel: "y",
    height: 200,
  });
  const root = parseXml(stackSvgs([a, b], "A & B"));
  assert.equal(root.attrs.height, "500");
  const nested = root.children.filter((c) => c.name === "svg");
  assert.deepEqual(
    nested.map((n) => n.attrs.y),
    ["0", "300"],
  );
});

test("parseXml rejects what is not well-formed", () => {
  for (const bad of [
    "<a>",
    "<a></b>",
    "<a x=1/>",
    "<a>x & y</a>",
    '<a x="<"/>',
    "<a/><b/>",
    "text",
  ]) {
    assert.throws(() => parseXml(bad), /not well-formed XML/, bad);
  }
  assert.equal(parseXml('<a x="&amp;">&#60;</a>').text, "<");
});

test("svgToPng renders a PNG of the chart's size", () => {
  const png = svgToPng(
    histogramSvg({ title: "h", samples: [1, 2, 3], unit: "µs", width: 400, height: 200 }),
  );
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  assert.equal(png.readUInt32BE(16), 400);
  assert.equal(png.readUInt32BE(20), 200);
  const wide = svgToPng(
    histogramSvg({ title: "h", samples: [1, 2, 3], unit: "µs", width: 400, height: 200 }),
    { width: 800 },
  );
  assert.equal(wide.readUInt32BE(16), 800);
});

test("barChartSvg: a bar per category and series, negatives below zero, escaped categories", () => {
  const svg = barChartSvg({
    title: "P&L by symbol",
    categories: ["AAPL", "A<B"],
    series: [
      { name: "realized", values: [120.5, -30] },
      { name: "unrealized", values: [-10, 5] },
    ],
    yLabel: "USD",
  });
  const root = parseXml(svg);
  const bars = byClass(root, "bar");
  assert.equal(bars.length, 4);
  assert.deepEqual(
    bars.map((b) => [b.attrs["data-category"], b.attrs["data-value"]]),
    [
      ["AAPL", "120.5"],
      ["A<B", "-30"],
      ["AAPL", "-10"],
      ["A<B", "5"],
    ],
  );
  const rect = (b: XmlElement) => b.children.find((c) => c.name === "rect")!;
  // The negative bar starts where the positive one ends: at the zero line.
  const zeroY = Number(rect(bars[0]!).attrs.y) + Number(rect(bars[0]!).attrs.height);
  assert.ok(Math.abs(Number(rect(bars[1]!).attrs.y) - zeroY) < 0.02);
  assert.equal(
    byClass(parseXml(barChartSvg({ title: "x", categories: [], series: [], yLabel: "y" })), "empty")
      .length,
    1,
  );
});

test("long series are thinned to a min and a max per slice of time, extremes kept", () => {
  const points = Array.from(
    { length: 50_000 },
    (_, i) => [i, Math.sin(i / 500) * 100 + (i === 31_337 ? -500 : 0)] as const,
  );
  const thin = thinPoints(points, 1000);
  assert.ok(thin.length <= 1000 && thin.length > 900, String(thin.length));
  assert.ok(
    thin.some(([t, v]) => t === 31_337 && v < -400),
    "the deepest point survives",
  );
  for (let i = 1; i < thin.length; i++) assert.ok(thin[i]![0] > thin[i - 1]![0]);
  assert.equal(thinPoints(points.slice(0, 10), 1000).length, 10);
  const svg = parseXml(
    lineChartSvg({ title: "long", series: [{ name: "s", points }], yLabel: "y" }),
  );
  const series = byClass(svg, "series")[0]!;
  assert.equal(series.attrs["data-points"], "50000");
  assert.equal(
    byClass(series, "line")[0]!.attrs.points!.split(" ").length,
    Number(series.attrs["data-drawn"]),
  );
  assert.ok(Number(series.attrs["data-drawn"]) <= 2000);
});
