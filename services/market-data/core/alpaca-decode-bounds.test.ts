/**
 * Feed numbers past the fast path's range (where `round(x·1e9)` of a double is off by tens of
 * nano-units) and past nine places; times with a character just below '0' after a digit.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { fromDecimal } from "../../core/money.ts";
import { fixedFromWire, timeFromWire } from "./alpaca-decode.ts";

describe("fixedFromWire beyond the fast path", () => {
  it("numbers whose scaled double is not an integer still decode to the decimal sent", () => {
    // round(277303612.08 × 1e9) is 277303612079999968.
    for (const text of ["277303612.08", "394156344.5817", "-345477760.46629"]) {
      assert.equal(fixedFromWire(Number(text), "p"), fromDecimal(text), text);
    }
  });

  it("more than nine places are rounded to nine, above a million as below", () => {
    assert.equal(fixedFromWire(1234567.1234567892, "s"), fromDecimal("1234567.123456789"));
    assert.equal(fixedFromWire(0.1234567891, "s"), fromDecimal("0.123456789"));
  });
});

describe("timeFromWire digits", () => {
  it("refuses a time whose second digit of an hour, minute or second is just below '0'", () => {
    for (const v of ["2024-01-02T1/:04:05Z", "2024-01-02T03:1/:05Z", "2024-01-02T03:04:1/Z"]) {
      assert.throws(
        () => timeFromWire(v, "t"),
        (e: unknown) => isTradepipeError(e, "TP_ERR_INVALID_MESSAGE") && /RFC-3339/.test(e.message),
        v,
      );
    }
  });
});
