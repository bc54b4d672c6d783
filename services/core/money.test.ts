import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "./errors.ts";
import {
  bpsDiff,
  div,
  divRound,
  formatMoney,
  formatPrice,
  fromDecimal,
  mul,
  roundTo,
  toDecimal,
} from "./money.ts";

test("fromDecimal and toDecimal round-trip exactly", () => {
  for (const s of ["0", "1", "-1", "123.45", "0.000000001", "-98765.4321", "1000000000000"]) {
    assert.equal(toDecimal(fromDecimal(s)), s);
  }
  assert.equal(toDecimal(fromDecimal("1.50"), 2), "1.50");
  assert.equal(toDecimal(fromDecimal(0.1)), "0.1");
});

test("0.1 + 0.2 is exactly 0.3", () => {
  assert.equal(toDecimal(fromDecimal("0.1") + fromDecimal("0.2")), "0.3");
});

test("mul and div are exact to nine places with half-even rounding", () => {
  assert.equal(toDecimal(mul(fromDecimal("187.23"), fromDecimal("300"))), "56169");
  assert.equal(toDecimal(div(fromDecimal("10"), fromDecimal("3"))), "3.333333333");
  assert.equal(divRound(5n, 2n), 2n);
  assert.equal(divRound(7n, 2n), 4n);
  assert.equal(divRound(-7n, 2n), -4n);
  assert.equal(toDecimal(roundTo(fromDecimal("1.005"), 2)), "1");
  assert.equal(toDecimal(roundTo(fromDecimal("1.015"), 2)), "1.02");
});

test("bpsDiff measures slippage in basis points", () => {
  assert.equal(toDecimal(bpsDiff(fromDecimal("100.5"), fromDecimal("100"))), "50");
});

test("bad input names the value", () => {
  for (const bad of ["", "abc", "1e5", "1.2.3", "0.0000000001"]) {
    assert.throws(
      () => fromDecimal(bad),
      (e) =>
        isTradepipeError(e, "TP_ERR_INVALID_DECIMAL") && e.message.includes(JSON.stringify(bad)),
    );
  }
});

test("formatMoney rounds half-even to the cent; formatPrice keeps a price's tick", () => {
  assert.equal(formatMoney(fromDecimal("3.608888888")), "3.61");
  assert.equal(formatMoney(fromDecimal("12.5")), "12.50");
  assert.equal(formatMoney(fromDecimal("0.125")), "0.12");
  assert.equal(formatMoney(fromDecimal("0.135")), "0.14");
  assert.equal(formatMoney(fromDecimal("-4.1")), "-4.10");
  assert.equal(formatPrice(fromDecimal("120.015333333")), "120.02");
  assert.equal(formatPrice(fromDecimal("1")), "1.00");
  assert.equal(formatPrice(fromDecimal("0.123456")), "0.1235");
});
