/**
 * Determinism: with the simulator under a fixed seed and start time, two fused runs send the
 * same orders in the same order. The simulated market stands still until every stage is ready,
 * so both runs see the stream from its first tick (a live feed joined at a random moment would
 * not be the same input).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { withMigratedDatabase } from "../support/pg.ts";
import { defaultPipeline, simState, startRun, startTestSimulator, waitFor } from "./support.ts";

const ORDERS = 6;

async function fusedRun(): Promise<string[]> {
  const db = await withMigratedDatabase();
  const pipeline = await defaultPipeline();
  // Simulated time runs at wall-clock speed once the pipeline is ready: the pipeline must keep
  // up with the market for the runs to match (at 5× a loaded machine fell behind and one run
  // saw a fill before a signal that the other saw after it).
  // No partial fills: the rest of a partly filled order waits for a later quote, and an order on
  // the other side of its symbol waits for it in turn (never sent beside a working opposite
  // order, which Alpaca refuses); whether that rest fills before the next signal would then
  // depend on how far the loaded machine lags the market, not on the input.
  const sim = await startTestSimulator(pipeline, 1, "manual", 0);
  const { run, stop, handle } = startRun({
    pipeline,
    simulator: sim,
    databaseUrl: db.url,
    fused: true,
  });
  try {
    const h = await waitFor("the pipeline to start", 60_000, handle);
    await waitFor("every stage ready", 90_000, () => h.status().stages.every((s) => s.ready));
    sim.admin.setClock({ mode: "realtime" });
    await waitFor(`${ORDERS} orders`, 240_000, () => simState(sim).orders.length >= ORDERS);
    return simState(sim)
      .orders.slice(0, ORDERS)
      .map((o) => `${o.client_order_id} ${o.symbol} ${o.side} ${o.qty}`);
  } finally {
    stop();
    await run.catch(() => {});
    await sim.close();
    await db.drop();
  }
}

test("two fused runs with the same seed send the same orders in the same order", {
  timeout: 600_000,
}, async () => {
  const first = await fusedRun();
  const second = await fusedRun();
  assert.equal(first.length, ORDERS);
  assert.deepEqual(second, first);
});
