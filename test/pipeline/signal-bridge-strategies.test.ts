/**
 * The signal-bridge stage with several strategies, started by the host as in production: a
 * strategy module that throws is disabled and reported (metric, log line, stage status) while
 * the others keep publishing signals; each signal names the strategy that led it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { decodeMessage, publishMessage } from "../../services/core/bus/typed.ts";
import {
  newHeader,
  QuoteSchema,
  SignalAction,
  TradingSignalSchema,
} from "../../services/core/messages/index.ts";
import { type Harness, startHarness, waitFor } from "./stage-harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tp-sb-strategies-"));
const THROWER = join(dir, "thrower.ts");
writeFileSync(
  THROWER,
  `import { act, defineStrategy, Type } from ${JSON.stringify(join(ROOT, "services/signal-bridge/strategy/api.ts"))};
/** Sells on every tick, and throws on its 50th. */
export default defineStrategy({
  name: "thrower",
  description: "breaks on purpose",
  params: Type.Object({ breakAt: Type.Integer({ default: 50 }) }, { additionalProperties: false }),
  create: (p) => {
    let n = 0;
    return {
      onTick(_t, _f, out) {
        if (++n === p.breakAt) throw new RangeError("feature index 9 out of range");
        act(out, -1, 0.1, "always-sell");
        return false;
      },
    };
  },
});
`,
);

let h: Harness;
before(async () => {
  h = await startHarness({
    sim: { symbols: ["AAPL"], clock: "manual" },
    spec: {
      strategies: [
        { id: "trend", module: "builtin:ma-crossover", params: { fast: 2, slow: 4 } },
        { id: "broken", module: THROWER },
      ],
    },
  });
});
after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_767_000_000_000_000_000n;

test("a strategy that throws is disabled and reported; the other keeps trading", async () => {
  const seen = h.record(["signal/*"]);
  const instance = await h.start("signal-bridge");
  try {
    // A zig-zag: the 2/4 averages cross every few ticks.
    for (let i = 0; i < 200; i++) {
      const mid = 100 + (Math.floor(i / 6) % 2 === 0 ? i % 6 : 6 - (i % 6)) * 0.1;
      publishMessage(
        h.bus,
        "md.quote/AAPL",
        QuoteSchema,
        create(QuoteSchema, {
          header: newHeader("market-data", T0 + BigInt(i) * 1_000_000n),
          symbol: "AAPL",
          bidPrice: (mid - 0.01).toFixed(2),
          bidSize: "100",
          askPrice: (mid + 0.01).toFixed(2),
          askSize: "100",
        }),
      );
    }
    await waitFor(() => seen.length > 0, "signals");
    const signals = seen.map((m) => decodeMessage(m, TradingSignalSchema));
    const byLeader = Map.groupBy(signals, (s) => s.strategyId);
    const broken = byLeader.get("broken") ?? [];
    const trend = byLeader.get("trend") ?? [];
    // Before it broke, the thrower led the SELLs the trend did not outvote.
    assert.ok(broken.length > 0 && broken.length < 50, `broken led ${broken.length}`);
    assert.ok(
      broken.every((s) => s.header!.eventTimeNs < T0 + 49n * 1_000_000n),
      "nothing from the thrower after its failure",
    );
    const afterFailure = trend.filter((s) => s.header!.eventTimeNs >= T0 + 49n * 1_000_000n);
    assert.ok(afterFailure.length >= 4, `the trend kept trading (${afterFailure.length})`);
    assert.ok(afterFailure.some((s) => s.action === SignalAction.BUY));
    assert.ok(afterFailure.some((s) => s.action === SignalAction.SELL));

    const exposition = await h.metrics.registry.metrics();
    assert.match(exposition, /tradepipe_strategy_enabled\{strategy="broken"\} 0/);
    assert.match(exposition, /tradepipe_strategy_enabled\{strategy="trend"\} 1/);
    assert.match(exposition, /tradepipe_strategy_failures_total\{strategy="broken"\} 1/);
    assert.match(exposition, /tradepipe_strategy_failures_total\{strategy="trend"\} 0/);
    // The attribution: the thrower's SELLs left it short; both have a mark-to-mid P&L.
    assert.match(exposition, /tradepipe_strategy_position_shares\{strategy="broken"\} -\d+/);
    assert.match(exposition, /tradepipe_strategy_pnl_usd\{strategy="trend"\} -?\d/);
    assert.match(
      exposition,
      /tradepipe_strategy_decisions_total\{strategy="broken",action="SELL"\} 49/,
    );
    const line = h.logs.find((l) => l.strategy === "broken");
    assert.ok(line, "a log line names the strategy");
    assert.equal(line.level, 50);
    assert.equal(line.err, "feature index 9 out of range");
    assert.equal(line.phase, "onTick");
    const report = instance.lastReport();
    assert.deepEqual(report.strategies, [
      { id: "trend", enabled: true },
      { id: "broken", enabled: false },
    ]);
    assert.match(String(report.detail), /disabled: broken/);
  } finally {
    await instance.stop();
  }
});

test("a bad parameter stops the stage at start, naming the strategy and the field", async () => {
  const bad = await startHarness({
    sim: { symbols: ["AAPL"], clock: "manual" },
    spec: {
      strategies: [{ id: "trend", module: "builtin:ma-crossover", params: { slow: 1 } }],
    },
  });
  try {
    await assert.rejects(
      bad.start("signal-bridge"),
      /strategy "trend" \(spec\.strategies\[0\]\): params\.slow expected integer to be greater or equal to 2 \(got 1\)/,
    );
  } finally {
    await bad.close();
  }
});
