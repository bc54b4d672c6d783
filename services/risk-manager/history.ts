/**
 * history fetches daily closing prices for the historical-simulation VaR: one multi-symbol
 * request for 1Day bars over the window (plus slack for weekends and holidays), oldest first.
 */
import { createAlpacaClient } from "../alpaca-client/index.ts";
import type { Fixed } from "../core/money.ts";
import type { StageContext } from "../pipeline/context.ts";

export async function loadDailyCloses(
  ctx: StageContext,
  windowDays: number,
): Promise<Map<string, Fixed[]>> {
  const client = createAlpacaClient({
    endpoints: ctx.broker.endpoints,
    credentials: ctx.broker.credentials,
  });
  const calendarDays = Math.ceil(windowDays * 1.5) + 10;
  const start = new Date(Date.now() - calendarDays * 86_400_000).toISOString();
  const closes = new Map<string, Fixed[]>();
  // Free Alpaca accounts may read IEX only; the "test" stream has no history of its own.
  const feed = ctx.pipeline.spec.broker.dataFeed === "sip" ? "sip" : "iex";
  try {
    for await (const bar of client.historical.multiBars([...ctx.pipeline.spec.symbols], {
      timeframe: "1Day",
      start,
      feed,
      limit: 10_000,
    })) {
      let list = closes.get(bar.symbol);
      if (list === undefined) {
        list = [];
        closes.set(bar.symbol, list);
      }
      list.push(bar.close);
    }
  } finally {
    await client.close();
  }
  return closes;
}
