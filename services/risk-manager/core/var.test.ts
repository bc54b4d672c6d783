import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import { createRiskState, symbolExposure } from "./state.ts";
import { SPEC_RISK } from "./test-support.ts";
import {
  appendClose,
  createReturnSeries,
  dollarsToCentsFixed,
  returnAt,
  var99PrePost,
} from "./var.ts";

const limits = { varWindowDays: 252, varMinObservations: 20, varFallbackDailyVolatility: 0.03 };

test("the return ring buffer keeps the latest window of returns, newest first", () => {
  const r = createReturnSeries(3);
  ["100", "110", "99", "99", "198"].forEach((c, day) => {
    appendClose(r, day, fromDecimal(c));
  });
  assert.equal(r.count, 3);
  assert.deepEqual(
    [0, 1, 2].map((k) => Number(returnAt(r, k).toFixed(12))),
    [1, 0, -0.1],
  );
  assert.equal(appendClose(r, 5, 0n), false, "a corrupt close is skipped");
  assert.equal(appendClose(r, 4, fromDecimal("1")), false, "a day already recorded is skipped");
  assert.equal(r.count, 3);
});

test("VaR is the k-th worst scenario loss, k = ⌊S/100⌋ + 1", () => {
  const state = createRiskState(SPEC_RISK);
  const xom = symbolExposure(state, "XOM");
  xom.returns = createReturnSeries(252);
  // 250 returns: losses of 1%..5% on five days, gains elsewhere → k = 3 → the 3rd worst is -3%.
  let close = 100;
  appendClose(xom.returns, 0, fromDecimal(close));
  for (let i = 0; i < 250; i++) {
    const r = i < 5 ? -(i + 1) / 100 : 0.002;
    close *= 1 + r;
    appendClose(xom.returns, i + 1, fromDecimal(close.toFixed(9)));
  }
  const v = var99PrePost(state.symbols, xom, fromDecimal("100"), fromDecimal("1000"), limits);
  assert.equal(v.pre, 0);
  assert.equal(dollarsToCentsFixed(v.post), fromDecimal("3000"));
  // shorting the same amount: the worst scenarios are the gains (0.2%), k = 3 → 200 USD
  const short = var99PrePost(state.symbols, xom, fromDecimal("100"), fromDecimal("-1000"), limits);
  assert.equal(dollarsToCentsFixed(short.post), fromDecimal("200"));
});

test("a symbol without enough history adds the parametric stand-in 2.326·σ·|exposure|", () => {
  const state = createRiskState(SPEC_RISK);
  const aapl = symbolExposure(state, "AAPL");
  const v = var99PrePost(state.symbols, aapl, fromDecimal("200"), fromDecimal("-50"), limits);
  assert.equal(dollarsToCentsFixed(v.post), fromDecimal("697.90"));
});
