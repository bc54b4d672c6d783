import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import { createRiskState, type SymbolExposure, symbolExposure } from "./state.ts";
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

/** exposure: a symbol's filled position and working orders at `price`, with a return history. */
function exposure(
  symbol: string,
  filled: number,
  price: number,
  returns: readonly number[],
  pending: { buy?: number; sell?: number } = {},
): SymbolExposure {
  const series = createReturnSeries(252);
  let close = 100;
  appendClose(series, 0, fromDecimal(close));
  returns.forEach((r, i) => {
    close *= 1 + r;
    appendClose(series, i + 1, fromDecimal(close.toFixed(9)));
  });
  return {
    symbol,
    sector: "",
    filledQty: fromDecimal(filled),
    pendingBuy: fromDecimal(pending.buy ?? 0),
    pendingSell: fromDecimal(pending.sell ?? 0),
    price: fromDecimal(price),
    returns: returns.length ? series : null,
  };
}

const NOTHING: SymbolExposure = exposure("", 0, 0, []);
const storedReturns = (e: SymbolExposure) =>
  Array.from({ length: e.returns!.count }, (_, k) => returnAt(e.returns!, k));
const preOnly = (...es: SymbolExposure[]) =>
  var99PrePost(new Map(es.map((e) => [e.symbol, e])), NOTHING, 0n, 0n, limits);

test("the k-th worst loss is found whatever order the losses come in", () => {
  // 200 days (k = 3), the big losses scattered, two of them equal.
  const rs = Array.from({ length: 200 }, (_, i) => ((i * 37) % 200) / 20_000 - 0.004);
  rs[150] = -0.05;
  rs[20] = -0.03;
  rs[90] = -0.03;
  rs[199] = -0.02;
  const e = exposure("XOM", 1000, 100, rs);
  const pnl = storedReturns(e)
    .map((r) => 100_000 * r)
    .sort((a, b) => a - b);
  const v = preOnly(e);
  assert.equal(v.scenarios, 200);
  assert.equal(v.thin, false);
  assert.equal(v.pre, -pnl[2]!);
  assert.ok(Math.abs(v.pre - 3000) < 0.01, `the 3rd worst of -5%, -3%, -3%, -2%: ${v.pre}`);
});

test("with a thin window the VaR is the larger of the worst loss and 2.326 sample standard deviations", () => {
  const rs = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 0.01 : -0.01));
  const e = exposure("XOM", 1000, 100, rs);
  const pnl = storedReturns(e).map((r) => 100_000 * r);
  const mean = pnl.reduce((a, b) => a + b, 0) / pnl.length;
  const sampleVariance = pnl.reduce((a, b) => a + (b - mean) ** 2, 0) / (pnl.length - 1);
  const v = preOnly(e);
  assert.equal(v.scenarios, 40);
  assert.equal(v.thin, true);
  assert.ok(Math.abs(v.pre - 2.3263478740408408 * Math.sqrt(sampleVariance)) < 1e-6, `${v.pre}`);
  assert.ok(v.pre > 2000, "the σ bound, not the worst day (1000)");
});

test("a symbol with a short history is charged its worst observed move when that beats 2.326·σ", () => {
  const e = exposure("NEW", 100, 100, [0.01, -0.2, 0.05]);
  assert.equal(dollarsToCentsFixed(preOnly(e).pre), fromDecimal("2000"), "20% of 10000");
});

test("exactly varMinObservations days are enough to simulate; one fewer is not", () => {
  const rs = Array.from({ length: 20 }, (_, i) => (i === 7 ? -0.01 : 0.001));
  assert.equal(preOnly(exposure("XOM", 10, 100, rs)).scenarios, 20);
  assert.equal(preOnly(exposure("XOM", 10, 100, rs.slice(1))).scenarios, 0);
});

test("only the order's own symbol changes between before and after", () => {
  const held = exposure("XOM", 100, 100, []);
  const order = exposure("AAPL", 0, 200, []);
  const symbols = new Map([
    ["XOM", held],
    ["AAPL", order],
  ]);
  const rate = 2.3263478740408408 * 0.03;
  const buy = var99PrePost(symbols, order, fromDecimal(200), fromDecimal(50), limits);
  assert.equal(dollarsToCentsFixed(buy.pre), dollarsToCentsFixed(rate * 10_000));
  assert.equal(dollarsToCentsFixed(buy.post), dollarsToCentsFixed(rate * 20_000));
  const shortHeld = exposure("XOM", -100, 100, []);
  symbols.set("XOM", shortHeld);
  const sell = var99PrePost(symbols, order, fromDecimal(200), fromDecimal(-50), limits);
  assert.equal(dollarsToCentsFixed(sell.post), dollarsToCentsFixed(rate * 20_000));
});

test("working orders on both sides: each scenario takes the worse end, gains hurting the short end", () => {
  // Flat, 1000 shares working each way: a rise hurts the short end, a fall the long end.
  const rs: number[] = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? 0.001 : -0.001));
  rs[10] = 0.05;
  rs[30] = 0.04;
  rs[50] = -0.045;
  rs[70] = -0.035;
  const e = exposure("XOM", 0, 100, rs, { buy: 1000, sell: 1000 });
  const v = preOnly(e);
  assert.equal(v.scenarios, 120);
  // k = 2: the second largest move of either sign, 4.5%, on 100000 USD.
  assert.ok(Math.abs(v.pre - 4500) < 0.01, `${v.pre}`);
});
