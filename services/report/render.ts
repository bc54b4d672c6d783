/**
 * render: the report's pictures (SVG) and its Markdown page, from an analyzed report. Pure; the
 * caller writes the files and rasterises the SVGs.
 */
import { barChartSvg, lineChartSvg, stackSvgs } from "../core/charts/index.ts";
import { type Fixed, roundTo, toDecimal, toNumber } from "../core/money.ts";
import type { Report } from "./analyze.ts";

export const EQUITY_CHART = "equity";
export const PNL_BY_SYMBOL_CHART = "pnl-by-symbol";

/** usd formats exact money to cents with a sign and thousands separators: -1,234.50. */
export function usd(v: Fixed): string {
  const [int, frac = "00"] = toDecimal(roundTo(v, 2), 2).split(".");
  const neg = int!.startsWith("-");
  const digits = neg ? int!.slice(1) : int!;
  return `${neg ? "-" : ""}${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${frac}`;
}

const iso = (ms: number | null) =>
  ms === null ? "—" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** equitySvg: the equity (or P&L) curve above its drawdown. */
export function equitySvg(report: Report): string {
  const { curves } = report;
  const points = (c: typeof curves.fromFills) => c.map((p) => [p.at, toNumber(p.value)] as const);
  const what = curves.kind === "equity" ? "Equity" : "P&L";
  const series = [
    ...(curves.fromSnapshots.length > 0
      ? [{ name: `${what} (portfolio snapshots)`, points: points(curves.fromSnapshots) }]
      : []),
    ...(curves.fromFills.length > 0 && curves.primary === "fills"
      ? [
          {
            name: `${what} replayed from fills`,
            points: points(curves.fromFills),
          },
        ]
      : []),
  ];
  const top = lineChartSvg({
    title: curves.kind === "equity" ? "Equity" : "P&L (equity less starting equity)",
    subtitle:
      curves.primary === "fills"
        ? `${report.figures.snapshots} portfolio snapshot(s) in the window: replayed from ${report.figures.fills.total} fill(s), each symbol marked at its latest fill`
        : `${report.figures.snapshots} portfolio snapshots`,
    series,
    yLabel: "USD",
  });
  const bottom = lineChartSvg({
    title: `Drawdown from the running peak (${curves.drawdown.unit})`,
    subtitle: `of the ${curves.primary === "fills" ? "fills' curve" : curves.primary === "snapshots" ? "snapshots' curve" : "curve"}; max ${maxDrawdownText(report)}`,
    series: [
      { name: "drawdown", points: curves.drawdown.points, color: "#D55E00", fillToZero: true },
    ],
    yLabel: curves.drawdown.unit,
    includeZero: true,
    height: 250,
  });
  return stackSvgs([top, bottom], `${what} and drawdown`);
}

/** pnlBySymbolSvg: realized and unrealized P&L per symbol. */
export function pnlBySymbolSvg(report: Report): string {
  const rows = report.bySymbol;
  return barChartSvg({
    title: "P&L by symbol",
    subtitle:
      report.figures.pnl.source === "positions"
        ? "all time, from the positions table (unrealized at the latest marks)"
        : "all time, replayed from fills (unrealized at the latest fill prices)",
    categories: rows.map((r) => r.symbol),
    series: [
      { name: "realized", values: rows.map((r) => toNumber(r.realized)), color: "#0072B2" },
      { name: "unrealized", values: rows.map((r) => toNumber(r.unrealized)), color: "#E69F00" },
    ],
    yLabel: "USD",
  });
}

function maxDrawdownText(report: Report): string {
  const d = report.figures.maxDrawdown;
  if (d.source === "none") return "—";
  const pct = d.pct === null ? "" : ` (${d.pct.toFixed(2)}% of the peak)`;
  return `${usd(d.amount)} USD${pct}`;
}

/** reportMarkdown: the short page with the figures and the two pictures. */
export function reportMarkdown(
  report: Report,
  opts: { database: string; generatedAt: number },
): string {
  const f = report.figures;
  const statuses = Object.entries(f.orders.byStatus)
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  const winRate =
    f.trades.winRate === null
      ? "— (no fill closed a position)"
      : `${(f.trades.winRate * 100).toFixed(1)}% (${f.trades.wins} of ${f.trades.closing} closing fills realized a gain; ${f.trades.losses} a loss)`;
  const rows: Array<[string, string]> = [
    [
      "Total P&L",
      `${usd(f.pnl.total)} USD (realized ${usd(f.pnl.realized)}, unrealized ${usd(f.pnl.unrealized)}; from ${f.pnl.source})`,
    ],
    ...(f.windowPnl === null
      ? []
      : ([["P&L in the window", `${usd(f.windowPnl)} USD`]] as Array<[string, string]>)),
    [
      "Max drawdown",
      `${maxDrawdownText(report)}${f.maxDrawdown.at === null ? "" : ` at ${iso(f.maxDrawdown.at)}`} (from ${f.maxDrawdown.source})`,
    ],
    [
      "Last equity",
      f.lastEquity === null ? "— (no snapshot with equity)" : `${usd(f.lastEquity)} USD`,
    ],
    ["Orders", `${f.orders.total}${statuses ? ` (${statuses})` : ""}`],
    [
      "Fills",
      `${f.fills.total} (${f.fills.buys} buy, ${f.fills.sells} sell; ${usd(f.fills.notional)} USD traded)`,
    ],
    ["Win rate", winRate],
    ["Portfolio snapshots", String(f.snapshots)],
  ];
  const table = [
    "| figure | value |",
    "| --- | --- |",
    ...rows.map(([k, v]) => `| ${k} | ${v.replaceAll("|", "\\|")} |`),
  ].join("\n");
  return `# tradepipe report

Database: ${opts.database}. Window: ${iso(f.window.from)} → ${iso(f.window.to)}. Generated ${iso(opts.generatedAt)}.

${table}

![${report.curves.kind === "equity" ? "Equity" : "P&L"} and drawdown](${EQUITY_CHART}.png)

![P&L by symbol](${PNL_BY_SYMBOL_CHART}.png)

SVG versions: [${EQUITY_CHART}.svg](${EQUITY_CHART}.svg), [${PNL_BY_SYMBOL_CHART}.svg](${PNL_BY_SYMBOL_CHART}.svg).
P&L is average-cost (the position tracker's accounting). A closing fill is one that reduced a
position; it wins when it realized a gain.
`;
}
