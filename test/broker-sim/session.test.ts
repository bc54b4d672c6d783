/**
 * Market hours (marketAlwaysOpen: false): the clock reports the NYSE session, orders placed while
 * closed wait in `accepted` and route at the open, and day orders expire at the close.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startSimulator } from "../../services/broker-sim/index.ts";
import { api } from "./support.ts";

type Order = { id: string; status: string };

test("orders wait for the open, fill in the session, and day orders expire at the close", async () => {
  // Saturday 2026-03-07 12:00 New York (EST, UTC-5).
  const sim = await startSimulator({
    seed: 3,
    clock: "manual",
    marketAlwaysOpen: false,
    partialFillProbability: 0,
    startTime: "2026-03-07T17:00:00Z",
    // A quiet single-symbol market: the test advances through a whole session.
    symbols: ["AAPL"],
    market: { quoteRatePerSec: 1, tradeRatePerSec: 0.5 },
  });
  try {
    const call = api(sim.tradingUrl, sim.keys);
    const clock = (await call("GET", "/v2/clock")).body as Record<string, unknown>;
    assert.deepEqual(clock, {
      timestamp: "2026-03-07T12:00:00-05:00",
      is_open: false,
      next_open: "2026-03-09T09:30:00-04:00",
      next_close: "2026-03-09T16:00:00-04:00",
    });
    const market = (
      await call("POST", "/v2/orders", {
        symbol: "AAPL",
        qty: "2",
        side: "buy",
        type: "market",
        time_in_force: "day",
      })
    ).body as Order;
    assert.equal(market.status, "accepted");
    const resting = (
      await call("POST", "/v2/orders", {
        symbol: "AAPL",
        qty: "1",
        side: "buy",
        type: "limit",
        limit_price: "1",
        time_in_force: "day",
      })
    ).body as Order;
    const gtc = (
      await call("POST", "/v2/orders", {
        symbol: "AAPL",
        qty: "1",
        side: "buy",
        type: "limit",
        limit_price: "1",
        time_in_force: "gtc",
      })
    ).body as Order;
    sim.admin.advance((24 + 21) * 3600_000 + 31 * 60_000); // Monday 09:31 EDT (DST began Sunday)
    assert.equal(((await call("GET", "/v2/clock")).body as { is_open: boolean }).is_open, true);
    assert.equal(((await call("GET", `/v2/orders/${market.id}`)).body as Order).status, "filled");
    assert.equal(((await call("GET", `/v2/orders/${resting.id}`)).body as Order).status, "new");
    sim.admin.advance(7 * 3600_000); // 16:31
    assert.equal(((await call("GET", `/v2/orders/${resting.id}`)).body as Order).status, "expired");
    assert.equal(((await call("GET", `/v2/orders/${gtc.id}`)).body as Order).status, "new");
  } finally {
    await sim.close();
  }
});
