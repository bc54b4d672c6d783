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
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startSimulator } from "../../services/broker-sim/index.ts";
import { clientOrderIdFor } from "../../services/execution-engine/core/client-order-id.ts";
import { pipelineOrderIdScope } from "../../services/execution-engine/order-id-scope.ts";
import { syntheticMarket } from "../../services/signal-bridge/model/synthetic-market.ts";
import { loadModelScorer, resolveModelPath } from "../../services/signal-bridge/model-scorer.ts";
import {
  type ReplayQuote,
  replayStrategies,
} from "../../services/signal-bridge/strategy/replay.ts";
import { aggregationRules, loadStrategies } from "../../services/signal-bridge/strategy-loader.ts";
import { withMigratedDatabase } from "../support/pg.ts";
import { defaultPipeline, simState, startRun, waitFor } from "./support.ts";

/** 2026-06-15 13:30:00 UTC is 09:30 in New York (daylight saving time). */
const OPEN_MS = Date.UTC(2026, 5, 15, 13, 30);
const SYMBOLS = { AAPL: 187, MSFT: 410 } as const;
const TICKS = 1500; // per symbol, 100 ms apart: 2.5 minutes of session
const STEP_MS = 100;

/** The recorded session: two seeded paths interleaved, a quote only when it changes. */
function session(): { lines: string[]; quotes: ReplayQuote[] } {
  const lines: string[] = [];
  const quotes: ReplayQuote[] = [];
  const paths = Object.entries(SYMBOLS).map(([symbol, price], k) => ({
    symbol,
    path: syntheticMarket({ seed: 31 + k, ticks: TICKS, startPrice: price }),
    last: "",
  }));
  for (let i = 0; i < TICKS; i++) {
    for (const [k, p] of paths.entries()) {
      const t = p.path[i]!;
      const bp = t.bidPrice.toFixed(2);
      const ap = t.askPrice.toFixed(2);
      const bs = Math.max(1, Math.round(t.bidSize / 100)) * 100;
      const as = Math.max(1, Math.round(t.askSize / 100)) * 100;
      const key = `${bp} ${ap} ${bs} ${as}`;
      if (key === p.last) continue;
      p.last = key;
      const ms = OPEN_MS + i * STEP_MS + k; // the two symbols a millisecond apart
      const time = new Date(ms).toISOString();
      lines.push(
        JSON.stringify({ T: "q", S: p.symbol, t: time, bp: Number(bp), bs, ap: Number(ap), as }),
      );
      quotes.push({
        symbol: p.symbol,
        timeNs: BigInt(ms) * 1_000_000n,
        bidPrice: Number(bp),
        bidSize: bs,
        askPrice: Number(ap),
        askSize: as,
      });
    }
  }
  return { lines, quotes };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** counter reads one sample of a Prometheus counter from an exposition (0 when absent). */
function counter(exposition: string, name: string, labels: Record<string, string>): number {
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

test("rules-model, ma-crossover and opening-range-breakout trade live together, as replayed", {
  timeout: 600_000,
}, async (t) => {
  const db = await withMigratedDatabase();
  const pipeline = await defaultPipeline();
  pipeline.metadata.name = "three-strategies";
  pipeline.spec.symbols = Object.keys(SYMBOLS);
  // Every signal the session's strategies make, not one a minute per symbol (the default file's
  // cool-down, which would hold most of the voters' signals).
  pipeline.spec.aggregation = { ...pipeline.spec.aggregation, signalCooldownSeconds: 0 };
  const entry = (id: string, module: string, params: object, more: object = {}) => ({
    id,
    module: `builtin:${module}`,
    params,
    weight: 1,
    role: "vote" as const,
    budgetShares: 0,
    ...more,
  });
  pipeline.spec.strategies = [
    entry("rules-model", "rules-model", {}),
    entry("trend", "ma-crossover", { fast: 20, slow: 80, minGapBps: 1 }),
    entry("orb", "opening-range-breakout", { rangeMinutes: 1 }, { weight: 2 }),
    // A slower trend that never votes but blocks signals against it.
    entry("filter", "ma-crossover", { fast: 50, slow: 200, mode: "trend" }, { role: "veto" }),
  ];

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

  const sim = await startSimulator({
    seed: 1,
    speed: 5,
    clock: "manual",
    replayFile: recording,
    startingCash: "1000000",
  });
  const port = await freePort();
  const { run, stop, handle } = startRun({
    pipeline,
    simulator: sim,
    databaseUrl: db.url,
    fused: true,
    healthPort: port,
  });
  try {
    const h = await waitFor("the pipeline to start", 60_000, handle);
    await waitFor("every stage ready", 90_000, () => h.status().stages.every((s) => s.ready));
    sim.admin.setClock({ mode: "realtime" });
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const total = expected.signals.length;
    const published = (m: string) =>
      counter(m, "tradepipe_signals_total", { action: "BUY" }) +
      counter(m, "tradepipe_signals_total", { action: "SELL" });
    // The session is over once the simulated clock passes its last quote; then the pipeline has
    // handled it all once the signal count stops moving.
    const endMs = OPEN_MS + TICKS * STEP_MS;
    await waitFor("the end of the session", 240_000, () => {
      const now = (sim.admin.state() as unknown as { clock: { now: string } }).clock.now;
      return Date.parse(now) > endMs;
    });
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
