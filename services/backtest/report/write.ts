/**
 * writeBacktestOutputs writes a run's results into one directory: summary.json (figures and
 * conventions), tearsheet.html (self-contained), charts/*.svg and *.png, and the orders, fills,
 * round trips and equity curve as Parquet (the catalog's format, for pandas, DuckDB, Polars).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { svgToPng } from "../../core/charts/index.ts";
import { toNumber } from "../../core/money.ts";
import { writeParquet } from "../catalog/parquet.ts";
import type { BacktestResult } from "../engine.ts";
import { roundTripsOf, type Summary, summarize } from "./summary.ts";
import { tearsheetCharts, tearsheetHtml } from "./tearsheet.ts";

export interface OutputOptions {
  outDir: string;
  title: string;
  riskFreeAnnual: number;
  assumptions: Record<string, string>;
  /** extra: more fields for summary.json (data statistics, parity figures). */
  extra?: Record<string, unknown>;
  /** png: also render each chart to PNG (default true). */
  png?: boolean;
}

export function writeBacktestOutputs(result: BacktestResult, o: OutputOptions): Summary {
  mkdirSync(join(o.outDir, "charts"), { recursive: true });
  const summary = summarize(result, o.riskFreeAnnual);
  const trips = roundTripsOf(result);
  const input = { title: o.title, result, summary, trips, assumptions: o.assumptions };
  const charts = tearsheetCharts(input);
  for (const [name, svg] of Object.entries(charts)) {
    writeFileSync(join(o.outDir, "charts", `${name}.svg`), svg);
    if (o.png !== false) writeFileSync(join(o.outDir, "charts", `${name}.png`), svgToPng(svg));
  }
  writeFileSync(join(o.outDir, "tearsheet.html"), tearsheetHtml(input, charts));
  writeFileSync(
    join(o.outDir, "summary.json"),
    `${JSON.stringify({ ...summary, assumptions: o.assumptions, ...(o.extra ?? {}) }, null, 1)}\n`,
  );
  const orders = result.orders;
  writeParquet(join(o.outDir, "orders.parquet"), [
    { name: "client_order_id", type: "STRING", data: orders.map((x) => x.clientOrderId) },
    { name: "symbol", type: "STRING", data: orders.map((x) => x.symbol) },
    { name: "side", type: "STRING", data: orders.map((x) => x.side) },
    { name: "type", type: "STRING", data: orders.map((x) => x.type) },
    { name: "qty", type: "DOUBLE", data: orders.map((x) => toNumber(x.qty)) },
    {
      name: "limit_price",
      type: "DOUBLE",
      data: orders.map((x) => (x.limitPrice === null ? Number.NaN : toNumber(x.limitPrice))),
    },
    { name: "status", type: "STRING", data: orders.map((x) => x.status) },
    { name: "filled_qty", type: "DOUBLE", data: orders.map((x) => toNumber(x.filledQty)) },
    {
      name: "filled_notional",
      type: "DOUBLE",
      data: orders.map((x) => toNumber(x.filledNotional)),
    },
    { name: "arrival_mid", type: "DOUBLE", data: orders.map((x) => toNumber(x.arrivalMid)) },
    { name: "sent_ns", type: "INT64", data: orders.map((x) => x.sentNs) },
    { name: "arrived_ns", type: "INT64", data: orders.map((x) => x.arrivedNs) },
    { name: "ack_ns", type: "INT64", data: orders.map((x) => x.ackNs) },
    { name: "first_fill_seen_ns", type: "INT64", data: orders.map((x) => x.firstFillSeenNs) },
    { name: "reject_reason", type: "STRING", data: orders.map((x) => x.rejectReason) },
  ]);
  writeParquet(join(o.outDir, "fills.parquet"), [
    { name: "client_order_id", type: "STRING", data: result.fills.map((x) => x.clientOrderId) },
    { name: "symbol", type: "STRING", data: result.fills.map((x) => x.symbol) },
    { name: "side", type: "STRING", data: result.fills.map((x) => x.side) },
    { name: "qty", type: "DOUBLE", data: result.fills.map((x) => toNumber(x.qty)) },
    { name: "price", type: "DOUBLE", data: result.fills.map((x) => toNumber(x.price)) },
    { name: "fees", type: "DOUBLE", data: result.fills.map((x) => toNumber(x.fees)) },
    { name: "t_ns", type: "INT64", data: result.fills.map((x) => x.exchangeNs) },
  ]);
  writeParquet(join(o.outDir, "trades.parquet"), [
    { name: "symbol", type: "STRING", data: trips.map((x) => x.symbol) },
    { name: "direction", type: "STRING", data: trips.map((x) => x.direction) },
    { name: "open_ns", type: "INT64", data: trips.map((x) => x.openNs) },
    { name: "close_ns", type: "INT64", data: trips.map((x) => x.closeNs) },
    { name: "max_qty", type: "DOUBLE", data: trips.map((x) => toNumber(x.maxQty)) },
    { name: "pnl", type: "DOUBLE", data: trips.map((x) => toNumber(x.pnl)) },
    { name: "fees", type: "DOUBLE", data: trips.map((x) => toNumber(x.fees)) },
  ]);
  writeParquet(join(o.outDir, "equity.parquet"), [
    { name: "t_ns", type: "INT64", data: result.equity.map((x) => x.timeNs) },
    { name: "equity", type: "DOUBLE", data: result.equity.map((x) => toNumber(x.equity)) },
    {
      name: "gross_exposure",
      type: "DOUBLE",
      data: result.equity.map((x) => toNumber(x.grossExposure)),
    },
  ]);
  return summary;
}
