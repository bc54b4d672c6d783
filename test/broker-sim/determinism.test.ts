/**
 * Determinism: under a fixed seed and the manual clock, the same order flow gives the same
 * quotes, ids and fills, byte for byte — the property the live pipeline's replay check relies on.
 * The realtime clock can run faster than the wall clock.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startSimulator } from "../../services/broker-sim/index.ts";
import { api, waitFor } from "./support.ts";

async function session(seed: number): Promise<string> {
  const sim = await startSimulator({
    seed,
    clock: "manual",
    startTime: "2026-03-02T15:00:00Z",
    partialFillProbability: 0.3,
  });
  try {
    const call = api(sim.tradingUrl, sim.keys);
    for (let i = 0; i < 25; i++) {
      const symbol = ["AAPL", "MSFT", "SPY"][i % 3]!;
      await call("POST", "/v2/orders", {
        symbol,
        qty: String(10 + i),
        side: i % 4 === 3 ? "sell" : "buy",
        type: i % 2 === 0 ? "market" : "limit",
        time_in_force: "gtc",
        ...(i % 2 === 1 ? { limit_price: i % 3 === 0 ? "190" : i % 3 === 1 ? "410" : "520" } : {}),
        client_order_id: `det-${i}`,
      });
      sim.admin.advance(1_500);
    }
    const state = sim.admin.state();
    return JSON.stringify([
      state.orders,
      state.fills,
      state.positions,
      state.account.cash,
      state.realized_pl,
    ]);
  } finally {
    await sim.close();
  }
}

test("the same seed and order flow give identical orders, fills and positions", async () => {
  const a = await session(77);
  const b = await session(77);
  assert.ok(a.includes("partially_filled") || a.includes("fill"));
  assert.equal(a, b);
  const c = await session(78);
  assert.notEqual(a, c);
});

test("reset with a seed restarts the same market", async () => {
  const sim = await startSimulator({ seed: 5, clock: "manual", startTime: "2026-03-02T15:00:00Z" });
  try {
    sim.admin.advance(10_000);
    const first = JSON.stringify(sim.admin.state().quotes);
    sim.admin.reset(5, "2026-03-02T15:00:00Z");
    sim.admin.advance(10_000);
    assert.equal(JSON.stringify(sim.admin.state().quotes), first);
  } finally {
    await sim.close();
  }
});

test("the realtime clock runs faster than the wall clock at speed > 1", async () => {
  const sim = await startSimulator({ seed: 1, speed: 600, startTime: "2026-03-02T15:00:00Z" });
  try {
    const start = Date.parse(sim.admin.now());
    await waitFor(() => Date.parse(sim.admin.now()) - start > 60_000, "a simulated minute", 5000);
    const bars = await api(sim.tradingUrl, sim.keys)(
      "GET",
      "/v2/stocks/AAPL/bars?timeframe=1Min&start=2026-03-02T15:00:00Z",
    );
    assert.ok(((bars.body as { bars: unknown[] }).bars.length ?? 0) >= 1);
  } finally {
    await sim.close();
  }
});
