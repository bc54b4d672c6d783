/** The signal parameters' bounds: each refused value names its field, every bound is accepted. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { DEFAULT_SIGNAL_PARAMS, type SignalParams, validateSignalParams } from "./params.ts";

describe("validateSignalParams bounds", () => {
  it("refuses each value just past a bound, and equal thresholds", () => {
    const cases = [
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
