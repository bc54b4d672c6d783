/**
 * Fault injection: each fault the simulator offers, set through the admin endpoint or the
 * programmatic handle, does what it says and goes away when cleared.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { api, listenTradeUpdates, RawClient, waitFor } from "./support.ts";

type Frame = Record<string, unknown>;

describe("fault injection", () => {
  let sim: Simulator;
  let call: ReturnType<typeof api>;

  before(async () => {
    sim = await startSimulator({
      seed: 8,
      clock: "manual",
      partialFillProbability: 0,
      rateLimitPerMin: 100_000,
    });
    call = api(sim.tradingUrl, sim.keys);
  });
  after(() => sim.close());
  beforeEach(async () => {
    await call("DELETE", "/admin/faults");
  });

  const buy = () =>
    call("POST", "/v2/orders", {
      symbol: "AAPL",
      qty: "1",
      side: "buy",
      type: "market",
      time_in_force: "day",
    });

  test("POST /admin/faults validates its input and reports the active faults", async () => {
    const bad = await call("POST", "/admin/faults", { dropRate: 2 });
    assert.deepEqual(
      [bad.status, (bad.body as Frame)["message"]],
      [422, "dropRate: expected a probability in [0, 1]"],
    );
    const unknown = await call("POST", "/admin/faults", { gremlins: 1 });
    assert.equal((unknown.body as Frame)["message"], 'unknown fault "gremlins"');
    const ok = await call("POST", "/admin/faults", { latencyMs: 1 });
    assert.equal((ok.body as Frame)["latencyMs"], 1);
    assert.equal(((await call("GET", "/admin/faults")).body as Frame)["latencyMs"], 1);
    assert.equal((await call("GET", "/v2/clock")).status, 200);
    const unauth = await fetch(`${sim.tradingUrl}/admin/state`);
    assert.equal(unauth.status, 401);
  });

  test("fail5xxNext and burst429Next answer the next N requests with errors, then recover", async () => {
    await call("POST", "/admin/faults", { fail5xxNext: 2, errorStatus: 503 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call("GET", "/v2/account")).status);
    assert.deepEqual(statuses, [503, 503, 200]);
    await call("POST", "/admin/faults", { burst429Next: 2 });
    const limited = [];
    for (let i = 0; i < 3; i++) limited.push((await call("GET", "/v2/account")).status);
    assert.deepEqual(limited, [429, 429, 200]);
    await call("POST", "/admin/faults", { errorRate: 1, errorStatus: 500 });
    const r = await call("GET", "/v2/positions");
    assert.deepEqual(
      [r.status, r.body],
      [500, { code: 50010000, message: "internal server error" }],
    );
  });

  const listener = () => listenTradeUpdates(sim.streamUrl, sim.keys);

  const events = (c: RawClient) =>
    c.frames
      .filter((f) => (f as Frame)["stream"] === "trade_updates")
      .map((f) => (f as { data: { event: string } }).data.event);

  test("trade updates can be dropped, duplicated and reordered", async () => {
    const c = await listener();
    try {
      sim.admin.setFaults({ dropRate: 1 });
      const dropped = await buy();
      assert.equal(dropped.status, 200);
      sim.admin.setFaults({ dropRate: 0, duplicateRate: 1 });
      await buy();
      await waitFor(() => events(c).length === 4, "duplicated events");
      assert.deepEqual(events(c), ["new", "new", "fill", "fill"]);
      sim.admin.setFaults({ duplicateRate: 0, reorderRate: 1 });
      await buy();
      await waitFor(() => events(c).length === 6, "reordered events");
      assert.deepEqual(events(c).slice(4), ["fill", "new"]);
      const state = sim.admin.state();
      assert.ok(
        state.orders.every((o) => o.status === "filled"),
        "faults touch delivery, never the order book",
      );
    } finally {
      c.close();
    }
  });

  test("admin disconnect cuts every stream connection", async () => {
    const trade = await listener();
    const data = new RawClient(`${sim.dataUrl}/v2/iex`);
    await data.open();
    await waitFor(() => sim.admin.state().streams.data === 1, "data conn");
    const r = await call("POST", "/admin/streams", { action: "disconnect", kind: "all" });
    assert.equal((r.body as Frame)["disconnected"], 2);
    await waitFor(() => trade.closed && data.closed, "both closed");
  });

  test("a stalled data stream sends nothing until the stall ends, then resumes", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/iex`);
    await c.open();
    try {
      c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
      c.send({ action: "subscribe", quotes: ["AAPL"] });
      await waitFor(() => c.frames.length === 3, "subscribed");
      await call("POST", "/admin/streams", { action: "stall", kind: "data", ms: 1500 });
      sim.admin.advance(5_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(c.frames.length, 3, "no data while stalled");
      let pong = false;
      c.ws.on("pong", () => {
        pong = true;
      });
      c.ws.ping();
      await waitFor(() => pong, "pong while stalled");
      await new Promise((r) => setTimeout(r, 1500));
      sim.admin.advance(5_000);
      await waitFor(() => c.frames.length > 3, "data after the stall");
    } finally {
      c.close();
    }
  });

  test("market-data messages can be dropped", async () => {
    const c = new RawClient(`${sim.dataUrl}/v2/iex`);
    await c.open();
    try {
      c.send({ action: "auth", key: sim.keys.keyId, secret: sim.keys.secretKey });
      c.send({ action: "subscribe", quotes: ["AAPL"] });
      await waitFor(() => c.frames.length === 3, "subscribed");
      sim.admin.setFaults({ marketDataDropRate: 1 });
      sim.admin.advance(5_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(c.frames.length, 3);
    } finally {
      c.close();
    }
  });
});
