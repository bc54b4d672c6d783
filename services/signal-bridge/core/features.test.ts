import assert from "node:assert/strict";
import { test } from "node:test";
import { FEATURE_COUNT, FEATURE_NAMES, type FeatureInputs, writeFeatures } from "./features.ts";

const inputs: FeatureInputs = {
  rsi: 75,
  macdHistogram: 0.05,
  percentB: 0.8,
  bandwidth: 0.002,
  mid: 100,
  mid1Ago: 99.9,
  mid5Ago: 98,
  bidPrice: 99.99,
  askPrice: 100.01,
  bidSize: 300,
  askSize: 100,
};

function near(actual: number, expected: number, what: string): void {
  // Float32 storage: about 7 significant digits.
  assert.ok(
    Math.abs(actual - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

test("each feature is computed as its name documents (hand-worked)", () => {
  const f = writeFeatures(inputs, new Float32Array(FEATURE_COUNT));
  const byName = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, f[i]!]));
  near(byName.rsi_centered!, 0.5, "(75 − 50) / 50");
  near(byName.macd_hist_bps!, 5, "0.05 / 100 in bps");
  near(byName.percent_b_centered!, 0.3, "0.8 − 0.5");
  near(byName.bandwidth_bps!, 20, "0.002 in bps");
  near(byName.return_1_bps!, (100 / 99.9 - 1) * 1e4, "return over the last tick");
  near(byName.return_5_bps!, (100 / 98 - 1) * 1e4, "return over 5 ticks: 204.08 bps");
  near(byName.spread_bps!, 2, "0.02 / 100 in bps");
  near(byName.book_imbalance!, 0.5, "(300 − 100) / 400");
});

test("an empty book has a book imbalance of 0, not NaN", () => {
  const f = writeFeatures({ ...inputs, bidSize: 0, askSize: 0 }, new Float32Array(FEATURE_COUNT));
  assert.equal(f[FEATURE_NAMES.indexOf("book_imbalance")], 0);
});
