/**
 * The trade_updates and market-data streams against the real simulator: handshakes, JSON and
 * MessagePack decoding, reconnect + resubscribe after a server-side disconnect, stall detection,
 * the L2 order-book channel, and refusal of bad credentials.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import type {
  OrderBook,
  Quote,
  Trade,
  WireRecord,
} from "../../services/alpaca-client/market-data.ts";
import {
  type MarketDataHandlers,
  MarketDataStream,
} from "../../services/alpaca-client/market-data-stream.ts";
import { TradeUpdatesStream } from "../../services/alpaca-client/trade-updates-stream.ts";
import type { WireTradeUpdate } from "../../services/alpaca-client/wire-types.ts";
import { max, min } from "../../services/core/money.ts";
import { type Harness, startHarness, waitFor } from "./support.ts";

const FAST_RECONNECT = { reconnectBackoff: { initialMs: 20, maxMs: 100 } };

let h: Harness;
before(async () => {
  h = await startHarness(
    { symbols: ["AAPL", "MSFT"], partialFillProbability: 0, rateLimitPerMin: 100_000 },
    { rateLimitPerMinute: 100_000, rateLimitBurst: 1_000 },
  );
});
after(() => h.close());

function marketBuy(clientOrderId: string) {
  return {
    symbol: "AAPL",
    side: "buy" as const,
    type: "market" as const,
    time_in_force: "day" as const,
    qty: "1",
    client_order_id: clientOrderId,
  };
}

test("trade_updates: events arrive, and after a server-side disconnect the stream comes back", async (t) => {
  const updates: WireTradeUpdate[] = [];
  const ready: boolean[] = [];
  const disconnects: string[] = [];
  const stream = new TradeUpdatesStream({
    url: h.sim.streamUrl,
    credentials: h.credentials,
    options: FAST_RECONNECT,
    handlers: {
      onTradeUpdate: (u) => updates.push(u),
      onReady: ({ reconnected }) => ready.push(reconnected),
      onDisconnect: (reason) => disconnects.push(reason),
    },
  });
  t.after(() => stream.close());
  stream.start();
  await waitFor("trade stream ready", () => (ready.length === 1 ? true : undefined));
  assert.deepEqual(ready, [false]);

  await h.trading.submitOrder(marketBuy("tu-1"));
  const fill1 = await waitFor("fill of tu-1", () =>
    updates.find((u) => u.event === "fill" && u.order.client_order_id === "tu-1"),
  );
  assert.equal(fill1.qty, "1");
  assert.ok(fill1.price && fill1.position_qty && fill1.timestamp);
  assert.ok(updates.some((u) => u.event === "new" && u.order.client_order_id === "tu-1"));

  assert.equal(h.sim.admin.disconnectStreams("trade"), 1);
  await waitFor("trade stream back", () => (ready.length === 2 ? true : undefined));
  assert.deepEqual(ready, [false, true], "the second ready says: reconcile");
  assert.equal(disconnects.length, 1);
  assert.equal(stream.connections, 2);

  await h.trading.submitOrder(marketBuy("tu-2"));
  await waitFor("fill of tu-2", () =>
    updates.find((u) => u.event === "fill" && u.order.client_order_id === "tu-2"),
  );
});

/** openMarketData starts a stream on /v2/iex and collects what it delivers. */
function openMarketData(
  codec: "json" | "msgpack",
  extra: Partial<MarketDataHandlers> = {},
  stallTimeoutMs = 0,
) {
  const got = {
    quotes: [] as Quote[],
    trades: [] as Trade[],
    books: [] as OrderBook[],
    records: [] as WireRecord[],
    ready: 0,
    disconnects: [] as string[],
    errors: [] as string[],
  };
  const stream = new MarketDataStream({
    url: `${h.sim.dataUrl}/v2/iex`,
    credentials: h.credentials,
    codec,
    options: { ...FAST_RECONNECT, stallTimeoutMs },
    handlers: {
      onQuote: (q) => got.quotes.push(q),
      onTrade: (x) => got.trades.push(x),
      onOrderBook: (b) => got.books.push(b),
      onRecord: (r) => got.records.push(r),
      onReady: () => got.ready++,
      onDisconnect: (reason) => got.disconnects.push(reason),
      onError: (e) => got.errors.push(e.message),
      ...extra,
    },
  });
  return { stream, got };
}

for (const codec of ["json", "msgpack"] as const) {
  test(`market data (${codec}): quotes decode exactly, and a disconnect resubscribes`, async (t) => {
    const { stream, got } = openMarketData(codec);
    t.after(() => stream.close());
    stream.subscribe({ quotes: ["AAPL"], trades: ["AAPL"] });
    stream.start();
    await waitFor("subscribed", () => (got.ready === 1 ? true : undefined));
    assert.deepEqual(stream.subscription.quotes, ["AAPL"]);
    await waitFor("quotes", () => (got.quotes.length >= 3 ? true : undefined));
    const q = got.quotes[0] as Quote;
    assert.equal(q.symbol, "AAPL");
    assert.ok(q.askPrice >= q.bidPrice && q.bidPrice > 0n);
    // Prices are whole cents: exact Fixed values, no float residue.
    assert.equal(q.bidPrice % 10_000_000n, 0n);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    assert.ok(
      q.timestampNs > nowNs - 86_400_000_000_000n && q.timestampNs < nowNs + 86_400_000_000_000n,
    );
    const rawT = got.records[0]?.t;
    assert.equal(typeof rawT, codec === "msgpack" ? "bigint" : "string");
    assert.deepEqual(got.errors, []);

    assert.equal(h.sim.admin.disconnectStreams("data"), 1);
    await waitFor("resubscribed", () => (got.ready === 2 ? true : undefined));
    assert.deepEqual(stream.subscription.quotes, ["AAPL"], "the subscription came back by itself");
    const before = got.quotes.length;
    await waitFor("quotes after reconnect", () =>
      got.quotes.length > before + 2 ? true : undefined,
    );
    assert.equal(got.disconnects.length, 1);
  });
}

test("market data: a stalled stream is detected and reconnected", async (t) => {
  const { stream, got } = openMarketData("msgpack", {}, 400);
  t.after(() => stream.close());
  stream.subscribe({ quotes: ["MSFT"] });
  stream.start();
  await waitFor("quotes", () => (got.quotes.length >= 1 ? true : undefined));
  h.sim.admin.stallStreams("data", 1_500);
  await waitFor("stall detected", () => got.disconnects.find((r) => /stalled/.test(r)));
  await waitFor("resubscribed after the stall", () => (got.ready >= 2 ? true : undefined));
  const before = got.quotes.length;
  await waitFor("data flows again", () => (got.quotes.length > before ? true : undefined), 15_000);
});

test("market data: the L2 order-book channel starts with a full book, then updates", async (t) => {
  const { stream, got } = openMarketData("json");
  t.after(() => stream.close());
  stream.subscribe({ orderbooks: ["AAPL"] });
  stream.start();
  const snapshot = await waitFor("book snapshot", () => got.books[0]);
  assert.equal(snapshot.reset, true);
  assert.ok(snapshot.bids.length > 0 && snapshot.asks.length > 0);
  const bestBid = snapshot.bids.map((l) => l.price).reduce(max);
  const bestAsk = snapshot.asks.map((l) => l.price).reduce(min);
  assert.ok(bestBid < bestAsk, "the snapshot book is not crossed");
  await waitFor("book update", () => got.books.find((b) => !b.reset));
});

test("bad credentials stop the streams instead of reconnecting forever", async (t) => {
  const wrong = new Credentials("PKWRONG", "wrong", "test");
  const errors: string[] = [];
  const md = new MarketDataStream({
    url: `${h.sim.dataUrl}/v2/iex`,
    credentials: wrong,
    options: FAST_RECONNECT,
    handlers: { onError: (e) => errors.push(e.message) },
  });
  const tu = new TradeUpdatesStream({
    url: h.sim.streamUrl,
    credentials: wrong,
    options: FAST_RECONNECT,
    handlers: { onTradeUpdate: () => {}, onError: (e) => errors.push(e.message) },
  });
  t.after(async () => {
    await md.close();
    await tu.close();
  });
  md.start();
  tu.start();
  await waitFor("both refused", () =>
    md.state === "closed" && tu.state === "closed" ? true : undefined,
  );
  assert.ok(
    errors.some((e) => /402/.test(e)),
    errors.join("; "),
  );
  assert.ok(
    errors.some((e) => /authorization refused/.test(e)),
    errors.join("; "),
  );
  assert.equal(md.connections, 1);
  assert.equal(tu.connections, 1);
});

test("trade_updates: a quiet stream whose peer answers pings is not treated as stalled", async (t) => {
  const ready: boolean[] = [];
  const disconnects: string[] = [];
  const stream = new TradeUpdatesStream({
    url: h.sim.streamUrl,
    credentials: h.credentials,
    options: { ...FAST_RECONNECT, stallTimeoutMs: 200 },
    handlers: {
      onTradeUpdate: () => {},
      onReady: ({ reconnected }) => ready.push(reconnected),
      onDisconnect: (reason) => disconnects.push(reason),
    },
  });
  t.after(() => stream.close());
  stream.start();
  await waitFor("trade stream ready", () => (ready.length === 1 ? true : undefined));
  // No orders: no data for 5 stall timeouts. Pongs keep the connection alive.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.deepEqual(disconnects, []);
  assert.equal(stream.connections, 1);
});
