import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { mul, ZERO } from "../core/money.ts";
import { BacktestEngine } from "./engine.ts";
import { syntheticBatches } from "./synthetic.ts";
import { T0, testConfig } from "./test-support.ts";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./determinism-child.ts", import.meta.url));
const MINUTE = 60_000_000_000n;
const symbols = { AAPL: 190, MSFT: 410 };

async function engineRun(minutes: bigint, seed = 7) {
  const cfg = await testConfig(Object.keys(symbols), seed);
  const engine = new BacktestEngine(cfg);
  for (const batch of syntheticBatches({
    symbols,
    seed,
    startNs: T0,
    durationNs: minutes * MINUTE,
  })) {
    engine.push(batch);
  }
  return { engine, cfg, result: engine.finish() };
}

describe("backtest engine", () => {
  it("drives all five cores against the venue: signals become orders, orders fill, books agree", async () => {
    const { engine, cfg, result } = await engineRun(15n);
    assert.ok(result.signals.length > 0, "signals");
    assert.ok(result.intents.length > 0, "order intents");
    assert.ok(result.fills.length > 0, "fills");
    // Every intent reached the venue, after the entry latency, and was answered after the response latency.
    for (const o of result.orders) {
      assert.equal(o.arrivedNs - o.sentNs, cfg.latency.submitEntryNs, o.clientOrderId);
      if (o.ackNs >= 0n) assert.equal(o.ackNs - o.arrivedNs, cfg.latency.submitResponseNs);
    }
    // The tracker core's positions equal the venue's ledger (every fill reached the cores).
    const ledger = engine.venue.state.ledger;
    const tracked = [...engine.kernel.positions.positions.values()].filter((p) => p.qty !== ZERO);
    assert.equal(tracked.length, ledger.positions.size);
    for (const p of tracked) assert.equal(ledger.positions.get(p.symbol)?.qty, p.qty, p.symbol);
    // Cash moved by exactly the fills' notional and their regulatory fees (the spec's schedule:
    // TAF on sells, CAT on both), and the tracker core booked the same fees: its cash agrees.
    let cash = cfg.startingCash;
    let fees = ZERO;
    for (const f of result.fills) {
      cash += (f.side === "buy" ? -mul(f.qty, f.price) : mul(f.qty, f.price)) - f.fees;
      fees += f.fees;
    }
    assert.ok(fees > ZERO, "fees were charged");
    assert.equal(ledger.cash, cash);
    assert.equal(result.feesPaid, fees);
    assert.equal(engine.kernel.positions.cash, ledger.cash);
  });

  it("gives the same bytes in two separate processes, and other bytes for another seed", async () => {
    const opts = { cwd: fileURLToPath(new URL("../../", import.meta.url)) };
    const node = process.execPath;
    const [a, b, c] = await Promise.all([
      run(node, [CHILD, "5", "10"], opts),
      run(node, [CHILD, "5", "10"], opts),
      run(node, [CHILD, "6", "10"], opts),
    ]);
    const [hashA, intents] = a.stdout.trim().split(" ");
    assert.ok(Number(intents) > 0, "the run placed orders");
    assert.equal(b.stdout.trim().split(" ")[0], hashA);
    assert.notEqual(c.stdout.trim().split(" ")[0], hashA);
  });

  it("refuses records out of exchange-time order", async () => {
    const cfg = await testConfig(["AAPL"]);
    const engine = new BacktestEngine(cfg);
    const [batch] = syntheticBatches({
      symbols: { AAPL: 190 },
      seed: 1,
      startNs: T0,
      durationNs: MINUTE,
    });
    assert.ok(batch && batch.length > 2);
    assert.throws(() => engine.push([batch[1]!, batch[0]!]), /out of order/);
  });
});
