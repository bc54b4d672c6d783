/**
 * fetchHistory fills the catalog from Alpaca's historical market-data API (or the simulator,
 * which serves the same API): quotes, trades and one-minute bars per symbol, written one New
 * York date at a time as the pages arrive in time order, so memory stays one day of one series.
 */

import type { Credentials } from "../alpaca-client/credentials.ts";
import { AlpacaHistoricalClient } from "../alpaca-client/historical-client.ts";
import { etDate } from "../broker-sim/core/time.ts";
import { type BarRow, writeBars, writeRecords } from "./catalog/catalog.ts";
import type { FetchableKind } from "./catalog/layout.ts";
import { type MarketRecord, quoteRecord, tradeRecord } from "./records.ts";

export interface FetchOptions {
  dataUrl: string;
  credentials: Credentials;
  feed?: "sip" | "iex";
  symbols: readonly string[];
  from: string;
  to: string;
  dir: string;
  kinds?: readonly FetchableKind[];
  onFile?: (path: string, rows: number) => void;
}

export interface FetchSummary {
  files: number;
  rows: Record<FetchableKind, number>;
}

const DAY_MS = 86_400_000;

export async function fetchHistory(o: FetchOptions): Promise<FetchSummary> {
  const client = new AlpacaHistoricalClient({ dataUrl: o.dataUrl, credentials: o.credentials });
  // A New York date lies within [date 00:00Z, date+1 06:00Z); rows outside the dates are dropped.
  const query = {
    start: `${o.from}T00:00:00Z`,
    end: new Date(Date.parse(`${o.to}T00:00:00Z`) + DAY_MS + 6 * 3_600_000).toISOString(),
    limit: 10_000,
    sort: "asc" as const,
    ...(o.feed ? { feed: o.feed } : {}),
  };
  const inRange = (ns: bigint) => {
    const d = etDate(ns);
    return d >= o.from && d <= o.to ? d : undefined;
  };
  const summary: FetchSummary = { files: 0, rows: { quotes: 0, trades: 0, bars: 0 } };
  const kinds = o.kinds ?? ["quotes", "trades", "bars"];
  try {
    for (const symbol of o.symbols) {
      for (const kind of kinds) {
        let day: string | undefined;
        let rows: MarketRecord[] = [];
        let bars: BarRow[] = [];
        const flush = () => {
          if (day === undefined) return;
          const n = kind === "bars" ? bars.length : rows.length;
          const path =
            kind === "bars"
              ? writeBars(o.dir, symbol, day, bars)
              : writeRecords(o.dir, kind, symbol, day, rows);
          summary.files++;
          summary.rows[kind] += n;
          o.onFile?.(path, n);
          rows = [];
          bars = [];
        };
        const step = (ns: bigint): boolean => {
          const d = inRange(ns);
          if (d === undefined) return false;
          if (d !== day) {
            flush();
            day = d;
          }
          return true;
        };
        if (kind === "quotes") {
          for await (const q of client.quotes(symbol, query)) {
            if (step(q.timestampNs))
              rows.push(
                quoteRecord(symbol, q.timestampNs, q.bidPrice, q.bidSize, q.askPrice, q.askSize),
              );
          }
        } else if (kind === "trades") {
          for await (const t of client.trades(symbol, query)) {
            if (step(t.timestampNs))
              rows.push(tradeRecord(symbol, t.timestampNs, t.price, t.size, t.id));
          }
        } else {
          for await (const b of client.bars(symbol, { ...query, timeframe: "1Min" })) {
            if (step(b.timestampNs)) {
              bars.push({
                timeNs: b.timestampNs,
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                volume: b.volume,
                tradeCount: b.tradeCount,
                vwap: b.vwap,
              });
            }
          }
        }
        flush();
      }
    }
  } finally {
    await client.close();
  }
  return summary;
}
