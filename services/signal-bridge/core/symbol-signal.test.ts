import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { FEATURE_COUNT } from "./features.ts";
import { DEFAULT_SIGNAL_PARAMS, validateSignalParams } from "./params.ts";
import { SignalBridgeCore } from "./signal-bridge-core.ts";
import { combineConfidence, RULES, SymbolSignal, type TopOfBook } from "./symbol-signal.ts";

function top(mid: number, bidSize = 100, askSize = 100): TopOfBook {
  return { bidPrice: mid - 0.01, askPrice: mid + 0.01, bidSize, askSize };
}

let lastPrice = 0;

/** A gently oscillating warm-up that fires no rule at its end, then the given moves. */
function feed(sig: SymbolSignal, moves: number[]): boolean[] {
  const needs: boolean[] = [];
  lastPrice = 0;
  let p = 100;
  for (let i = 0; i < 60; i++) sig.onTopOfBook(top(100 + (i % 2 === 0 ? 0.05 : -0.05)));
  p = 100.05;
  for (const m of moves) {
    p += m;
    needs.push(sig.onTopOfBook(top(p)));
  }
  lastPrice = p;
  return needs;
}

describe("SymbolSignal", () => {
  it("holds without a model while warming up", () => {
    const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    for (let i = 0; i < 30; i++) assert.equal(sig.onTopOfBook(top(100 - i * 0.1)), false);
    assert.equal(sig.ready, false);
    assert.equal(sig.decide().reason, "warming-up");
  });

  it("a sell-off fires contrarian BUY rules; one BUY per episode", () => {
    const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    const needs = feed(sig, Array(12).fill(-0.2));
    const first = needs.indexOf(true);
    assert.ok(first >= 0, "rules fired during the sell-off");
    // Replay to the first firing tick on a fresh signal and decide there.
    const again = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    feed(again, Array(first + 1).fill(-0.2));
    const d = again.decide(0.8);
    assert.equal(d.action, "BUY");
    assert.equal(d.reason, "signal");
    assert.ok(d.votes > 0);
    assert.ok(d.rules & (RULES.rsiOversold | RULES.belowLowerBand));
    assert.equal(d.confidence, combineConfidence(0.8, d.votes));
    assert.equal(d.modelScore, 0.8);
    // Still falling: same episode, no model needed, HOLD.
    assert.equal(again.onTopOfBook(top(lastPrice - 0.2)), false);
    assert.equal(again.onTopOfBook(top(lastPrice - 0.4)), false);
    assert.equal(again.decide().reason, "already-signalled");
  });

  it("a rally fires SELL rules", () => {
    const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    const needs = feed(sig, Array(12).fill(0.2));
    const first = needs.indexOf(true);
    const again = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    feed(again, Array(first + 1).fill(0.2));
    const d = again.decide(0.1);
    assert.equal(d.action, "SELL");
    assert.ok(d.votes < 0);
    assert.equal(d.confidence, combineConfidence(0.9, -d.votes));
  });

  it("the model can veto, and is asked again on the next tick of the episode", () => {
    const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    const needs = feed(sig, Array(12).fill(-0.2));
    const first = needs.indexOf(true);
    const s2 = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    feed(s2, Array(first + 1).fill(-0.2));
    const d = s2.decide(0.3);
    assert.equal(d.action, "HOLD");
    assert.equal(d.reason, "model-disagrees");
    assert.equal(s2.onTopOfBook(top(80)), true, "episode not yet signalled");
    assert.equal(s2.decide(undefined).reason, "no-score");
  });

  it("below minConfidence the decision is HOLD", () => {
    const strict = { ...DEFAULT_SIGNAL_PARAMS, minConfidence: 0.99 };
    const sig = new SymbolSignal(strict);
    const needs = feed(sig, Array(12).fill(-0.2));
    const s2 = new SymbolSignal(strict);
    feed(s2, Array(needs.indexOf(true) + 1).fill(-0.2));
    const d = s2.decide(0.7);
    assert.equal(d.action, "HOLD");
    assert.equal(d.reason, "low-confidence");
  });

  it("RSI thresholds are inclusive, as the spec defines them", () => {
    const sig = new SymbolSignal({ ...DEFAULT_SIGNAL_PARAMS, rsiOversold: 0, rsiOverbought: 100 });
    for (let i = 0; i < 60; i++) sig.onTopOfBook(top(100 - i * 0.1));
    assert.equal(sig.rsi.value, 0);
    assert.ok(sig.decide(0.9).rules & RULES.rsiOversold);
  });

  it("never asks for the model when no rule fired", () => {
    const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    let s = 12345;
    let p = 100;
    for (let i = 0; i < 5000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      p += (s / 4294967296 - 0.5) * 0.1;
      const needs = sig.onTopOfBook(top(p));
      const d = sig.decide(needs ? 0.5 : undefined);
      if (!needs && sig.ready)
        assert.ok(d.reason === "no-rule" || d.reason === "already-signalled");
      if (needs) assert.notEqual(d.votes, 0);
      if (d.votes === 0) assert.equal(needs, false);
    }
  });

  it("a size-only change updates the book features but is not a tick", () => {
    const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
    feed(sig, [0.1, -0.1, 0.1]);
    const ticks = sig.ticks;
    sig.onTopOfBook(top(lastPrice, 300, 100));
    assert.equal(sig.ticks, ticks);
    assert.ok(Math.abs(sig.writeFeatures()[7]! - 0.5) < 1e-7, "imbalance (300-100)/400");
  });

  it("features are deterministic and computed from the book as documented", () => {
    const run = () => {
      const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
      feed(sig, [0.3, -0.1, 0.2, -0.4, 0.1, 0.05]);
      return Array.from(sig.writeFeatures());
    };
    const a = run();
    assert.equal(a.length, FEATURE_COUNT);
    assert.deepEqual(a, run());
    assert.ok(a.every(Number.isFinite));
    const mid = 100.05 + 0.3 - 0.1 + 0.2 - 0.4 + 0.1 + 0.05;
    assert.ok(Math.abs(a[6]! - (0.02 / mid) * 1e4) < 1e-4, "spread_bps");
    assert.ok(Math.abs(a[4]! - (mid / (mid - 0.05) - 1) * 1e4) < 1e-3, "return_1_bps");
    assert.equal(a[7], 0, "balanced book");
  });
});

describe("SignalBridgeCore and params", () => {
  it("keeps one signal per symbol", () => {
    const core = new SignalBridgeCore(DEFAULT_SIGNAL_PARAMS);
    assert.equal(core.signal("AAPL"), core.signal("AAPL"));
    assert.notEqual(core.signal("AAPL"), core.signal("MSFT"));
    assert.deepEqual([...core.symbols()], ["AAPL", "MSFT"]);
  });

  it("refuses bad parameters naming the field", () => {
    const cases = [
      [{ rsiPeriod: 0 }, /strategy\.rsiPeriod must be an integer >= 2/],
      [{ rsiOversold: 80 }, /strategy\.rsiOversold must be below rsiOverbought/],
      [{ macdFast: 30 }, /strategy\.macdFast must be below macdSlow/],
      [{ minConfidence: 1.5 }, /strategy\.minConfidence must be a number in \[0, 1\]/],
    ] as const;
    for (const [patch, re] of cases) {
      assert.throws(
        () => validateSignalParams({ ...DEFAULT_SIGNAL_PARAMS, ...patch }),
        (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && re.test(e.message),
      );
    }
  });
});
