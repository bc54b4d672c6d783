/**
 * Three strategies live: the built-in rules-model, a moving-average crossover and an
 * opening-range breakout, aggregated by weighted vote with a slower crossover as a veto filter,
 * in a fused `tradepipe run` against the
 * simulator over real HTTP and WebSocket. The simulator replays a recorded session (09:30 New
 * York onwards, so the opening range forms and breaks); the pure replay of the same quotes
 * through the same strategies (replayStrategies, with the same ONNX model) says which decisions
 * to expect, and the run's per-strategy metrics and the orders the broker received must agree.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { clientOrderIdFor } from "../../services/execution-engine/core/client-order-id.ts";
import { pipelineOrderIdScope } from "../../services/execution-engine/order-id-scope.ts";
import { loadModelScorer, resolveModelPath } from "../../services/signal-bridge/model-scorer.ts";
import { replayStrategies } from "../../services/signal-bridge/strategy/replay.ts";
import { aggregationRules, loadStrategies } from "../../services/signal-bridge/strategy-loader.ts";
import { withMigratedDatabase } from "../support/pg.ts";
import { simState, startRun, waitFor } from "./support.ts";
import {
  counter,
  freePort,
  playSession,
  session,
  sessionSimulator,
  threeStrategiesPipeline,
} from "./three-strategies-session.ts";

test("rules-model, ma-crossover and opening-range-breakout trade live together, as replayed", {
  timeout: 600_000,
}, async (t) => {
  const db = await withMigratedDatabase();
  const pipeline = await threeStrategiesPipeline();

  const { lines, quotes } = session();
  const dir = mkdtempSync(join(tmpdir(), "tp-three-strategies-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const recording = join(dir, "session.ndjson");
  writeFileSync(recording, `${lines.join("\n")}\n`);

  // What the strategies must decide, from the pure replay with the same model.
  const slots = await loadStrategies(pipeline.spec);
  const scorer = await loadModelScorer(resolveModelPath("config/models/signal.onnx"));
  const expected = replayStrategies(slots, aggregationRules(pipeline.spec), quotes, (_m, input) => {
    scorer.input.set(input);
    return scorer.scoreSync!();
  });
  const led = (id: string) => expected.signals.filter((s) => s.strategyId === id).length;
  for (const id of ["rules-model", "trend", "orb", "filter"]) {
    const d = expected.decisions[id]!;
    assert.ok(d.BUY + d.SELL > 0, `the session makes ${id} decide (${JSON.stringify(d)})`);
  }
  assert.ok(led("orb") > 0 && led("trend") > 0 && led("rules-model") > 0, "each voter leads");
  assert.ok((expected.holds.vetoed ?? 0) > 0, "the filter vetoes some");
  t.diagnostic(
    `expected: ${expected.signals.length} signals; led ${JSON.stringify({ rm: led("rules-model"), trend: led("trend"), orb: led("orb"), filter: led("filter") })}; decisions ${JSON.stringify(expected.decisions)}; holds ${JSON.stringify(expected.holds)}`,
  );

  const sim = await sessionSimulator(recording);
  const port = await freePort();
  const { run, stop, handle } = startRun({
    pipeline,
    simulator: sim,
    databaseUrl: db.url,
    fused: true,
    healthPort: port,
  });
  try {
    await playSession(sim, handle, 60_000);
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const total = expected.signals.length;
    const published = (m: string) =>
      counter(m, "tradepipe_signals_total", { action: "BUY" }) +
      counter(m, "tradepipe_signals_total", { action: "SELL" });
    // The session is over once the simulated clock passed its last quote (playSession); then
    // the pipeline has handled it all once the signal count stops moving.
    let last = -1;
    const m = await waitFor("the signal count to settle", 120_000, async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      const text = await metrics();
      const n = published(text);
      const settled = n === last && n >= 0;
      last = n;
      return settled ? text : undefined;
    });
    assert.equal(published(m), total, "no more signals than replayed");
    for (const s of slots) {
      const want = expected.decisions[s.id]!;
      const got = {
        BUY: counter(m, "tradepipe_strategy_decisions_total", { strategy: s.id, action: "BUY" }),
        SELL: counter(m, "tradepipe_strategy_decisions_total", { strategy: s.id, action: "SELL" }),
      };
      assert.deepEqual(got, want, `${s.id}: decisions live and replayed`);
      assert.equal(
        counter(m, "tradepipe_strategy_signals_total", { strategy: s.id }),
        led(s.id),
        `${s.id}: signals led`,
      );
      assert.equal(counter(m, "tradepipe_strategy_enabled", { strategy: s.id }), 1);
    }
    assert.equal(
      counter(m, "tradepipe_sb_aggregate_holds_total", { reason: "vetoed" }),
      expected.holds.vetoed,
      "vetoed live and replayed",
    );
    // Every order the broker received is an expected signal, on the expected side.
    const bySignalOrder = new Map(
      expected.signals.map((s) => [
        clientOrderIdFor(pipelineOrderIdScope(pipeline, sim.keys.keyId), `${s.symbol}-${s.timeNs}`),
        s.direction > 0 ? "buy" : "sell",
      ]),
    );
    const orders = simState(sim).orders;
    assert.ok(orders.length > 0, "some signals became orders");
    for (const o of orders) {
      assert.equal(bySignalOrder.get(o.client_order_id), o.side, `order ${o.client_order_id}`);
    }
  } finally {
    stop();
    await run.catch(() => {});
    await sim.close();
    await db.drop();
  }
});
