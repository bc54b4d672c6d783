/**
 * The catalog: writing one partition (kind, symbol, date) of quotes, trades or bars, and reading
 * a date range back as one stream of market records in exchange-time order.
 *
 * Reading holds one trading date of the requested symbols in memory at a time (every partition
 * of that date, merged), so memory stays flat however long the range is.
 *
 * Bad data is never passed on silently. Errors (the run stops, naming file and 0-based row):
 * timestamps going backwards within a file, negative prices or sizes, a value that is not a
 * finite number. Skips (counted in CatalogStats and printed in the run's summary): crossed quotes
 * (bid above ask, both present), which the live market-data core refuses as well.
 */
import { existsSync } from "node:fs";
import { etDate } from "../../broker-sim/core/time.ts";
import { TradepipeError } from "../../core/errors.ts";
import { type Fixed, toNumber } from "../../core/money.ts";
import { fixedFromWire } from "../../market-data/core/alpaca-decode.ts";
import { bookRecord, type MarketRecord } from "../records.ts";
import {
  BAR_COLUMNS,
  BOOK_COLUMNS,
  type CatalogKind,
  datesBetween,
  partitionPath,
  QUOTE_COLUMNS,
  TRADE_COLUMNS,
} from "./layout.ts";
import { readColumns, writeParquet } from "./parquet.ts";

export interface BarRow {
  timeNs: bigint;
  open: Fixed;
  high: Fixed;
  low: Fixed;
  close: Fixed;
  volume: Fixed;
  tradeCount: number;
  vwap: Fixed;
}

export interface CatalogStats {
  files: number;
  rows: number;
  crossedQuotesSkipped: number;
  /** loadNs: time spent reading and decoding files (wall clock, for reports only). */
  loadNs: number;
}

export const newCatalogStats = (): CatalogStats => ({
  files: 0,
  rows: 0,
  crossedQuotesSkipped: 0,
  loadNs: 0,
});

const META = { "tradepipe.catalog": "1" };

/** writeRecords writes one partition of quotes or trades (records of one symbol and kind). */
export function writeRecords(
  dir: string,
  kind: "quotes" | "trades",
  symbol: string,
  date: string,
  records: readonly MarketRecord[],
  /** seq: a recording's global input order (a column `seq`), absent in fetched history. */
  seq?: readonly bigint[],
): string {
  const path = partitionPath(dir, kind, symbol, date);
  const seqColumn = seq === undefined ? [] : [{ name: "seq", type: "INT64" as const, data: seq }];
  const t = records.map((r) => r.exchangeNs);
  const received = records.map((r) => r.receivedNs);
  if (kind === "quotes") {
    writeParquet(
      path,
      [
        { name: "t_ns", type: "INT64", data: t },
        { name: "received_ns", type: "INT64", data: received },
        { name: "bid_price", type: "DOUBLE", data: records.map((r) => toNumber(r.bidPrice)) },
        { name: "bid_size", type: "DOUBLE", data: records.map((r) => toNumber(r.bidSize)) },
        { name: "ask_price", type: "DOUBLE", data: records.map((r) => toNumber(r.askPrice)) },
        { name: "ask_size", type: "DOUBLE", data: records.map((r) => toNumber(r.askSize)) },
        ...seqColumn,
      ],
      META,
    );
  } else {
    writeParquet(
      path,
      [
        { name: "t_ns", type: "INT64", data: t },
        { name: "received_ns", type: "INT64", data: received },
        { name: "price", type: "DOUBLE", data: records.map((r) => toNumber(r.price)) },
        { name: "size", type: "DOUBLE", data: records.map((r) => toNumber(r.size)) },
        { name: "trade_id", type: "INT64", data: records.map((r) => BigInt(r.tradeId)) },
        ...seqColumn,
      ],
      META,
    );
  }
  return path;
}

/** writeBooks writes one partition of L2 book rows (bookRecord rows of one symbol). */
export function writeBooks(
  dir: string,
  symbol: string,
  date: string,
  rows: readonly MarketRecord[],
  seq?: readonly bigint[],
): string {
  const path = partitionPath(dir, "books", symbol, date);
  const bid = (r: MarketRecord) => r.bidPrice > 0n;
  writeParquet(
    path,
    [
      { name: "t_ns", type: "INT64", data: rows.map((r) => r.exchangeNs) },
      { name: "received_ns", type: "INT64", data: rows.map((r) => r.receivedNs) },
      { name: "side", type: "STRING", data: rows.map((r) => (bid(r) ? "bid" : "ask")) },
      {
        name: "price",
        type: "DOUBLE",
        data: rows.map((r) => toNumber(bid(r) ? r.bidPrice : r.askPrice)),
      },
      {
        name: "size",
        type: "DOUBLE",
        data: rows.map((r) => toNumber(bid(r) ? r.bidSize : r.askSize)),
      },
      { name: "reset", type: "BOOLEAN", data: rows.map((r) => r.tradeId === 1) },
      ...(seq === undefined ? [] : [{ name: "seq", type: "INT64" as const, data: seq }]),
    ],
    META,
  );
  return path;
}

/** readBooks reads and checks one books file into book rows (records.ts). */
export async function readBooks(
  path: string,
  symbol: string,
  stats: CatalogStats,
): Promise<MarketRecord[]> {
  const { rows, columns: c } = await readColumns(path, BOOK_COLUMNS);
  stats.files++;
  stats.rows += rows;
  const out: MarketRecord[] = [];
  let last = -1n;
  for (let i = 0; i < rows; i++) {
    const t = timeAt(path, i, "t_ns", c.t_ns![i]);
    if (t < last)
      throw badData(path, i, `t_ns ${t} is before the previous row's ${last} (out of order)`);
    last = t;
    const side = c.side![i];
    if (side !== "bid" && side !== "ask")
      throw badData(path, i, `side is "${String(side)}", not bid or ask`);
    const price = fixedAt(path, i, "price", c.price![i]);
    if (price <= 0n) throw badData(path, i, `price ${String(c.price![i])} is not positive`);
    out.push(
      bookRecord(
        symbol,
        t,
        side,
        price,
        fixedAt(path, i, "size", c.size![i]),
        c.reset![i] === true,
        timeAt(path, i, "received_ns", c.received_ns![i]),
      ),
    );
  }
  return out;
}

export function writeBars(
  dir: string,
  symbol: string,
  date: string,
  bars: readonly BarRow[],
): string {
  const path = partitionPath(dir, "bars", symbol, date);
  writeParquet(
    path,
    [
      { name: "t_ns", type: "INT64", data: bars.map((b) => b.timeNs) },
      { name: "open", type: "DOUBLE", data: bars.map((b) => toNumber(b.open)) },
      { name: "high", type: "DOUBLE", data: bars.map((b) => toNumber(b.high)) },
      { name: "low", type: "DOUBLE", data: bars.map((b) => toNumber(b.low)) },
      { name: "close", type: "DOUBLE", data: bars.map((b) => toNumber(b.close)) },
      { name: "volume", type: "DOUBLE", data: bars.map((b) => toNumber(b.volume)) },
      { name: "trade_count", type: "INT64", data: bars.map((b) => BigInt(b.tradeCount)) },
      { name: "vwap", type: "DOUBLE", data: bars.map((b) => toNumber(b.vwap)) },
    ],
    META,
  );
  return path;
}

/** BadDataError names the file, the 0-based row and what is wrong. */
export function badData(path: string, row: number, message: string): TradepipeError {
  return new TradepipeError("TP_ERR_BAD_DATA", `${path}: row ${row}: ${message}`);
}

function fixedAt(
  path: string,
  row: number,
  column: string,
  v: unknown,
  allowNegative = false,
): Fixed {
  let f: Fixed;
  try {
    f = fixedFromWire(v, column);
  } catch {
    throw badData(path, row, `${column} is not a finite number (${String(v)})`);
  }
  if (!allowNegative && f < 0n) throw badData(path, row, `${column} is negative (${String(v)})`);
  return f;
}

function timeAt(path: string, row: number, column: string, v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  throw badData(path, row, `${column} is not an integer timestamp (${String(v)})`);
}

/** readPartition reads and checks one quotes or trades file into records. */
export async function readPartition(
  path: string,
  kind: "quotes" | "trades",
  symbol: string,
  stats: CatalogStats,
): Promise<MarketRecord[]> {
  const names = kind === "quotes" ? QUOTE_COLUMNS : TRADE_COLUMNS;
  const { rows, columns: c } = await readColumns(path, names);
  stats.files++;
  stats.rows += rows;
  const out: MarketRecord[] = [];
  const tCol = c.t_ns!;
  const rCol = c.received_ns!;
  let last = -1n;
  for (let i = 0; i < rows; i++) {
    const t = timeAt(path, i, "t_ns", tCol[i]);
    if (t < last)
      throw badData(path, i, `t_ns ${t} is before the previous row's ${last} (out of order)`);
    last = t;
    const received = timeAt(path, i, "received_ns", rCol[i]);
    if (kind === "quotes") {
      const bid = fixedAt(path, i, "bid_price", c.bid_price![i]);
      const bidSize = fixedAt(path, i, "bid_size", c.bid_size![i]);
      const ask = fixedAt(path, i, "ask_price", c.ask_price![i]);
      const askSize = fixedAt(path, i, "ask_size", c.ask_size![i]);
      if (bid > 0n && ask > 0n && bid > ask) {
        stats.crossedQuotesSkipped++;
        continue;
      }
      out.push({
        kind: "quote",
        symbol,
        exchangeNs: t,
        receivedNs: received,
        bidPrice: bid,
        bidSize,
        askPrice: ask,
        askSize,
        price: 0n,
        size: 0n,
        tradeId: 0,
      });
    } else {
      const id = c.trade_id![i];
      out.push({
        kind: "trade",
        symbol,
        exchangeNs: t,
        receivedNs: received,
        bidPrice: 0n,
        bidSize: 0n,
        askPrice: 0n,
        askSize: 0n,
        price: fixedAt(path, i, "price", c.price![i]),
        size: fixedAt(path, i, "size", c.size![i]),
        tradeId: Number(id),
      });
    }
  }
  return out;
}

export async function readBars(path: string): Promise<BarRow[]> {
  const { rows, columns: c } = await readColumns(path, BAR_COLUMNS);
  const out: BarRow[] = [];
  for (let i = 0; i < rows; i++) {
    out.push({
      timeNs: timeAt(path, i, "t_ns", c.t_ns![i]),
      open: fixedAt(path, i, "open", c.open![i]),
      high: fixedAt(path, i, "high", c.high![i]),
      low: fixedAt(path, i, "low", c.low![i]),
      close: fixedAt(path, i, "close", c.close![i]),
      volume: fixedAt(path, i, "volume", c.volume![i]),
      tradeCount: Number(c.trade_count![i]),
      vwap: fixedAt(path, i, "vwap", c.vwap![i]),
    });
  }
  return out;
}

export interface CatalogQuery {
  dir: string;
  symbols: readonly string[];
  from: string;
  to: string;
  /** kinds: default quotes and trades; add "books" for L2 (the queue fill model reads them). */
  kinds?: readonly ("quotes" | "trades" | "books")[];
  /** batchSize: records per yielded batch (default 65536). */
  batchSize?: number;
  stats?: CatalogStats;
  /** onDay: called before a date's files are read (progress). */
  onDay?: (date: string, index: number, days: number) => void;
}

const KIND_ORDER: Record<string, number> = { quotes: 0, trades: 1, books: 2 };

/**
 * catalogSource streams the records of a date range, one date at a time, merged across symbols
 * and kinds by exchange time; at equal times quotes come before trades and trades before book
 * rows, then symbols in the order given (deterministic).
 */
export async function* catalogSource(q: CatalogQuery): AsyncGenerator<MarketRecord[]> {
  const kinds = q.kinds ?? ["quotes", "trades"];
  const stats = q.stats ?? newCatalogStats();
  const batchSize = q.batchSize ?? 65_536;
  const days = datesBetween(q.from, q.to);
  for (const [index, date] of days.entries()) {
    q.onDay?.(date, index, days.length);
    const started = process.hrtime.bigint();
    const lists: MarketRecord[][] = [];
    for (const kind of [...kinds].sort((a, b) => KIND_ORDER[a]! - KIND_ORDER[b]!)) {
      for (const symbol of q.symbols) {
        const path = partitionPath(q.dir, kind, symbol, date);
        if (!existsSync(path)) continue;
        const records =
          kind === "books"
            ? await readBooks(path, symbol, stats)
            : await readPartition(path, kind, symbol, stats);
        const first = records[0];
        if (first !== undefined && etDate(first.exchangeNs) !== date) {
          throw badData(
            path,
            0,
            `t_ns ${first.exchangeNs} is not on the partition's date ${date} (New York)`,
          );
        }
        if (records.length > 0) lists.push(records);
      }
    }
    stats.loadNs += Number(process.hrtime.bigint() - started);
    yield* mergeByTime(lists, batchSize);
  }
}

/** mergeByTime merges lists sorted by exchange time; ties go to the earlier list. */
export function* mergeByTime(
  lists: readonly MarketRecord[][],
  batchSize: number,
): Generator<MarketRecord[]> {
  const heads = lists.map(() => 0);
  let batch: MarketRecord[] = [];
  for (;;) {
    let best = -1;
    let bestT = 0n;
    for (let k = 0; k < lists.length; k++) {
      const r = lists[k]![heads[k]!];
      if (r !== undefined && (best < 0 || r.exchangeNs < bestT)) {
        best = k;
        bestT = r.exchangeNs;
      }
    }
    if (best < 0) break;
    batch.push(lists[best]![heads[best]!++]!);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export type { CatalogKind };
