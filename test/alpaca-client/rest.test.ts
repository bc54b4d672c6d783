/**
 * The trading REST client against the real simulator: account, clock, assets, orders, positions,
 * historical data with pagination, and Alpaca's error bodies on the error path.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BrokerHttpError } from "../../services/alpaca-client/broker-errors.ts";
import { endpointsFor } from "../../services/alpaca-client/config.ts";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import {
  accountFromWire,
  orderFromWire,
  positionFromWire,
} from "../../services/alpaca-client/domain.ts";
import { createAlpacaClient } from "../../services/alpaca-client/index.ts";
import type { Bar } from "../../services/alpaca-client/market-data.ts";
import { nsToRfc3339 } from "../../services/alpaca-client/timestamps.ts";
import { AlpacaTradingClient } from "../../services/alpaca-client/trading-client.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { fromDecimal } from "../../services/core/money.ts";
import { type Harness, historicalClient, startHarness, waitFor } from "./support.ts";

let h: Harness;
before(async () => {
  // Generous limits: these tests poll; rate limiting has its own test file.
  h = await startHarness(
    { symbols: ["AAPL", "MSFT", "SPY"], partialFillProbability: 0, rateLimitPerMin: 100_000 },
    { rateLimitPerMinute: 100_000, rateLimitBurst: 1_000 },
  );
});
after(() => h.close());

test("account, clock and assets come back typed, with exact decimals", async () => {
  const account = await h.trading.getAccount();
  assert.equal(account.status, "ACTIVE");
  assert.equal(accountFromWire(account).cash, fromDecimal("100000"));
  const clock = await h.trading.getClock();
  assert.equal(clock.is_open, true);
  const asset = await h.trading.getAsset("AAPL");
  assert.equal(asset.symbol, "AAPL");
  assert.equal(asset.tradable, true);
});

test("a market buy fills, shows as a position with exact values, and closes", async () => {
  const order = await h.trading.submitOrder({
    symbol: "MSFT",
    side: "buy",
    type: "market",
    time_in_force: "day",
    qty: "3",
    client_order_id: "rest-mkt-1",
  });
  assert.equal(order.client_order_id, "rest-mkt-1");
  const filled = await waitFor("MSFT fill", async () => {
    const o = await h.trading.getOrder(order.id);
    return o.status === "filled" ? o : undefined;
  });
  const domain = orderFromWire(filled);
  assert.equal(domain.filledQty, fromDecimal("3"));
  assert.ok(domain.filledAvgPrice !== null && domain.filledAvgPrice > 0n);

  const byClientId = await h.trading.getOrderByClientOrderId("rest-mkt-1");
  assert.equal(byClientId?.id, order.id);
  const position = await h.trading.getPosition("MSFT");
  assert.ok(position);
  const p = positionFromWire(position);
  assert.equal(p.qty, fromDecimal("3"));
  assert.equal(p.avgEntryPrice, domain.filledAvgPrice);
  assert.ok((await h.trading.listPositions()).some((x) => x.symbol === "MSFT"));

  const closing = await h.trading.closePosition("MSFT");
  assert.equal(closing.side, "sell");
  await waitFor("MSFT flat", async () =>
    (await h.trading.getPosition("MSFT")) === null ? true : undefined,
  );
  assert.equal(await h.trading.getOrderByClientOrderId("no-such-order"), null);
});

test("a resting limit order is listed, replaced, and canceled", async () => {
  const order = await h.trading.submitOrder({
    symbol: "AAPL",
    side: "buy",
    type: "limit",
    time_in_force: "day",
    qty: "1",
    limit_price: "1.00",
    client_order_id: "rest-limit-1",
  });
  const live = await waitFor("limit order new", async () => {
    const o = await h.trading.getOrder(order.id);
    return o.status === "new" ? o : undefined;
  });
  const open = await h.trading.listOrders({ status: "open", symbols: ["AAPL"] });
  assert.ok(open.some((o) => o.id === live.id));

  const replaced = await h.trading.replaceOrder(live.id, {
    limit_price: "1.5",
    client_order_id: "rest-limit-1b",
  });
  assert.equal(replaced.replaces, live.id);
  assert.equal(orderFromWire(replaced).limitPrice, fromDecimal("1.5"));

  await waitFor("replacement new", async () => {
    const o = await h.trading.getOrder(replaced.id);
    return o.status === "new" ? o : undefined;
  });
  await h.trading.cancelOrder(replaced.id);
  const canceled = await waitFor("canceled", async () => {
    const o = await h.trading.getOrder(replaced.id);
    return o.status === "canceled" ? o : undefined;
  });
  assert.ok(canceled.canceled_at);
});

test("cancelAllOrders cancels every open order", async () => {
  for (const id of ["rest-ca-1", "rest-ca-2"]) {
    await h.trading.submitOrder({
      symbol: "SPY",
      side: "buy",
      type: "limit",
      time_in_force: "gtc",
      qty: "1",
      limit_price: "2",
      client_order_id: id,
    });
  }
  const results = await h.trading.cancelAllOrders();
  assert.ok(results.length >= 2);
  await waitFor("no open orders", async () =>
    (await h.trading.listOrders({ status: "open" })).length === 0 ? true : undefined,
  );
});

test("Alpaca's error bodies reach the caller: status, code and message", async () => {
  await assert.rejects(
    h.trading.submitOrder({
      symbol: "AAPL",
      side: "buy",
      type: "market",
      time_in_force: "day",
      qty: "100000",
    }),
    (err: unknown) => {
      assert.ok(err instanceof BrokerHttpError);
      assert.equal(err.code, "TP_ERR_BROKER_HTTP");
      assert.equal(err.status, 403);
      assert.equal(err.alpacaCode, 40310000);
      assert.match(err.alpacaMessage ?? "", /insufficient buying power/);
      return true;
    },
  );
  await assert.rejects(
    h.trading.getOrder("00000000-0000-4000-8000-000000000000"),
    (err: unknown) => {
      assert.ok(err instanceof BrokerHttpError);
      assert.equal(err.status, 404);
      return true;
    },
  );
});

test("wrong keys get a 401 that is not retried", async () => {
  const bad = new AlpacaTradingClient({
    tradingUrl: h.sim.tradingUrl,
    credentials: new Credentials("PKWRONG", "wrong", "test"),
  });
  try {
    await assert.rejects(bad.getAccount(), (err: unknown) => {
      assert.ok(isTradepipeError(err, "TP_ERR_BROKER_HTTP"));
      assert.equal((err as BrokerHttpError).status, 401);
      return true;
    });
  } finally {
    await bad.close();
  }
});

test("historical bars follow next_page_token to the end", async () => {
  const hist = historicalClient(h);
  try {
    const window = await hist.page("bars", "SPY", { timeframe: "1Min", limit: 30 });
    assert.equal(window.items.length, 30);
    assert.notEqual(window.nextPageToken, null);
    const start = nsToRfc3339((window.items[0] as Bar).timestampNs);
    const end = nsToRfc3339((window.items[29] as Bar).timestampNs);
    const paged: Bar[] = [];
    for await (const bar of hist.bars("SPY", { timeframe: "1Min", start, end, limit: 7 })) {
      paged.push(bar);
    }
    assert.deepEqual(paged, window.items, "5 pages of 7 give the same 30 bars as one page");
    const multi = [];
    for await (const bar of hist.multiBars(["SPY", "AAPL"], {
      timeframe: "1Min",
      start,
      end,
      limit: 25,
    })) {
      multi.push(bar);
    }
    assert.equal(multi.length, 60, "30 bars of each symbol over three pages");
    assert.deepEqual(new Set(multi.map((b) => b.symbol)), new Set(["SPY", "AAPL"]));
    const quotes = [];
    for await (const q of hist.quotes("AAPL", { limit: 5 })) {
      quotes.push(q);
      if (quotes.length >= 12) break;
    }
    assert.ok(quotes.every((q) => q.askPrice >= q.bidPrice));
  } finally {
    await hist.close();
  }
});

test("createAlpacaClient wires paper defaults with the simulator's URLs", async () => {
  const alpaca = createAlpacaClient({
    endpoints: endpointsFor("paper", {
      tradingUrl: h.sim.tradingUrl,
      dataUrl: h.sim.dataRestUrl,
      tradeStreamUrl: h.sim.streamUrl,
      marketDataStreamUrl: `${h.sim.dataUrl}/v2/iex`,
    }),
    credentials: h.credentials,
    rest: { rateLimitPerMinute: 100_000, rateLimitBurst: 1_000 },
  });
  try {
    assert.equal((await alpaca.trading.getClock()).is_open, true);
    let quotes = 0;
    const md = alpaca.marketData({ onQuote: () => quotes++ });
    md.subscribe({ quotes: ["AAPL"] });
    md.start();
    await waitFor("a quote over msgpack", () => (quotes > 0 ? true : undefined));
  } finally {
    await alpaca.close();
  }
});
