/**
 * Backtest ≡ live: a live `tradepipe run --record DIR` against the simulator (three strategies
 * voting with a veto filter over a recorded session), then `tradepipe backtest --replay DIR`
 * through the one kernel. The replayed decisions (signal id, strategy, symbol, side, quantity,
 * limit price, reference price, confidence) must equal the decisions the live signal-bridge
 * published, whole and in order; every order the simulator received must be one of those
 * decisions, on its side. Run in each live mode: fused (in-process bus), stage processes over
 * ZeroMQ, and over the Unix-socket bus: the recording is made at market-data ingress in all.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { replayJob } from "../../services/backtest/run.ts";
import { fromDecimal } from "../../services/core/money.ts";
import { clientOrderIdFor } from "../../services/execution-engine/core/client-order-id.ts";
import { pipelineOrderIdScope } from "../../services/execution-engine/order-id-scope.ts";
import { DECISIONS_FILE, DECISIONS_HEADER } from "../../services/signal-bridge/decision-log.ts";
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

const MODES = [
  { name: "fused", fused: true },
  { name: "ZeroMQ stage processes", fused: false, transport: "zmq" },
  { name: "Unix-socket stage processes", fused: false, transport: "uds" },
] as const;

for (const mode of MODES) {
  test(`a live session recorded (${mode.name}) replays in the backtester to the same decisions`, {
    timeout: 600_000,
  }, async (t) => {
    const db = await withMigratedDatabase();
    const pipeline = await threeStrategiesPipeline();
    const { lines } = session();
    const dir = mkdtempSync(join(tmpdir(), "tp-live-parity-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sessionFile = join(dir, "session.ndjson");
    writeFileSync(sessionFile, `${lines.join("\n")}\n`);
    const recording = join(dir, "recording");
    // Stage processes read the spec from its file, as systemd units and pods do.
    const specFile = join(dir, "pipeline.yaml");
    writeFileSync(specFile, stringify(pipeline));

    const sim = await sessionSimulator(sessionFile);
    const port = await freePort();
    const { run, stop, handle } = startRun({
      pipeline,
      simulator: sim,
      databaseUrl: db.url,
      fused: mode.fused,
      ...("transport" in mode ? { transport: mode.transport } : {}),
      healthPort: port,
      recordDir: recording,
      specFile,
    });
    let orders: { client_order_id: string; side: string; qty: string }[] = [];
    try {
      await playSession(sim, handle);
      // The signal-bridge's metrics live on its own port in stage-process mode: wait on the
      // simulator's orders instead, which every mode shares, until they stop moving.
      let last = -1;
      await waitFor("the orders to settle", 120_000, async () => {
        await new Promise((r) => setTimeout(r, 1_500));
        const n = simState(sim).orders.length;
        const settled = n === last;
        last = n;
        return settled ? true : undefined;
      });
      if (mode.fused) {
        const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        t.diagnostic(
          `live signals: ${counter(m, "tradepipe_signals_total", { action: "BUY" })} BUY, ${counter(m, "tradepipe_signals_total", { action: "SELL" })} SELL`,
        );
      }
      orders = simState(sim).orders;
    } finally {
      stop();
      await run.catch(() => {});
      await sim.close();
      await db.drop();
    }

    // The recording: market data as received, in the catalog's format, and the decisions.
    assert.ok(existsSync(join(recording, "recording.json")), "the market-data stage recorded");
    const recorded = readFileSync(join(recording, DECISIONS_FILE), "utf8")
      .slice(DECISIONS_HEADER.length)
      .split("\n")
      .filter((l) => l !== "");
    const strategiesLeading = new Set(recorded.map((l) => l.split(",")[1]));
    t.diagnostic(`${recorded.length} decisions live, led by ${[...strategiesLeading].join(", ")}`);
    assert.ok(recorded.length > 10, "the session made the strategies decide");
    assert.ok(strategiesLeading.size >= 2, "more than one strategy led a decision");

    const replay = await replayJob(pipeline, recording);
    assert.equal(replay.compared, "decisions");
    assert.equal(replay.lines, recorded.length, "as many decisions replayed as live");
    assert.equal(replay.firstDifference, 0, `first different decision: ${replay.firstDifference}`);
    assert.ok(replay.identical, "replayed decisions are byte-identical to the live ones");

    // Every order the broker received is a recorded decision: same symbol, side and quantity
    // (a standard lot: at most the lot).
    const scope = pipelineOrderIdScope(pipeline, sim.keys.keyId);
    const orderQty = fromDecimal(pipeline.spec.strategy.orderQty);
    const byOrder = new Map(
      recorded.map((l) => {
        const [signalId, , symbol, side, quantity] = l.split(",") as [
          string,
          string,
          string,
          string,
          string,
        ];
        const standardLot = quantity === "";
        const qty = standardLot ? orderQty : fromDecimal(quantity);
        return [clientOrderIdFor(scope, signalId), { symbol, side, qty, standardLot }] as const;
      }),
    );
    assert.ok(orders.length > 0, "some decisions became orders");
    for (const o of orders) {
      const d = byOrder.get(o.client_order_id);
      assert.ok(d !== undefined, `order ${o.client_order_id} comes from a recorded decision`);
      assert.equal(o.side, d.side, `order ${o.client_order_id}: side`);
      if (d.standardLot) {
        // The risk-manager sizes the pipeline's own lot to the shares that close a position
        // (a partial fill can leave fewer than a lot): never more than the lot.
        const sent = fromDecimal(o.qty);
        assert.ok(
          sent > 0n && sent <= d.qty,
          `order ${o.client_order_id}: ${o.qty} within the lot`,
        );
      } else {
        assert.equal(fromDecimal(o.qty), d.qty, `order ${o.client_order_id}: quantity`);
      }
    }
  });
}
