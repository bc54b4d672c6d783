/**
 * Conformance: the official SDK's WebSocket clients against the simulator — trade_updates at
 * /stream (authenticate/listen, new and fill events) and the stock data stream in MessagePack
 * (the SDK's default; `t` must arrive as a Timestamp extension with nanoseconds) and in JSON.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Alpaca } from "@alpacahq/alpaca-trade-api";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { waitFor } from "../broker-sim/support.ts";
import { OpenApiValidator, validatingFetch } from "./openapi-validator.ts";

describe("official SDK against the simulator (streams)", () => {
  let sim: Simulator;
  let alpaca: Alpaca;
  const validator = new OpenApiValidator();

  before(async () => {
    sim = await startSimulator({ seed: 5, clock: "manual", partialFillProbability: 0 });
    alpaca = new Alpaca({
      keyId: sim.keys.keyId,
      secret: sim.keys.secretKey,
      retry: false,
      rateLimit: false,
      timeoutMs: 0,
      fetchApi: validatingFetch(validator, sim.tradingUrl, sim.dataRestUrl),
    });
  });

  after(async () => {
    await sim.close();
    assert.deepEqual(validator.failures, []);
  });

  test("trade_updates: authenticate, listen, then new and fill with price, qty and position_qty", async () => {
    const stream = alpaca.trading.stream({
      url: sim.streamUrl,
      reconnect: false,
      pingIntervalMs: 0,
    });
    const updates: {
      event: string;
      price?: string;
      qty?: string;
      positionQty?: string;
      timestamp?: Date;
      order: { id?: string };
    }[] = [];
    const listening: unknown[] = [];
    stream.onTradeUpdate((u) => updates.push(u as never));
    stream.on("subscription" as never, (s: unknown) => listening.push(s));
    stream.subscribeTradeUpdates();
    stream.connect();
    try {
      assert.equal(await stream.waitForAuthentication(5000), true);
      await waitFor(() => listening.length > 0, "listening");
      assert.deepEqual(listening[0], ["trade_updates"]);
      sim.admin.setQuote("AAPL", "190.00", "190.04");
      const order = await alpaca.trading.orders.market({ symbol: "AAPL", qty: 3, side: "buy" });
      await waitFor(() => updates.some((u) => u.event === "fill"), "fill event");
      const mine = updates.filter((u) => u.order.id === order.id);
      assert.deepEqual(
        mine.map((u) => u.event),
        ["new", "fill"],
      );
      const fill = mine[1]!;
      assert.equal(fill.price, "190.04");
      assert.equal(fill.qty, "3");
      assert.equal(fill.positionQty, "3");
      assert.ok(fill.timestamp instanceof Date && !Number.isNaN(fill.timestamp.getTime()));
    } finally {
      stream.disconnect();
    }
  });

  test("trade_updates: wrong keys are refused and the SDK reports the failed authentication", async () => {
    const bad = new Alpaca({ keyId: "PKWRONG", secret: "nope", retry: false, rateLimit: false });
    const stream = bad.trading.stream({ url: sim.streamUrl, reconnect: false, pingIntervalMs: 0 });
    stream.onError(() => {});
    stream.connect();
    try {
      assert.equal(await stream.waitForAuthentication(5000), false);
    } finally {
      stream.disconnect();
    }
  });

  for (const codec of ["msgpack", "json"] as const) {
    test(`market data (${codec}): trades, quotes, minute bars and the L2 order book`, async () => {
      // The SDK speaks MessagePack by default; its transport also implements JSON (used by crypto
      // and trading streams), which a cast selects here to exercise the simulator's JSON mode.
      const stream = alpaca.marketData.stockStream({
        url: `${sim.dataUrl}/v2/test`,
        reconnect: false,
        pingIntervalMs: 0,
        ...(codec === "json" ? ({ codec: "json" } as object) : {}),
      });
      const trades: { symbol: string; price: number; timestampRaw?: string }[] = [];
      const quotes: { symbol: string; bidPrice: number; askPrice: number }[] = [];
      const bars: { symbol: string }[] = [];
      const books: { symbol: string; reset?: boolean; bids: unknown[]; asks: unknown[] }[] = [];
      stream.onTrade((t) => trades.push(t as never));
      stream.onQuote((q) => quotes.push(q as never));
      stream.onBar((b) => bars.push(b as never));
      stream.onOrderbook((o) => books.push(o as never));
      stream.subscribeForTrades(["FAKEPACA"]);
      stream.subscribeForQuotes(["FAKEPACA"]);
      stream.subscribeForBars(["FAKEPACA"]);
      stream.subscribeForOrderbooks(["FAKEPACA"]);
      stream.connect();
      try {
        assert.equal(await stream.waitForAuthentication(5000), true);
        await waitFor(() => books.length > 0, "order book snapshot");
        assert.equal(books[0]!.reset, true);
        assert.equal(books[0]!.bids.length, 5);
        for (let i = 0; i < 10 && bars.length === 0; i++) {
          sim.admin.advance(30_000);
          await new Promise((r) => setTimeout(r, 20));
        }
        await waitFor(() => trades.length > 0 && quotes.length > 0 && bars.length > 0, "data");
        assert.ok(trades.every((t) => t.symbol === "FAKEPACA" && t.price > 0));
        assert.ok(quotes.every((q) => q.askPrice >= q.bidPrice));
        assert.ok(books.slice(1).every((b) => !b.reset));
        if (codec === "msgpack") {
          // Only a MessagePack Timestamp extension yields the SDK's 9-digit raw timestamp.
          assert.match(trades[0]!.timestampRaw ?? "", /\.\d{9}Z$/);
        } else {
          assert.match(trades[0]!.timestampRaw ?? "", /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
        }
      } finally {
        stream.disconnect();
      }
    });
  }
});
