import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { FEATURE_COUNT } from "./features.ts";
import { DEFAULT_SIGNAL_PARAMS, type SignalParams, validateSignalParams } from "./params.ts";
import { SignalBridgeCore } from "./signal-bridge-core.ts";
import {
  combineConfidence,
  describeRules,
  RULES,
  SymbolSignal,
  type TopOfBook,
} from "./symbol-signal.ts";

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

/** A signal at the first tick of a steady move (per tick) that asks for the model. */
function atFirstFiring(move: number, params = DEFAULT_SIGNAL_PARAMS): SymbolSignal {
  const probe = new SymbolSignal(params);
  const first = feed(probe, Array(20).fill(move)).indexOf(true);
  assert.ok(first >= 0, "the move fired a rule");
  const sig = new SymbolSignal(params);
  feed(sig, Array(first + 1).fill(move));
  return sig;
}

/** Small periods: every indicator is ready within a few ticks and rules fire often. */
const SHORT = {
  ...DEFAULT_SIGNAL_PARAMS,
  rsiPeriod: 2,
  macdFast: 1,
  macdSlow: 2,
  macdSignal: 1,
  bollingerPeriod: 3,
} as const;

const exact = (mid: number): TopOfBook => ({
  bidPrice: mid,
  askPrice: mid,
  bidSize: 100,
  askSize: 100,
});

describe("SymbolSignal decisions", () => {
  it("a fresh signal holds as warming up, even when handed a score", () => {
    const d = new SymbolSignal(DEFAULT_SIGNAL_PARAMS).decide(0.9);
    assert.equal(d.action, "HOLD");
    assert.equal(d.reason, "warming-up");
  });

  it("is ready only once the 5-tick return has its history, whatever the indicators", () => {
    const sig = new SymbolSignal(SHORT);
    for (let i = 1; i <= 5; i++) sig.onTopOfBook(exact(100 + i));
    assert.equal(sig.rsi.ready && sig.macd.ready && sig.bollinger.ready, true);
    assert.equal(sig.ready, false, "5 ticks: no mid 5 ticks ago yet");
    sig.onTopOfBook(exact(107));
    assert.equal(sig.ready, true);
  });

  it("a repeated mid after a firing tick does not ask for the model, and decides nothing", () => {
    const sig = atFirstFiring(-0.2);
    assert.equal(sig.onTopOfBook(top(lastPrice, 500, 100)), false);
    assert.equal(sig.decide(0.9).action, "HOLD");
  });

  it("deciding twice on one tick signals once", () => {
    const sig = atFirstFiring(-0.2);
    assert.equal(sig.decide(0.9).action, "BUY");
    const again = sig.decide(0.9);
    assert.equal(again.action, "HOLD");
    assert.equal(again.reason, "already-signalled");
  });

  it("a new episode signals again: a BUY in the sell-off, then a SELL in the rally after it", () => {
    const sig = atFirstFiring(-0.2);
    assert.equal(sig.decide(0.9).action, "BUY");
    let p = lastPrice;
    let asked = false;
    for (let i = 0; i < 40 && !asked; i++) {
      p += 0.3;
      asked = sig.onTopOfBook(top(p));
    }
    assert.ok(asked, "the rally asked for the model");
    assert.equal(sig.decide(0.1).action, "SELL");
  });

  it("a score outside [0, 1], or NaN, is no score; 0 and 1 are scores", () => {
    const sig = atFirstFiring(-0.2);
    for (const bad of [1.5, -0.01, Number.NaN]) assert.equal(sig.decide(bad).reason, "no-score");
    assert.equal(sig.decide(0).reason, "model-disagrees");
    const d = sig.decide(1);
    assert.equal(d.action, "BUY");
    assert.equal(d.modelScore, 1);
  });

  it("a model at 0.5 never confirms a rule", () => {
    const d = atFirstFiring(-0.2).decide(0.5);
    assert.equal(d.action, "HOLD");
    assert.equal(d.reason, "model-disagrees");
  });

  it("a confidence exactly at minConfidence is enough", () => {
    const votes = atFirstFiring(-0.2).decide(0.8).votes;
    const sig = atFirstFiring(-0.2, {
      ...DEFAULT_SIGNAL_PARAMS,
      minConfidence: combineConfidence(0.8, votes),
    });
    assert.equal(sig.decide(0.8).action, "BUY");
  });

  it("each rule fires exactly as defined; votes are bullish minus bearish rules; none is no-rule", () => {
    for (const params of [DEFAULT_SIGNAL_PARAMS, SHORT, { ...SHORT, macdSignal: 2 }]) {
      const sig = new SymbolSignal(params);
      let s = 99;
      let p = 100;
      let fired = 0;
      for (let i = 0; i < 3000; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        p += (s / 4294967296 - 0.5) * 0.4;
        sig.onTopOfBook(exact(p));
        if (!sig.ready) continue;
        const rsi = sig.rsi.value;
        const { histogram: hist, previousHistogram: prev } = sig.macd;
        const expected = {
          rsiOversold: rsi <= params.rsiOversold,
          belowLowerBand: p < sig.bollinger.lower,
          macdCrossUp: prev <= 0 && hist > 0,
          rsiOverbought: rsi >= params.rsiOverbought,
          aboveUpperBand: p > sig.bollinger.upper,
          macdCrossDown: prev >= 0 && hist < 0,
        };
        const d = sig.decide(0.5);
        for (const [name, on] of Object.entries(expected)) {
          assert.equal((d.rules & RULES[name as keyof typeof RULES]) !== 0, on, `${name} at ${i}`);
        }
        const e = expected;
        const votes =
          +e.rsiOversold +
          +e.belowLowerBand +
          +e.macdCrossUp -
          (+e.rsiOverbought + +e.aboveUpperBand + +e.macdCrossDown);
        assert.equal(d.votes, votes, `votes at ${i}`);
        if (votes === 0) assert.equal(d.reason, "no-rule", `reason at ${i}`);
        if (d.rules !== 0) fired++;
      }
      assert.ok(fired > 50, `rules fired ${fired} times`);
    }
  });

  it("a price on a band is inside it: the band rules are strict", () => {
    // Bands of zero width (k = 0) sit on the window's mean; 100, 106, 103 has mean 103 exactly.
    const flat = { ...SHORT, bollingerStdDev: 0 };
    const bands = RULES.belowLowerBand | RULES.aboveUpperBand;
    const sig = new SymbolSignal(flat);
    for (const mid of [100, 106, 103, 100, 106, 103]) sig.onTopOfBook(exact(mid));
    assert.equal(sig.bollinger.lower, 103);
    assert.equal(sig.decide().rules & bands, 0);
    sig.onTopOfBook(exact(90));
    assert.equal(sig.decide().rules & bands, RULES.belowLowerBand);
    sig.onTopOfBook(exact(120));
    assert.equal(sig.decide().rules & bands, RULES.aboveUpperBand);
  });

  it("the overbought threshold is inclusive too", () => {
    const sig = new SymbolSignal({ ...DEFAULT_SIGNAL_PARAMS, rsiOversold: 0, rsiOverbought: 100 });
    for (let i = 0; i < 60; i++) sig.onTopOfBook(top(100 + i * 0.1));
    assert.equal(sig.rsi.value, 100);
    assert.ok(sig.decide(0.1).rules & RULES.rsiOverbought);
  });
});

describe("combineConfidence and describeRules", () => {
  it("adds ln 1.5 of log-odds per agreeing rule (hand-worked)", () => {
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
    close(combineConfidence(0.8, 0), 0.8);
    close(combineConfidence(0.5, 1), 0.6); // odds 1 × 1.5
    close(combineConfidence(0.6, 2), 27 / 35); // odds 1.5 × 2.25 = 3.375
  });

  it("no model score and no number of rules makes a decision certain", () => {
    const sure = combineConfidence(1, 6);
    assert.ok(sure < 1 && sure > 0.999, `${sure}`);
    const hopeless = combineConfidence(0, 0);
    assert.ok(hopeless > 0 && hopeless < 1e-6, `${hopeless}`);
  });

  it("names the rules of a bit set in table order", () => {
    assert.equal(describeRules(0), "");
    assert.equal(
      describeRules(RULES.belowLowerBand | RULES.rsiOversold),
      "rsiOversold+belowLowerBand",
    );
    assert.equal(
      describeRules(RULES.macdCrossDown | RULES.aboveUpperBand | RULES.rsiOverbought),
      "rsiOverbought+aboveUpperBand+macdCrossDown",
    );
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
      [{ minConfidence: -0.01 }, /strategy\.minConfidence must be a number in \[0, 1\]/],
      [{ rsiPeriod: 1 }, /strategy\.rsiPeriod must be an integer >= 2/],
      [{ rsiOversold: 70 }, /strategy\.rsiOversold must be below rsiOverbought/],
      [{ macdFast: 26 }, /strategy\.macdFast must be below macdSlow/],
    ] as const;
    for (const [patch, re] of cases) {
      assert.throws(
        () => validateSignalParams({ ...DEFAULT_SIGNAL_PARAMS, ...patch }),
        (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && re.test(e.message),
      );
    }
  });

  it("refuses a number written as a string (a hand-edited spec)", () => {
    const quoted = { ...DEFAULT_SIGNAL_PARAMS, minConfidence: "0.6" } as unknown as SignalParams;
    assert.throws(
      () => validateSignalParams(quoted),
      /strategy\.minConfidence must be a number in \[0, 1\] \(got "0\.6"\)/,
    );
  });

  it("accepts every bound of every range", () => {
    const lowest = {
      ...DEFAULT_SIGNAL_PARAMS,
      rsiPeriod: 2,
      rsiOversold: 0,
      macdFast: 1,
      macdSlow: 2,
      macdSignal: 1,
      bollingerPeriod: 2,
      bollingerStdDev: 0,
      minConfidence: 0,
    };
    assert.equal(validateSignalParams(lowest), lowest);
    const highest = {
      ...DEFAULT_SIGNAL_PARAMS,
      rsiOverbought: 100,
      bollingerStdDev: 10,
      minConfidence: 1,
    };
    assert.equal(validateSignalParams(highest), highest);
  });
});
