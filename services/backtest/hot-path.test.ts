/**
 * The backtest's hot-path shortcuts change no result. A run of the synthetic market is pinned by
 * the digest of everything it produces (signals with their indicators, intents, orders, fills,
 * equity), as the code gave it before the shortcuts; and a run that builds the audit trail (an
 * observer reads it) gives the same results as one that skips it.
 *
 * The pinned digest changes only when a run's results change: if that is intended (a new fill
 * model, another strategy default), print the new one with
 *   node services/backtest/hot-path.test.ts --print
 * and say in the commit why the results changed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SignalEmitted } from "../kernel/kernel.ts";
import { resultText, sha256 } from "./digest.ts";
import { type BacktestConfig, BacktestEngine } from "./engine.ts";
import { sharesOf } from "./sim-broker.ts";
import { syntheticBatches } from "./synthetic.ts";
import { T0, testConfig } from "./test-support.ts";

const MINUTE = 60_000_000_000n;
const symbols = { AAPL: 190, MSFT: 410, NVDA: 120 };
const PINNED = "ab610812abccfdf7c0a080cd4d693256f2c78dc2a1819dd9d8425c5b5b1a560e";

function signalLine(s: SignalEmitted): string {
  const indicators = Object.entries(s.indicators)
    .map(([k, v]) => `${k}=${v}`)
    .join(";");
  return `signal,${s.signalId},${s.nowNs},${s.direction},${s.confidence},${s.strategyId},${s.referencePrice},${s.quantity},${s.limitPrice},${indicators}`;
}

async function digestOf(tune: (cfg: BacktestConfig) => void = () => {}) {
  const cfg = await testConfig(Object.keys(symbols), 5);
  tune(cfg);
  const engine = new BacktestEngine(cfg);
  for (const batch of syntheticBatches({
    symbols,
    seed: 5,
    startNs: T0,
    durationNs: 20n * MINUTE,
    stepNs: 5n * MINUTE,
  })) {
    engine.push(batch);
  }
  const result = engine.finish();
  const text = `${result.signals.map(signalLine).join("\n")}\n${resultText(result)}`;
  return { digest: sha256(text), result };
}

if (process.argv.includes("--print")) {
  console.log((await digestOf()).digest);
} else {
  describe("backtest hot path", () => {
    it("gives the results the code gave before its shortcuts (pinned digest)", async () => {
      const { digest, result } = await digestOf();
      assert.ok(result.fills.length > 50, `the run trades (${result.fills.length} fills)`);
      assert.equal(digest, PINNED);
    });

    it("counts a size's whole shares as the bigint quotient does, at every boundary", () => {
      const ONE = 1_000_000_000n;
      const top = 2n ** 52n / ONE;
      const sizes = [0n, 1n, 2n ** 52n - 1n, 2n ** 52n, 2n ** 53n + 5n, 2n ** 70n];
      for (let k = 0n; k < 300n; k++) {
        for (const whole of [k, top - k])
          sizes.push(whole * ONE - 1n, whole * ONE, whole * ONE + 1n);
      }
      let x = 7;
      for (let i = 0; i < 20_000; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        sizes.push(BigInt(x) * BigInt(x % 4096) + BigInt(i));
      }
      for (const size of sizes) {
        if (size >= 0n) assert.equal(sharesOf(size), Number(size / ONE), `${size}`);
      }
    });

    it("gives the same results whether the audit trail is built or skipped", async () => {
      let records = 0;
      const kept = await digestOf((cfg) => {
        cfg.observer = { audit: () => records++ };
      });
      const skipped = await digestOf();
      assert.ok(records > 0, "the observer read audit records");
      assert.equal(kept.digest, skipped.digest);
    });
  });
}
