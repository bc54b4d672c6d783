/**
 * The market-data catalog's layout and schemas: Parquet files partitioned by kind, symbol and New
 * York trading date, Hive-style, so DuckDB, pandas/pyarrow and Polars read it as one dataset:
 *
 *   DIR/quotes/symbol=AAPL/date=2026-03-02.parquet
 *   DIR/trades/symbol=AAPL/date=2026-03-02.parquet
 *   DIR/bars/symbol=AAPL/date=2026-03-02.parquet
 *   DIR/books/symbol=AAPL/date=2026-03-02.parquet   (L2: one row per price level change)
 *   DIR/broker/date=2026-03-02.parquet          (recordings only: broker events)
 *
 * Columns: `t_ns` is the exchange's timestamp and `received_ns` ours (both INT64 nanoseconds
 * since the Unix epoch, UTC; `received_ns` is -1 when unknown, as in fetched history). Prices and
 * sizes are DOUBLE, as Alpaca sends them (JSON numbers), and become exact decimals on reading
 * (the same conversion as the live feed decoder). Quote sizes are in Alpaca's units (round lots).
 */
import { join } from "node:path";

export type CatalogKind = "quotes" | "trades" | "bars" | "books";

/** FetchableKind, CATALOG_KINDS: what `tradepipe data fetch` fills (Alpaca's history has no L2). */
export type FetchableKind = Exclude<CatalogKind, "books">;
export const CATALOG_KINDS: readonly FetchableKind[] = ["quotes", "trades", "bars"];

export const QUOTE_COLUMNS = [
  "t_ns",
  "received_ns",
  "bid_price",
  "bid_size",
  "ask_price",
  "ask_size",
] as const;
export const TRADE_COLUMNS = ["t_ns", "received_ns", "price", "size", "trade_id"] as const;
/**
 * BOOK_COLUMNS: L2 books, one row per price level change: `side` "bid" or "ask", `price`, `size`
 * in shares (0: the level is gone); `reset` true on the first row of a side's snapshot (the
 * side's levels are cleared before it). Rows of one update share `t_ns`.
 */
export const BOOK_COLUMNS = ["t_ns", "received_ns", "side", "price", "size", "reset"] as const;
export const BAR_COLUMNS = [
  "t_ns",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "trade_count",
  "vwap",
] as const;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function partitionPath(
  dir: string,
  kind: CatalogKind,
  symbol: string,
  date: string,
): string {
  return join(dir, kind, `symbol=${symbol}`, `date=${date}.parquet`);
}

export function brokerPartitionPath(dir: string, date: string): string {
  return join(dir, "broker", `date=${date}.parquet`);
}

/** parseDate checks a YYYY-MM-DD date and returns it. */
export function parseDate(text: string, what: string): string {
  if (!DATE_RE.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw new Error(`${what}: "${text}" is not a date (YYYY-MM-DD)`);
  }
  return text;
}

/** datesBetween lists the calendar dates from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}
