/**
 * SymbolSignal's decisions: every rule against its definition, the bounds of the bands, the
 * model score and minConfidence, one signal per episode; combineConfidence hand-worked.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SIGNAL_PARAMS } from "./params.ts";
import {
  combineConfidence,
  describeRules,
  RULES,
  SymbolSignal,
  type TopOfBook,
} from "./symbol-signal.ts";

const top = (mid: number, bidSize = 100, askSize = 100): TopOfBook => ({
  bidPrice: mid - 0.01,
  askPrice: mid + 0.01,
  bidSize,
  askSize,
});

/**
 * atFirstFiring: a signal warmed up on a small oscillation around 100, then moved by `move` a
 * tick until a tick asks for the model; the signal and the mid it stopped at.
 */
function atFirstFiring(move: number, params = DEFAULT_SIGNAL_PARAMS) {
  const sig = new SymbolSignal(params);
  for (let i = 0; i < 60; i++) sig.onTopOfBook(top(i % 2 === 0 ? 100.05 : 99.95));
  let mid = 100.05;
  for (let i = 0; i < 20; i++) {
    mid += move;
    if (sig.onTopOfBook(top(mid))) return { sig, mid };
  }
  throw new Error(`a move of ${move} a tick fired no rule`);
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
    const { sig, mid } = atFirstFiring(-0.2);
    assert.equal(sig.onTopOfBook(top(mid, 500, 100)), false);
    assert.equal(sig.decide(0.9).action, "HOLD");
  });

  it("deciding twice on one tick signals once", () => {
    const { sig } = atFirstFiring(-0.2);
    assert.equal(sig.decide(0.9).action, "BUY");
    const again = sig.decide(0.9);
    assert.equal(again.action, "HOLD");
    assert.equal(again.reason, "already-signalled");
  });

  it("a new episode signals again: a BUY in the sell-off, then a SELL in the rally after it", () => {
    const { sig, mid } = atFirstFiring(-0.2);
    assert.equal(sig.decide(0.9).action, "BUY");
    let p = mid;
    let asked = false;
    for (let i = 0; i < 40 && !asked; i++) {
      p += 0.3;
      asked = sig.onTopOfBook(top(p));
    }
    assert.ok(asked, "the rally asked for the model");
    assert.equal(sig.decide(0.1).action, "SELL");
  });

  it("a score outside [0, 1], or NaN, is no score; 0 and 1 are scores", () => {
    const { sig } = atFirstFiring(-0.2);
    for (const bad of [1.5, -0.01, Number.NaN]) assert.equal(sig.decide(bad).reason, "no-score");
    assert.equal(sig.decide(0).reason, "model-disagrees");
    const d = sig.decide(1);
    assert.equal(d.action, "BUY");
    assert.equal(d.modelScore, 1);
  });

  it("a model at 0.5 never confirms a rule", () => {
    const d = atFirstFiring(-0.2).sig.decide(0.5);
    assert.equal(d.action, "HOLD");
    assert.equal(d.reason, "model-disagrees");
  });

  it("a confidence exactly at minConfidence is enough", () => {
    const votes = atFirstFiring(-0.2).sig.decide(0.8).votes;
    const { sig } = atFirstFiring(-0.2, {
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
