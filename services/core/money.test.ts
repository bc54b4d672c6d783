import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "./errors.ts";
import {
  abs,
  bpsDiff,
  div,
  divRound,
  divWide,
  formatDecimalMoney,
  formatDecimalPrice,
  formatMoney,
  formatPrice,
  fromDecimal,
  fromWide,
  max,
  min,
  mul,
  mulCeil,
  mulWide,
  NumberMemo,
  quoteNumbers,
  roundTo,
  toDecimal,
  toNumber,
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

test("fromDecimal takes a sign, surrounding spaces, whole bigints and finite numbers", () => {
  assert.equal(fromDecimal("+2.5"), 2_500_000_000n);
  assert.equal(fromDecimal("  -0.25\n"), -250_000_000n);
  assert.equal(fromDecimal(7n), 7_000_000_000n);
  assert.equal(fromDecimal(-3n), -3_000_000_000n);
  assert.equal(fromDecimal(1e20), 10n ** 29n, "a large number is read without exponent notation");
  assert.equal(fromDecimal(-0.000000001), -1n);
});

test("digits beyond the ninth place are accepted only when they are zeros", () => {
  assert.equal(fromDecimal("1.1234567890000"), 1_123_456_789n);
  assert.throws(
    () => fromDecimal("1.0000000001"),
    (e) =>
      isTradepipeError(e, "TP_ERR_INVALID_DECIMAL") && /more than 9 decimal places/.test(e.message),
  );
});

test("a number that is not finite is refused by name", () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    assert.throws(
      () => fromDecimal(bad),
      (e) => isTradepipeError(e, "TP_ERR_INVALID_DECIMAL") && e.message.includes(String(bad)),
    );
  }
});

test("toDecimal pads to the fraction asked for and never drops a sign or a digit", () => {
  assert.equal(toDecimal(-1n), "-0.000000001");
  assert.equal(toDecimal(fromDecimal("-12.5"), 3), "-12.500");
  assert.equal(toDecimal(fromDecimal("12.345"), 2), "12.345", "more places than asked are kept");
  assert.equal(toDecimal(0n, 2), "0.00");
  assert.equal(toDecimal(fromDecimal("10")), "10");
});

test("toNumber is the value as a float, for indicators only", () => {
  assert.equal(toNumber(fromDecimal("187.25")), 187.25);
  assert.equal(toNumber(fromDecimal("-0.5")), -0.5);
});

test("divRound rounds half to even for every sign combination and refuses zero", () => {
  assert.equal(divRound(5n, 2n), 2n);
  assert.equal(divRound(3n, 2n), 2n);
  assert.equal(divRound(-5n, 2n), -2n);
  assert.equal(divRound(5n, -2n), -2n);
  assert.equal(divRound(-5n, -2n), 2n);
  assert.equal(divRound(-3n, -2n), 2n);
  assert.equal(divRound(7n, 3n), 2n, "below the half rounds down");
  assert.equal(divRound(8n, 3n), 3n, "above the half rounds up");
  assert.equal(divRound(-8n, 3n), -3n);
  assert.equal(divRound(6n, 3n), 2n);
  assert.throws(() => divRound(1n, 0n), { name: "RangeError", message: "division by zero" });
});

test("a notional kept wide divides back to the exact price; a charge rounds up", () => {
  const price = fromDecimal("187.123456789");
  const qty = fromDecimal("3");
  const notional = mulWide(price, qty);
  assert.equal(notional, price * qty, "the wide product is exact");
  assert.equal(divWide(notional, qty), price);
  assert.equal(fromWide(notional), mul(price, qty));
  assert.equal(fromWide(1_500_000_000n), 2n, "half-even at the ninth place");
  assert.equal(fromWide(2_500_000_000n), 2n);
  assert.equal(divWide(10n * 10n ** 18n, fromDecimal("3")), 3_333_333_333n);
  assert.equal(
    mulCeil(fromDecimal("0.000000001"), fromDecimal("0.5")),
    1n,
    "a fraction of a unit is charged whole",
  );
  assert.equal(
    mulCeil(fromDecimal("2"), fromDecimal("3")),
    fromDecimal("6"),
    "an exact product is not raised",
  );
  assert.equal(mulCeil(-1n, fromDecimal("0.5")), 0n, "a credit is not inflated");
  assert.equal(mulCeil(0n, fromDecimal("5")), 0n);
});

test("abs, min and max compare exact values", () => {
  assert.equal(abs(fromDecimal("-1.5")), fromDecimal("1.5"));
  assert.equal(abs(fromDecimal("1.5")), fromDecimal("1.5"));
  assert.equal(abs(0n), 0n);
  assert.equal(min(1n, 2n), 1n);
  assert.equal(min(2n, 1n), 1n);
  assert.equal(max(1n, 2n), 2n);
  assert.equal(max(2n, 1n), 2n);
  assert.equal(min(-3n, -3n), -3n);
});

test("bpsDiff is unsigned and relative to the second price", () => {
  assert.equal(toDecimal(bpsDiff(fromDecimal("99.5"), fromDecimal("100"))), "50");
  assert.equal(toDecimal(bpsDiff(fromDecimal("100"), fromDecimal("50"))), "10000");
  assert.equal(bpsDiff(fromDecimal("42"), fromDecimal("42")), 0n);
});

test("prices at or above a dollar show cents, below a dollar four places, by magnitude", () => {
  assert.equal(formatPrice(fromDecimal("0.99995")), "1.0000");
  assert.equal(formatPrice(fromDecimal("-2.345")), "-2.34");
  assert.equal(formatPrice(fromDecimal("-0.12345")), "-0.1234");
  assert.equal(formatDecimalPrice("0.123456"), "0.1235");
  assert.equal(formatDecimalPrice("120.015"), "120.02");
  assert.equal(formatDecimalMoney("3.608888888"), "3.61");
  assert.equal(formatDecimalMoney("-0.005"), "0.00");
});

test("NumberMemo gives toNumber's value for every input, repeated or not", () => {
  const memo = new NumberMemo();
  const values = [0n, 0n, 5n, 5n, -5n, 123_450_000_000n, 123_450_000_000n, 0n, 1n, 2n ** 70n];
  for (const v of values) assert.equal(memo.of(v), toNumber(v), `${v}`);
  const q = quoteNumbers();
  assert.equal(q.bid.of(100_000_000_000n), 100);
  assert.equal(q.ask.of(100_010_000_000n), 100.01);
  assert.equal(q.bid.of(99_990_000_000n), 99.99);
  assert.equal(q.bidSize.of(0n), 0);
});
