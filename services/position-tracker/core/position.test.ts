import assert from "node:assert/strict";
import { test } from "node:test";
import { type Fixed, fromDecimal, mul, toDecimal } from "../../core/money.ts";
import { applyFill, averageCost, createPosition, markTo } from "./position.ts";

const d = fromDecimal;

test("buys average the cost; a partial sale realizes against the average", () => {
  const p = createPosition("XOM");
  applyFill(p, d(10), d(100));
  applyFill(p, d(10), d(110));
  assert.equal(toDecimal(averageCost(p)), "105");
  const e = applyFill(p, d(-5), d(120));
  assert.equal(toDecimal(e.realized), "75");
  assert.equal(toDecimal(p.qty), "15");
  assert.equal(toDecimal(averageCost(p)), "105");
  markTo(p, d(100));
  assert.equal(toDecimal(p.unrealized), "-75");
});

test("a sale through zero realizes the whole long and opens a short at the fill price", () => {
  const p = createPosition("XOM");
  applyFill(p, d(10), d(100));
  const e = applyFill(p, d(-15), d(110));
  assert.equal(toDecimal(e.realized), "100");
  assert.equal(toDecimal(p.qty), "-5");
  assert.equal(toDecimal(averageCost(p)), "110");
  assert.equal(toDecimal(p.unrealized), "0");
  const back = applyFill(p, d(8), d(100));
  assert.equal(toDecimal(back.realized), "50", "short 5 at 110 covered at 100");
  assert.equal(toDecimal(p.qty), "3");
  assert.equal(toDecimal(averageCost(p)), "100");
  assert.equal(toDecimal(p.realized), "150");
});

test("covering part of a short realizes the gain", () => {
  const p = createPosition("XOM");
  applyFill(p, d(-10), d(100));
  assert.equal(toDecimal(applyFill(p, d(4), d(90)).realized), "40");
  assert.equal(toDecimal(averageCost(p)), "100");
});

test("fractional quantities and sub-cent prices stay exact", () => {
  const p = createPosition("XOM");
  applyFill(p, d("0.333333333"), d("187.2345"));
  applyFill(p, d("0.666666667"), d("187.2355"));
  const e = applyFill(p, d(-1), d("190"));
  const cost = mul(d("0.333333333"), d("187.2345")) + mul(d("0.666666667"), d("187.2355"));
  assert.equal(e.realized, d(190) - cost);
  assert.equal(p.qty, 0n);
  assert.equal(p.cost, 0n as Fixed);
});

test("a partial close of a cost that does not divide evenly removes its share rounded half-even at 10^-9", () => {
  const p = createPosition("XOM");
  applyFill(p, d(1), d("10.00"));
  applyFill(p, d(2), d("10.01"));
  assert.equal(toDecimal(p.cost), "30.02");
  // 30.02 / 3 = 10.00666666666…: one share takes 10.006666667, two keep 20.013333333.
  const first = applyFill(p, d(-1), d("10.00"));
  assert.equal(toDecimal(first.realized), "-0.006666667");
  assert.equal(toDecimal(p.cost), "20.013333333");
  assert.equal(toDecimal(p.qty), "2");
  const rest = applyFill(p, d(-2), d("10.00"));
  assert.equal(toDecimal(rest.realized), "-0.013333333");
  assert.equal(toDecimal(p.realized), "-0.02", "the rounded shares add back to the exact loss");
  assert.equal(p.cost, 0n as Fixed);
});

test("a partial close that lands on half a nano-dollar rounds to the even digit", () => {
  const p = createPosition("XOM");
  applyFill(p, d(1), d("1.000000000"));
  applyFill(p, d(1), d("1.000000001"));
  // Half of 2.000000001 is 1.0000000005: half-even takes 1.000000000 and leaves 1.000000001.
  const e = applyFill(p, d(-1), d(2));
  assert.equal(toDecimal(e.realized), "1");
  assert.equal(toDecimal(p.cost), "1.000000001");
  applyFill(p, d(-1), d(2));
  assert.equal(toDecimal(p.realized), "1.999999999");
  assert.equal(p.cost, 0n as Fixed);
});
