import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SignalModel } from "../kernel/kernel.ts";
import { lookaheadCheck, warmupCheck } from "./checks.ts";
import type { MarketRecord } from "./records.ts";
import { asAsync, syntheticBatches } from "./synthetic.ts";
import { T0, testConfig } from "./test-support.ts";

const symbols = { AAPL: 190, MSFT: 410 };
const batches = [
  ...syntheticBatches({
    symbols,
    seed: 12,
    startNs: T0,
    durationNs: 8n * 60_000_000_000n,
    stepNs: 30_000_000_000n,
  }),
];
const source = () => asAsync(batches);

describe("bias checks", () => {
  it("lookahead: the built-in strategy gives the same signals without later data", async () => {
    const cfg = await testConfig(Object.keys(symbols), 12);
    const report = await lookaheadCheck(source, cfg, 6);
    assert.ok(report.signals > 0 && report.checked > 0, `${report.signals} signals`);
    assert.deepEqual(report.biased, []);
  });

  it("lookahead: a model that reads data not yet delivered is caught", async () => {
    const cfg = await testConfig(Object.keys(symbols), 12);
    const honest = cfg.model;
    // The peeking model reads the last record the engine was given: data not yet delivered.
    let future: MarketRecord | undefined;
    const peeking: SignalModel = {
      input: honest.input,
      scoreSync: () => (future !== undefined && future.exchangeNs % 2n === 0n ? 0.95 : 0.05),
    };
    const report = await lookaheadCheck(
      source,
      { ...cfg, model: peeking },
      6,
      (b: readonly MarketRecord[]) => {
        future = b.at(-1);
      },
    );
    assert.ok(report.checked > 0);
    assert.ok(report.biased.length > 0, "the peeking model is reported");
  });

  it("warmup: indicators computed from short history differ, and converge as the warm-up grows", async () => {
    const cfg = await testConfig(Object.keys(symbols));
    const report = await warmupCheck(source(), cfg.kernel.signal, [30, 100, 1000]);
    assert.equal(report.symbols, 2);
    const [short, mid, long] = report.rows;
    assert.ok(short && mid && long);
    assert.ok(short.rsi > mid.rsi && mid.rsi > long.rsi, JSON.stringify(report.rows));
    assert.equal(
      short.macdHistogram,
      Number.POSITIVE_INFINITY,
      "MACD(12,26,9) is not ready after 30 ticks",
    );
    assert.ok(mid.macdHistogram > long.macdHistogram);
    assert.ok(long.rsi < 1e-6, `RSI after 1000 ticks of warm-up: ${long.rsi}`);
    // Bollinger bands are a plain window: any warm-up of at least the period gives the same value.
    // (up to float rounding: the running sums differ in their last bits)
    assert.ok(short.percentB < 1e-6, `Bollinger %B: ${short.percentB}`);
  });
});
