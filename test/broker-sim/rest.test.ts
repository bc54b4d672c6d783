/**
 * The simulator's REST surface over real HTTP: authentication, the rate limit and its headers,
 * Alpaca's error bodies, order listing filters and historical pagination. Every answer is also
 * checked against Alpaca's OpenAPI documents.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { OpenApiValidator } from "../conformance/openapi-validator.ts";
import { type ApiResult, api } from "./support.ts";

type Call = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiResult>;

describe("broker-sim REST", () => {
  let sim: Simulator;
  let call: Call;
  const validator = new OpenApiValidator();

  before(async () => {
    sim = await startSimulator({
      seed: 21,
      clock: "manual",
      partialFillProbability: 0,
      rateLimitPerMin: 10_000,
    });
    const raw = api(sim.tradingUrl, sim.keys);
    call = async (method, path, body, headers) => {
      const r = await raw(method, path, body, headers);
      const url = new URL(path, "http://x");
      const unrouted =
        r.status === 405 || (r.body as { message?: string })?.message === "endpoint not found";
      if (!url.pathname.startsWith("/admin/") && !unrouted) {
        validator.check(
          method,
          url.pathname,
          r.status,
          r.body,
          url.pathname.startsWith("/v2/stocks") ? "md" : "trading",
        );
      }
      return r;
    };
  });

  after(async () => {
    await sim.close();
    assert.deepEqual(validator.failures, []);
  });

  test("missing or wrong keys get 401 with Alpaca's body, and still carry rate-limit headers", async () => {
    const res = await fetch(`${sim.tradingUrl}/v2/account`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { code: 40110000, message: "request is not authorized" });
    assert.ok(res.headers.get("x-ratelimit-limit"));
    const wrong = await call("GET", "/v2/account", undefined, { "APCA-API-SECRET-KEY": "nope" });
    assert.equal(wrong.status, 401);
  });

  test("errors: unknown route 404, wrong method 405, malformed JSON 400, oversized body 413", async () => {
    assert.equal((await call("GET", "/v2/nothing-here")).status, 404);
    const m = await call("PUT", "/v2/account");
    assert.equal(m.status, 405);
    assert.deepEqual(m.body, { code: 40510000, message: "method not allowed" });
    const bad = await call("POST", "/v2/orders", "{not json");
    assert.deepEqual(
      [bad.status, bad.body],
      [400, { code: 40010000, message: "request body format is invalid" }],
    );
    const big = await call("POST", "/v2/orders", JSON.stringify({ symbol: "x".repeat(1_100_000) }));
    assert.equal(big.status, 413);
    const missing = await call("GET", "/v2/orders/00000000-0000-4000-8000-000000000000");
    assert.deepEqual(
      [missing.status, missing.body],
      [404, { code: 40410000, message: "order not found" }],
    );
    const noAsset = await call("GET", "/v2/assets/NOPE");
    assert.equal(noAsset.status, 404);
    const asset = await call("GET", "/v2/assets/AAPL");
    assert.equal((asset.body as { symbol: string }).symbol, "AAPL");
  });

  test("order list filters: status, symbols, side, direction and limit", async () => {
    sim.admin.setQuote("AAPL", "100", "100.01");
    sim.admin.setQuote("MSFT", "400", "400.02");
    const place = (body: Record<string, unknown>) =>
      call("POST", "/v2/orders", {
        qty: "1",
        type: "market",
        time_in_force: "day",
        side: "buy",
        ...body,
      });
    await place({ symbol: "AAPL" });
    await place({ symbol: "MSFT" });
    await place({ symbol: "AAPL", type: "limit", limit_price: "50", time_in_force: "gtc" });
    const open = await call("GET", "/v2/orders");
    assert.equal((open.body as unknown[]).length, 1);
    const closed = (await call("GET", "/v2/orders?status=closed&direction=asc")).body as {
      symbol: string;
    }[];
    assert.deepEqual(
      closed.map((o) => o.symbol),
      ["AAPL", "MSFT"],
    );
    const aapl = (await call("GET", "/v2/orders?status=all&symbols=AAPL&limit=1")).body as {
      type: string;
    }[];
    assert.deepEqual(
      aapl.map((o) => o.type),
      ["limit"],
    );
    assert.equal(
      ((await call("GET", "/v2/orders?status=all&side=sell")).body as unknown[]).length,
      0,
    );
    assert.equal((await call("GET", "/v2/orders?status=bogus")).status, 422);
    assert.equal((await call("GET", "/v2/orders?limit=501")).status, 422);
    const cancelled = await call("DELETE", "/v2/orders");
    assert.equal(cancelled.status, 207);
    assert.equal((cancelled.body as { status: number }[])[0]!.status, 200);
  });

  test("orders:by_client_order_id finds an order; 404 when unknown, 422 without the parameter", async () => {
    const placed = await call("POST", "/v2/orders", {
      symbol: "AAPL",
      qty: "1",
      side: "buy",
      type: "market",
      time_in_force: "day",
      client_order_id: "find-me",
    });
    assert.equal(placed.status, 200);
    const found = await call("GET", "/v2/orders:by_client_order_id?client_order_id=find-me");
    assert.equal((found.body as { id: string }).id, (placed.body as { id: string }).id);
    assert.equal(
      (await call("GET", "/v2/orders:by_client_order_id?client_order_id=nope")).status,
      404,
    );
    assert.equal((await call("GET", "/v2/orders:by_client_order_id")).status, 422);
  });

  test("admin state logs every order request, refused duplicates included", async () => {
    const body = {
      symbol: "AAPL",
      qty: "1",
      side: "buy",
      type: "market",
      time_in_force: "day",
      client_order_id: "once",
    };
    assert.equal((await call("POST", "/v2/orders", body)).status, 200);
    assert.equal((await call("POST", "/v2/orders", body)).status, 422);
    const state = (await call("GET", "/admin/state")).body as {
      order_requests: { client_order_id: string; status: number; order_id: string | null }[];
      client_order_ids: string[];
    };
    const mine = state.order_requests.filter((r) => r.client_order_id === "once");
    assert.deepEqual(
      mine.map((r) => r.status),
      [200, 422],
    );
    assert.ok(mine[0]!.order_id);
    assert.equal(mine[1]!.order_id, null);
    assert.equal(state.client_order_ids.filter((id) => id === "once").length, 1);
  });

  test("closing a position that does not exist is 404; bad qty is 422", async () => {
    const r = await call("DELETE", "/v2/positions/GOOGL");
    assert.deepEqual(
      [r.status, r.body],
      [404, { code: 40410000, message: "position does not exist" }],
    );
    assert.equal((await call("DELETE", "/v2/positions/AAPL?qty=abc")).status, 422);
  });

  test("historical data pages end with next_page_token null and add up to the unpaged answer", async () => {
    sim.admin.advance(3 * 60_000);
    const whole = (await call("GET", "/v2/stocks/AAPL/trades?limit=10000")).body as {
      trades: unknown[];
    };
    assert.ok(whole.trades.length > 100);
    const seen: unknown[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const q: string = token ? `&page_token=${token}` : "";
      const page = (await call("GET", `/v2/stocks/AAPL/trades?limit=97${q}`)).body as {
        trades: unknown[];
        next_page_token: string | null;
      };
      seen.push(...page.trades);
      token = page.next_page_token;
      pages++;
    } while (token !== null && pages < 1000);
    assert.equal(token, null);
    assert.deepEqual(seen, whole.trades);
    const multi = (
      await call("GET", "/v2/stocks/bars?symbols=AAPL,MSFT&timeframe=1Day&limit=10000")
    ).body as {
      bars: Record<string, unknown[]>;
      next_page_token: null;
    };
    assert.deepEqual(Object.keys(multi.bars), ["AAPL", "MSFT"]);
    assert.equal(multi.next_page_token, null);
    const badTf = await call("GET", "/v2/stocks/AAPL/bars?timeframe=7Fortnights");
    assert.deepEqual(badTf.body, { code: 40010001, message: "invalid timeframe: 7Fortnights" });
  });
});

describe("broker-sim rate limit", () => {
  test("200/min by default; over the limit is 429 and every response has X-RateLimit-*", async () => {
    const sim = await startSimulator({ seed: 1, clock: "manual", rateLimitPerMin: 5 });
    try {
      const call = api(sim.tradingUrl, sim.keys);
      const remaining: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await call("GET", "/v2/clock");
        assert.equal(r.status, 200);
        remaining.push(Number(r.headers.get("x-ratelimit-remaining")));
        assert.equal(r.headers.get("x-ratelimit-limit"), "5");
        assert.ok(Number(r.headers.get("x-ratelimit-reset")) > Date.now() / 1000);
      }
      assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
      const over = await call("GET", "/v2/account");
      assert.equal(over.status, 429);
      assert.deepEqual(over.body, { code: 42910000, message: "rate limit exceeded" });
      assert.equal(over.headers.get("x-ratelimit-remaining"), "0");
      assert.ok(Number(over.headers.get("retry-after")) >= 1);
      const data = await call("GET", "/v2/stocks/AAPL/quotes/latest");
      assert.equal(data.status, 200, "market data has its own budget");
    } finally {
      await sim.close();
    }
  });
});
