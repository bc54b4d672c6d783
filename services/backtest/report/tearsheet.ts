/**
 * tearsheetHtml renders one self-contained HTML page (no script, no external file): the figures
 * with their conventions, the run's assumptions, and inline SVG charts (equity, drawdown,
 * monthly returns, P&L by symbol, order latency and slippage histograms), then the trade list.
 */
import { barChartSvg, escapeXml, histogramSvg, lineChartSvg } from "../../core/charts/index.ts";
import { toNumber } from "../../core/money.ts";
import type { BacktestResult } from "../engine.ts";
import type { RoundTrip } from "./metrics.ts";
import { type Summary, slippageBps } from "./summary.ts";

export interface TearsheetInput {
  title: string;
  result: BacktestResult;
  summary: Summary;
  trips: readonly RoundTrip[];
  /** assumptions: the run's models, printed as given (latency, fills, fees, data). */
  assumptions: Record<string, string>;
}

const MAX_TRADE_ROWS = 1000;

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : `${(x * 100).toFixed(2)}%`;
const num = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined ? "–" : x.toFixed(digits);
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString().replace(".000Z", "Z");

/** charts returns the tearsheet's SVG charts by name (also written as files and PNGs). */
export function tearsheetCharts(input: TearsheetInput): Record<string, string> {
  const { result, summary } = input;
  const ms = (ns: bigint) => Number(ns / 1_000_000n);
  const equityPoints = result.equity.map(
    (e) => [ms(e.timeNs), toNumber(e.equity)] as [number, number],
  );
  let peak = Number.NEGATIVE_INFINITY;
  const ddPoints = equityPoints.map(([t, v]) => {
    peak = Math.max(peak, v);
    return [t, (v / peak - 1) * 100] as [number, number];
  });
  const charts: Record<string, string> = {
    equity: lineChartSvg({
      title: "Equity",
      series: [{ name: "equity", points: equityPoints }],
      yLabel: "USD",
    }),
    drawdown: lineChartSvg({
      title: "Drawdown",
      series: [{ name: "drawdown", points: ddPoints, fillToZero: true }],
      yLabel: "% below peak",
      includeZero: true,
    }),
  };
  if (summary.monthly.length > 0) {
    charts.monthly = barChartSvg({
      title: "Monthly returns",
      categories: summary.monthly.map((m) => m.month),
      series: [{ name: "return %", values: summary.monthly.map((m) => m.return * 100) }],
      yLabel: "%",
    });
  }
  const symbols = Object.keys(summary.bySymbol);
  if (symbols.length > 0) {
    charts.pnlBySymbol = barChartSvg({
      title: "P&L by symbol (after fees)",
      categories: symbols,
      series: [{ name: "P&L", values: symbols.map((s) => summary.bySymbol[s]!.pnl) }],
      yLabel: "USD",
    });
  }
  const ack = result.orders
    .filter((o) => o.ackNs >= 0n)
    .map((o) => Number(o.ackNs - o.sentNs) / 1e6);
  if (ack.length > 0) {
    charts.latency = histogramSvg({
      title: "Order round trip (send → venue reply)",
      samples: ack,
      unit: "ms",
      xScale: "linear",
    });
  }
  const slips = result.orders
    .map((o) => slippageBps(o.side, o.filledQty, o.filledNotional, o.arrivalMid))
    .filter((x): x is number => x !== null);
  if (slips.length > 0) {
    charts.slippage = histogramSvg({
      title: "Slippage vs arrival mid (adverse positive)",
      samples: slips,
      unit: "bps",
      xLabel: "slippage (bps)",
      xScale: "linear",
      yScale: "linear",
    });
  }
  return charts;
}

export function tearsheetHtml(input: TearsheetInput, charts = tearsheetCharts(input)): string {
  const { summary, trips } = input;
  const f = summary.figures;
  const rows: [string, string, string][] = [
    ["Total return", pct(f.totalReturn), `${num(f.startingEquity)} → ${num(f.finalEquity)} USD`],
    ["CAGR", pct(f.cagr), "252 trading days a year"],
    ["Sharpe", num(f.sharpe), `daily, rf ${pct(summary.conventions.riskFreeAnnual)} a year`],
    ["Sortino", num(f.sortino), "daily downside deviation"],
    ["Calmar", num(f.calmar), "CAGR / |max drawdown|"],
    [
      "Max drawdown",
      pct(f.maxDrawdown),
      `${f.maxDrawdownDurationDays ?? "–"} trading days below the peak (longest)`,
    ],
    ["Volatility", pct(f.volatility), "annualised, daily returns"],
    ["Win rate (by trade)", pct(f.winRateByTrade), `${f.roundTrips} round trips, flat to flat`],
    ["Win rate (by period)", pct(f.winRateByPeriod), "days up / days with a non-zero return"],
    ["Profit factor", num(f.profitFactor), "gross profit / gross loss of round trips"],
    ["Expectancy", `${num(f.expectancy)} USD`, "mean P&L per round trip, after fees"],
    ["Exposure", pct(f.exposure), "share of equity samples with a position"],
    ["Turnover", num(f.turnover), "traded notional / mean equity"],
    ["Fees", `${num(f.fees)} USD`, "commission + SEC fee + FINRA TAF"],
    ["Fill ratio", pct(f.fillRatio), "filled / ordered quantity"],
    [
      "Slippage",
      `${num(f.slippageBps)} bps`,
      "vs arrival mid, notional-weighted, adverse positive",
    ],
  ];
  const figureRows = rows
    .map(
      ([k, v, note]) =>
        `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td><td class="note">${escapeXml(note)}</td></tr>`,
    )
    .join("\n");
  const assumptions = Object.entries(input.assumptions)
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`)
    .join("\n");
  const symbolRows = Object.entries(summary.bySymbol)
    .map(
      ([s, v]) =>
        `<tr><td>${escapeXml(s)}</td><td>${num(v.pnl)}</td><td>${v.orders}</td><td>${v.fills}</td><td>${pct(v.fillRatio)}</td><td>${num(v.slippageBps)}</td><td>${v.roundTrips}</td></tr>`,
    )
    .join("\n");
  const tradeRows = trips
    .slice(0, MAX_TRADE_ROWS)
    .map(
      (t) =>
        `<tr><td>${escapeXml(t.symbol)}</td><td>${t.direction}</td><td>${iso(t.openNs)}</td><td>${iso(t.closeNs)}</td><td>${num(toNumber(t.maxQty), 0)}</td><td>${num(toNumber(t.pnl))}</td><td>${num(toNumber(t.fees))}</td></tr>`,
    )
    .join("\n");
  const more =
    trips.length > MAX_TRADE_ROWS
      ? `<p>First ${MAX_TRADE_ROWS} of ${trips.length} round trips; all are in trades.parquet.</p>`
      : "";
  const chartBlocks = Object.entries(charts)
    .map(
      ([name, svg]) => `<figure id="chart-${name}">${svg.replace(/^<\?xml[^>]*>\s*/, "")}</figure>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
td.note{color:#666;font-size:.9em}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
</style></head><body>
<h1>${escapeXml(input.title)}</h1>
<p>${escapeXml(summary.period.from)} to ${escapeXml(summary.period.to)}: ${summary.period.tradingDays} trading days, ${summary.counts.events} market events, ${summary.counts.signals} signals, ${summary.counts.orders} orders, ${summary.counts.fills} fills.</p>
<h2>Figures</h2>
<table>${figureRows}</table>
<p class="note">Conventions: returns ${escapeXml(summary.conventions.returns)}; ${summary.conventions.periodsPerYear} periods a year; risk-free rate ${escapeXml(summary.conventions.riskFree)}.</p>
<h2>Charts</h2>
${chartBlocks}
<h2>By symbol</h2>
<table><tr><th>symbol</th><th>P&amp;L (USD)</th><th>orders</th><th>fills</th><th>fill ratio</th><th>slippage (bps)</th><th>round trips</th></tr>
${symbolRows}</table>
<h2>Assumptions</h2>
<table>${assumptions}</table>
<h2>Trades</h2>
${more}
<table><tr><th>symbol</th><th>direction</th><th>opened</th><th>closed</th><th>max qty</th><th>P&amp;L (USD)</th><th>fees</th></tr>
${tradeRows}</table>
</body></html>
`;
}
