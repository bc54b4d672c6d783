/**
 * Fuzz: random bytes, random JSON and mutated order bodies at every REST endpoint and at both
 * streams (JSON and MessagePack), a bounded number of times. The simulator must answer each
 * request with a non-5xx status and an Alpaca-shaped error body, never crash, and still work
 * normally afterwards. The generator is seeded; a failure prints the seed and the request.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { encode } from "@msgpack/msgpack";
import { createPrng, type Prng } from "../../services/broker-sim/core/prng.ts";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { api, RawClient, waitFor } from "./support.ts";

const SEED = Number(process.env["FUZZ_SEED"] ?? 20261124);
const HTTP_CASES = 1500;
const WS_CASES = 300;
const TIME_BUDGET_MS = 25_000;

const PATHS = [
  "/v2/account",
  "/v2/clock",
  "/v2/orders",
  "/v2/orders/{id}",
  "/v2/orders:by_client_order_id",
  "/v2/positions",
  "/v2/positions/{sym}",
  "/v2/assets/{sym}",
  "/v2/assets",
  "/v2/stocks/{sym}/bars",
  "/v2/stocks/{sym}/trades",
  "/v2/stocks/{sym}/quotes",
  "/v2/stocks/bars",
  "/v2/stocks/trades",
  "/v2/stocks/quotes",
  "/v2/stocks/{sym}/quotes/latest",
  "/v2/stocks/trades/latest",
  "/admin/faults",
  "/admin/clock",
  "/admin/quote",
  "/admin/streams",
  "/admin/state",
];
const METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT"];
const KEYS = [
  "symbol",
  "qty",
  "notional",
  "side",
  "type",
  "time_in_force",
  "limit_price",
  "stop_price",
  "trail_price",
  "trail_percent",
  "client_order_id",
  "extended_hours",
  "order_class",
  "action",
  "data",
  "key",
  "secret",
  "trades",
  "quotes",
  "orderbooks",
  "streams",
  "advance_ms",
  "mode",
  "speed",
  "bid",
  "ask",
  "kind",
  "ms",
];
const STRINGS = [
  "",
  "AAPL",
  "aapl",
  "ZZZZZZ",
  "buy",
  "sell",
  "market",
  "limit",
  "stop",
  "stop_limit",
  "trailing_stop",
  "day",
  "gtc",
  "ioc",
  "fok",
  "opg",
  "-1",
  "0",
  "1",
  "1.5",
  "1e9",
  "NaN",
  "Infinity",
  "99999999999999999999",
  "0.0000000001",
  "𝔘𝔫𝔦",
  "\u0000",
  "<script>",
  "../../etc",
  "*",
  "subscribe",
  "auth",
  "listen",
  "authenticate",
  "realtime",
  "manual",
  "trade",
  "data",
  "stall",
  "disconnect",
];

function randomJson(p: Prng, depth = 0): unknown {
  switch (p.int(0, depth > 2 ? 4 : 7)) {
    case 0:
      return null;
    case 1:
      return p.next() < 0.5;
    case 2:
      return [0, -1, 1, 1e308, -1e-9, 2.5, 2 ** 53 + 1, p.int(-1e6, 1e6)][p.int(0, 7)];
    case 3:
    case 4:
      return STRINGS[p.int(0, STRINGS.length - 1)];
    case 5:
      return Array.from({ length: p.int(0, 4) }, () => randomJson(p, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = p.int(0, 6); i > 0; i--)
        o[KEYS[p.int(0, KEYS.length - 1)]!] = randomJson(p, depth + 1);
      return o;
    }
  }
}

function mutatedOrder(p: Prng): Record<string, unknown> {
  const o: Record<string, unknown> = {
    symbol: "AAPL",
    qty: "1",
    side: "buy",
    type: "market",
    time_in_force: "day",
  };
  for (let i = p.int(1, 3); i > 0; i--) o[KEYS[p.int(0, 12)]!] = randomJson(p, 2);
  if (p.next() < 0.2) o[`x${p.int(0, 99)}`] = 1;
  return o;
}

function randomBytes(p: Prng, max: number): Buffer {
  return Buffer.from(Array.from({ length: p.int(0, max) }, () => p.int(0, 255)));
}

function randomPath(p: Prng, orderIds: string[]): string {
  let path = PATHS[p.int(0, PATHS.length - 1)]!;
  path = path.replace(
    "{id}",
    p.next() < 0.5 && orderIds.length > 0
      ? orderIds[p.int(0, orderIds.length - 1)]!
      : encodeURIComponent(String(randomJson(p, 3))),
  );
  path = path.replace(
    "{sym}",
    encodeURIComponent(String(STRINGS[p.int(0, STRINGS.length - 1)]) || "X"),
  );
  if (p.next() < 0.6) {
    const params = Array.from({ length: p.int(1, 4) }, () => {
      const k = [
        "status",
        "limit",
        "symbols",
        "timeframe",
        "start",
        "end",
        "page_token",
        "sort",
        "qty",
        "percentage",
        "cancel_orders",
        "client_order_id",
        "direction",
        "after",
        KEYS[p.int(0, KEYS.length - 1)],
      ][p.int(0, 14)]!;
      return `${k}=${encodeURIComponent(String(randomJson(p, 3)))}`;
    });
    path += `?${params.join("&")}`;
  }
  return path;
}

describe("fuzz", () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ seed: 2, clock: "manual", rateLimitPerMin: 1_000_000 });
  });
  after(() => sim.close());

  test(`random requests at every REST endpoint (seed ${SEED})`, async () => {
    const p = createPrng(SEED, "http");
    const orderIds: string[] = [];
    const deadline = Date.now() + TIME_BUDGET_MS;
    const call = api(sim.tradingUrl, sim.keys);
    let n = 0;
    for (; n < HTTP_CASES && Date.now() < deadline; n++) {
      const method = METHODS[p.int(0, METHODS.length - 1)]!;
      const path = randomPath(p, orderIds);
      const kind = p.int(0, 3);
      const body =
        method === "GET" || kind === 0
          ? undefined
          : kind === 1
            ? randomBytes(p, 200).toString("latin1")
            : JSON.stringify(kind === 2 ? randomJson(p) : mutatedOrder(p));
      const where = `seed ${SEED} case ${n}: ${method} ${path} ${body?.slice(0, 80) ?? ""}`;
      if (path.startsWith("/admin/clock") && body?.includes("realtime")) continue; // keep the clock manual
      const r = await call(method, path, body);
      assert.ok(r.status < 500, `${where} → ${r.status} ${r.text}`);
      assert.ok(r.headers.get("x-ratelimit-limit"), where);
      if (r.status >= 400) {
        const b = r.body as { code?: unknown; message?: unknown };
        assert.equal(typeof b?.code, "number", `${where} → ${r.text}`);
        assert.equal(typeof b?.message, "string", `${where} → ${r.text}`);
      } else if (r.status !== 204) {
        assert.notEqual(r.body, undefined, where);
      }
      const id = (r.body as { id?: unknown })?.id;
      if (typeof id === "string") orderIds.push(id);
    }
    assert.ok(n >= 200, `ran ${n} cases`);
    await call("DELETE", "/admin/faults");
  });

  test(`random frames at both streams, JSON and MessagePack (seed ${SEED})`, async () => {
    const p = createPrng(SEED, "ws");
    const deadline = Date.now() + TIME_BUDGET_MS;
    const targets = [
      { url: sim.streamUrl, msgpack: false },
      { url: `${sim.dataUrl}/v2/iex`, msgpack: false },
      { url: `${sim.dataUrl}/v2/test`, msgpack: true },
    ];
    let reconnects = 0;
    for (const t of targets) {
      let c = new RawClient(t.url, { msgpack: t.msgpack });
      await c.open();
      for (let i = 0; i < WS_CASES && Date.now() < deadline; i++) {
        if (c.closed) {
          reconnects++;
          c = new RawClient(t.url, { msgpack: t.msgpack });
          await c.open();
        }
        const kind = p.int(0, 4);
        if (kind === 0) c.ws.send(randomBytes(p, 300), { binary: true });
        else if (kind === 1) c.ws.send(randomBytes(p, 300).toString("latin1"));
        else if (kind === 2) c.ws.send(Buffer.from(encode(randomJson(p))), { binary: true });
        else
          c.ws.send(
            JSON.stringify(
              kind === 3
                ? randomJson(p)
                : {
                    action: STRINGS[p.int(0, STRINGS.length - 1)],
                    ...(randomJson(p, 1) as object),
                  },
            ),
          );
        if (i % 50 === 0) sim.admin.advance(1000);
      }
      c.close();
    }
    // Still healthy: a clean client completes each handshake.
    const trade = new RawClient(sim.streamUrl);
    await trade.open();
    trade.send({
      action: "authenticate",
      data: { key_id: sim.keys.keyId, secret_key: sim.keys.secretKey },
    });
    await trade.next(
      (f) => (f as { data?: { status?: string } }).data?.status === "authorized",
      "authorized",
    );
    trade.close();
    const data = new RawClient(`${sim.dataUrl}/v2/sip`, { msgpack: true });
    await data.open();
    data.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
    await waitFor(() => JSON.stringify(data.frames).includes("authenticated"), "authenticated");
    data.close();
    assert.ok(reconnects >= 0);
  });

  test("after the fuzzing the simulator still trades normally", async () => {
    const call = api(sim.tradingUrl, sim.keys);
    await call("DELETE", "/admin/faults");
    const account = await call("GET", "/v2/account");
    assert.equal(account.status, 200);
    sim.admin.setQuote("MSFT", "400", "400.01");
    const order = await call("POST", "/v2/orders", {
      symbol: "MSFT",
      qty: "1",
      side: "buy",
      type: "market",
      time_in_force: "day",
    });
    assert.equal(order.status, 200);
    const got = await call("GET", `/v2/orders/${(order.body as { id: string }).id}`);
    assert.ok(["filled", "partially_filled"].includes((got.body as { status: string }).status));
  });
});
