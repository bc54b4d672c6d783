/**
 * Conformance: Alpaca's official SDK (@alpacahq/alpaca-trade-api v4) drives the simulator's REST
 * API through its documented fetch override, and every response is validated against Alpaca's
 * OpenAPI documents. If the SDK or the schema can tell the simulator from Alpaca, a test fails.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Alpaca, TimeFrame, trading } from "@alpacahq/alpaca-trade-api";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { OpenApiValidator, validatingFetch } from "./openapi-validator.ts";

describe("official SDK against the simulator (REST)", () => {
  let sim: Simulator;
  let alpaca: Alpaca;
  const validator = new OpenApiValidator();

  before(async () => {
    sim = await startSimulator({
      seed: 11,
      clock: "manual",
      partialFillProbability: 0,
      startTime: "2026-03-02T15:00:00Z",
    });
    alpaca = new Alpaca({
      keyId: sim.keys.keyId,
      secret: sim.keys.secretKey,
      paper: true,
      retry: false,
      rateLimit: false,
      timeoutMs: 0,
      fetchApi: validatingFetch(validator, sim.tradingUrl, sim.dataRestUrl),
    });
  });

  after(async () => {
    await sim.close();
    assert.deepEqual(validator.failures, [], "every response matches Alpaca's OpenAPI schema");
    assert.ok(validator.validated >= 30, `validated ${validator.validated} responses`);
  });

  test("account: cash, buying power and status as Alpaca renders them", async () => {
    const account = await alpaca.trading.account.getAccount();
    assert.equal(account.status, "ACTIVE");
    assert.equal(account.cash, "100000");
    assert.equal(account.buyingPower, "100000");
    assert.equal(account.currency, "USD");
  });

  test("clock: the simulated market is open by default", async () => {
    const clock = await alpaca.trading.clock.legacyClock();
    assert.equal(clock.isOpen, true);
  });

  test("market order fills at the ask; GET by id and by client_order_id agree", async () => {
    sim.admin.setQuote("AAPL", "100.00", "100.02");
    const placed = await alpaca.trading.orders.market({
      symbol: "AAPL",
      qty: 5,
      side: "buy",
      clientOrderId: "sdk-market-1",
    });
    assert.equal(placed.clientOrderId, "sdk-market-1");
    const byId = await alpaca.trading.orders.getOrderByOrderID({ orderId: placed.id! });
    assert.equal(byId.status, "filled");
    assert.equal(byId.filledQty, "5");
    assert.equal(byId.filledAvgPrice, "100.02");
    const byClient = await alpaca.trading.orders.getOrderByClientOrderId({
      clientOrderId: "sdk-market-1",
    });
    assert.equal(byClient.id, placed.id);
  });

  test("place, list and cancel a resting limit order; cancelling twice is a 422", async () => {
    sim.admin.setQuote("MSFT", "400.00", "400.05");
    const order = await alpaca.trading.orders.limit({
      symbol: "MSFT",
      qty: 2,
      side: "buy",
      limitPrice: 350,
      timeInForce: "gtc",
      clientOrderId: "sdk-limit-1",
    });
    const open = await alpaca.trading.orders.getAllOrders({ status: "open" });
    assert.ok(open.some((o) => o.id === order.id));
    await alpaca.trading.orders.deleteOrderByOrderID({ orderId: order.id! });
    const canceled = await alpaca.trading.orders.getOrderByOrderID({ orderId: order.id! });
    assert.equal(canceled.status, "canceled");
    await assert.rejects(
      alpaca.trading.orders.deleteOrderByOrderID({ orderId: order.id! }),
      (e: { status?: number }) => e.status === 422,
    );
  });

  test("a duplicate client_order_id is refused with 422, also after the first was canceled", async () => {
    await assert.rejects(
      alpaca.trading.orders.market({
        symbol: "AAPL",
        qty: 1,
        side: "buy",
        clientOrderId: "sdk-market-1",
      }),
      (e: { status?: number; message?: string }) =>
        e.status === 422 && /client_order_id must be unique/.test(e.message ?? ""),
    );
    await assert.rejects(
      alpaca.trading.orders.limit({
        symbol: "MSFT",
        qty: 1,
        side: "buy",
        limitPrice: 300,
        clientOrderId: "sdk-limit-1",
      }),
      (e: { status?: number }) => e.status === 422,
    );
  });

  test("replace: the new order carries replaces, the old one becomes replaced", async () => {
    sim.admin.setQuote("NVDA", "120.00", "120.02");
    const first = await alpaca.trading.orders.limit({
      symbol: "NVDA",
      qty: 3,
      side: "buy",
      limitPrice: 110,
      timeInForce: "gtc",
    });
    const second = await alpaca.trading.orders.patchOrderByOrderId({
      orderId: first.id!,
      patchOrderRequest: { limitPrice: "111.5", qty: "4" },
    });
    assert.equal(second.replaces, first.id);
    assert.equal(second.limitPrice, "111.5");
    assert.equal(second.qty, "4");
    const old = await alpaca.trading.orders.getOrderByOrderID({ orderId: first.id! });
    assert.equal(old.status, "replaced");
    assert.equal(old.replacedBy, second.id);
    await alpaca.trading.orders.deleteAllOrders();
  });

  test("stop, stop_limit and trailing_stop orders round-trip through the SDK's builders", async () => {
    sim.admin.setQuote("AMZN", "180.00", "180.04");
    const stop = await alpaca.trading.orders.stop({
      symbol: "AMZN",
      qty: 1,
      side: "buy",
      stopPrice: 185,
      timeInForce: "gtc",
    });
    assert.equal(stop.stopPrice, "185");
    const stopLimit = await alpaca.trading.orders.stopLimit({
      symbol: "AMZN",
      qty: 1,
      side: "buy",
      stopPrice: 185,
      limitPrice: 186,
      timeInForce: "gtc",
    });
    assert.equal(stopLimit.limitPrice, "186");
    // The trailing stop sells another symbol: a sell beside the working AMZN buys could meet
    // them, and Alpaca refuses that as a potential wash trade (the simulator too).
    sim.admin.setQuote("MSFT", "180.00", "180.04");
    await alpaca.trading.orders.market({ symbol: "MSFT", qty: 2, side: "buy" });
    const trailing = await alpaca.trading.orders.trailingStop({
      symbol: "MSFT",
      qty: 1,
      side: "sell",
      trailPercent: 1,
      timeInForce: "gtc",
    });
    assert.equal(trailing.hwm, "180");
    assert.equal(trailing.stopPrice, "178.2");
    sim.admin.setQuote("AMZN", "185.00", "185.02");
    const elected = await alpaca.trading.orders.getOrderByOrderID({ orderId: stop.id! });
    assert.equal(elected.status, "filled");
    assert.equal(elected.filledAvgPrice, "185.02");
    await alpaca.trading.orders.deleteAllOrders();
  });

  test("insufficient buying power is a 403", async () => {
    await assert.rejects(
      alpaca.trading.orders.market({ symbol: "SPY", qty: 100_000, side: "buy" }),
      (e: { status?: number }) => e.status === 403,
    );
  });

  test("positions: list, get, partly close, close all", async () => {
    sim.admin.setQuote("TSLA", "250.00", "250.10");
    await alpaca.trading.orders.market({ symbol: "TSLA", qty: 10, side: "buy" });
    const all = await alpaca.trading.positions.getAllOpenPositions();
    const tsla = all.find((p) => p.symbol === "TSLA");
    assert.equal(tsla?.qty, "10");
    assert.equal(tsla?.avgEntryPrice, "250.1");
    const one = await alpaca.trading.positions.getOpenPosition({ symbolOrAssetId: "TSLA" });
    assert.equal(one.side, "long");
    const partial = await alpaca.trading.positions.deleteOpenPosition({
      symbolOrAssetId: "TSLA",
      qty: 4,
    });
    assert.equal(partial.side, "sell");
    const after = await alpaca.trading.positions.getOpenPosition({ symbolOrAssetId: "TSLA" });
    assert.equal(after.qty, "6");
    const closed = await alpaca.trading.positions.deleteAllOpenPositions({ cancelOrders: true });
    assert.ok(closed.length >= 2);
    assert.ok(closed.every((c) => c.status === 200));
    assert.deepEqual(await alpaca.trading.positions.getAllOpenPositions(), []);
    await assert.rejects(
      alpaca.trading.positions.getOpenPosition({ symbolOrAssetId: "TSLA" }),
      (e: { status?: number }) => e.status === 404,
    );
  });

  test("raw API classes reach the simulator through basePath", async () => {
    const config = new trading.Configuration({
      basePath: sim.tradingUrl,
      keyId: sim.keys.keyId,
      secret: sim.keys.secretKey,
      fetchApi: validatingFetch(validator, sim.tradingUrl, sim.dataRestUrl),
    });
    const account = await new trading.AccountsApi(config).getAccount();
    assert.equal(account.status, "ACTIVE");
  });

  test("historical market data: single, multi-symbol, latest, and pagination to a null token", async () => {
    sim.admin.advance(5 * 60_000);
    const stocks = alpaca.marketData.stocks;
    const bars = await stocks.stockBarSingle({ symbol: "AAPL", timeframe: "1Min", limit: 10 });
    assert.equal(bars.bars?.length, 10);
    assert.ok(bars.nextPageToken);
    const quotes = await stocks.stockQuotes({ symbols: "AAPL,MSFT", limit: 5 });
    assert.ok(Object.keys(quotes.quotes ?? {}).length >= 1);
    const latest = await stocks.stockLatestQuoteSingle({ symbol: "AAPL" });
    assert.equal(latest.symbol, "AAPL");
    const collected = await alpaca.marketData.collectStockBarsBySymbol({
      symbols: ["AAPL", "MSFT"],
      timeframe: TimeFrame.Hour,
      limit: 7,
    });
    const count = Object.values(collected).reduce((n, list) => n + list.length, 0);
    const direct = await stocks.stockBars({
      symbols: "AAPL,MSFT",
      timeframe: "1Hour",
      limit: 10000,
    });
    const expected = Object.values(direct.bars ?? {}).reduce((n, list) => n + list.length, 0);
    assert.equal(direct.nextPageToken ?? null, null);
    assert.equal(count, expected);
  });
  test("calendar: Thanksgiving week through the SDK, closed on the holiday, 13:00 the day after", async () => {
    const days = await alpaca.trading.calendar.legacyCalendar({
      start: new Date("2026-11-23T00:00:00Z"),
      end: new Date("2026-11-30T00:00:00Z"),
    });
    const dates = days.map((d) => new Date(d.date).toISOString().slice(0, 10));
    assert.deepEqual(dates, ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"]);
    const friday = days[3]!;
    assert.equal(friday.open, "09:30");
    assert.equal(friday.close, "13:00");
    assert.equal(days[0]!.close, "16:00");
  });

  test("query booleans as Python clients send them: DELETE /v2/positions?cancel_orders=True", async () => {
    const call = (query: string) =>
      fetch(`${sim.tradingUrl}/v2/positions?${query}`, {
        method: "DELETE",
        headers: { "APCA-API-KEY-ID": sim.keys.keyId, "APCA-API-SECRET-KEY": sim.keys.secretKey },
      });
    for (const form of ["True", "False", "true", "1", "f"]) {
      const r = await call(`cancel_orders=${form}`);
      assert.equal(r.status, 207, `cancel_orders=${form}`);
      await r.arrayBuffer();
    }
    const bad = await call("cancel_orders=yes");
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { message: string }).message, /cancel_orders.*yes/);
    const closed = await alpaca.trading.positions.deleteAllOpenPositions({ cancelOrders: true });
    assert.ok(Array.isArray(closed));
  });
  test("snapshots: one symbol and several, with the latest trade, quote, minute bar and daily bars", async () => {
    sim.admin.advance(60_000);
    const stocks = alpaca.marketData.stocks;
    const one = await stocks.stockSnapshotSingle({ symbol: "AAPL" });
    assert.equal(one.symbol, "AAPL");
    const quote = sim.admin.state().quotes["AAPL"] as { bid_price?: string; bp?: string };
    assert.ok(
      one.latestQuote && one.latestTrade && one.minuteBar && one.dailyBar && one.prevDailyBar,
    );
    assert.ok(quote, "the simulator holds a quote for AAPL");
    const latest = await stocks.stockLatestQuoteSingle({ symbol: "AAPL" });
    assert.equal(one.latestQuote.bp, latest.quote.bp, "the snapshot's quote is the latest quote");
    assert.ok(new Date(one.prevDailyBar.t) < new Date(one.dailyBar.t));
    const several = await stocks.stockSnapshots({ symbols: "AAPL,MSFT,NOPE" });
    assert.deepEqual(Object.keys(several).sort(), ["AAPL", "MSFT"]);
  });
  test("account configurations: read, change no_shorting (short sales then refused), bad values refused", async () => {
    const api = alpaca.trading.accountConfigurations;
    const before = await api.getAccountConfig();
    assert.equal(before.noShorting, false);
    assert.equal(before.fractionalTrading, true);
    const after = await api.patchAccountConfig({ accountConfigurations: { noShorting: true } });
    assert.equal(after.noShorting, true);
    assert.equal((await alpaca.trading.account.getAccount()).shortingEnabled, false);
    sim.admin.setQuote("TSLA", "200.00", "200.04");
    await assert.rejects(
      alpaca.trading.orders.market({ symbol: "TSLA", qty: 1, side: "sell" }),
      (err: { status?: number }) => err.status === 403,
    );
    const bad = await fetch(`${sim.tradingUrl}/v2/account/configurations`, {
      method: "PATCH",
      headers: {
        "APCA-API-KEY-ID": sim.keys.keyId,
        "APCA-API-SECRET-KEY": sim.keys.secretKey,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ max_margin_multiplier: "3" }),
    });
    assert.equal(bad.status, 422);
    assert.match(((await bad.json()) as { message: string }).message, /max_margin_multiplier/);
    await api.patchAccountConfig({ accountConfigurations: { noShorting: false } });
  });
  test("portfolio history: minute equity through the SDK ends at the account's equity; P&L adds up", async () => {
    sim.admin.setQuote("AAPL", "150.00", "150.02");
    await alpaca.trading.orders.market({ symbol: "AAPL", qty: 3, side: "buy" });
    sim.admin.advance(10 * 60_000); // whole minutes: the last sample closes at "now"
    const history = await alpaca.trading.portfolioHistory.getAccountPortfolioHistory({
      period: "1D",
      timeframe: "1Min",
      intradayReporting: "continuous",
    });
    const n = history.equity?.length ?? 0;
    assert.ok(n >= 10, `${n} points`);
    assert.equal(history.timestamp?.length, n);
    const account = await alpaca.trading.account.getAccount();
    assert.equal(history.equity![n - 1], Math.round(Number(account.equity) * 100) / 100);
    for (let i = 0; i < n; i++) {
      const expected = Math.round((history.equity![i]! - history.baseValue!) * 100) / 100;
      assert.ok(Math.abs(history.profitLoss![i]! - expected) < 0.011, `point ${i}`);
    }
    const daily = await alpaca.trading.portfolioHistory.getAccountPortfolioHistory({
      period: "1W",
      timeframe: "1D",
    });
    assert.equal(daily.timeframe, "1D");
    assert.equal(daily.equity?.length, 1, "one trading day so far");
    const bad = await fetch(
      `${sim.tradingUrl}/v2/account/portfolio/history?period=2M&timeframe=1Min`,
      { headers: { "APCA-API-KEY-ID": sim.keys.keyId, "APCA-API-SECRET-KEY": sim.keys.secretKey } },
    );
    assert.equal(bad.status, 422);
  });
});
