/**
 * history fetches daily closing prices for the historical-simulation VaR: one multi-symbol
 * request for 1Day bars over the window (plus slack for weekends and holidays), oldest first.
 *
 * IMPORTANT: bars are requested adjusted (`adjustment=all`: splits, dividends, spin-offs).
 * Alpaca's default is `raw`, in which a 10:1 split reads as a −90% day and a reverse split as a
 * +900% day: one such day dominates a 99% VaR for the whole window. Adjusted closes are restated
 * after every corporate action, so the stage reloads the whole window once a day (the core
 * replaces the history) rather than appending one raw close.
 */
import { createAlpacaClient } from "../alpaca-client/index.ts";
import type { StageContext } from "../pipeline/context.ts";
import type { DailyClose } from "./core/index.ts";

const NS_PER_DAY = 86_400_000_000_000n;

/** dayOfNs: days since 1970-01-01 of a bar time (Alpaca's daily bars start at New York midnight). */
export function dayOfNs(ns: bigint): number {
  return Number(ns / NS_PER_DAY);
}

/**
 * loadDailyCloses returns each symbol's completed daily closes (days before `todayNs`'s UTC day;
 * today's bar is still forming), oldest first.
 */
export async function loadDailyCloses(
  ctx: StageContext,
  windowDays: number,
  todayNs: bigint,
): Promise<Map<string, DailyClose[]>> {
  const client = createAlpacaClient({
    endpoints: ctx.broker.endpoints,
    credentials: ctx.broker.credentials,
  });
  const today = dayOfNs(todayNs);
  const calendarDays = Math.ceil(windowDays * 1.5) + 10;
  const start = new Date(Number(todayNs / 1_000_000n) - calendarDays * 86_400_000).toISOString();
  const closes = new Map<string, DailyClose[]>();
  // Free Alpaca accounts may read IEX only; the "test" stream has no history of its own.
  const feed = ctx.pipeline.spec.broker.dataFeed === "sip" ? "sip" : "iex";
  try {
    for await (const bar of client.historical.multiBars([...ctx.pipeline.spec.symbols], {
      timeframe: "1Day",
      start,
      feed,
      adjustment: "all",
      limit: 10_000,
    })) {
      const day = dayOfNs(bar.timestampNs);
      if (day >= today) continue;
      let list = closes.get(bar.symbol);
      if (list === undefined) {
        list = [];
        closes.set(bar.symbol, list);
      }
      list.push({ day, close: bar.close });
    }
  } finally {
    await client.close();
  }
  return closes;
}
