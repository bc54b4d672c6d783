import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "./errors.ts";
import { DEFAULT_FEE_RATES, feeSchedule, fillFees } from "./fees.ts";
import { fromDecimal as d, toDecimal } from "./money.ts";

const rates = { ...DEFAULT_FEE_RATES, secPerMillion: "27.8" };

test("a buy pays the CAT fee only; a sell pays SEC, TAF and CAT", () => {
  const s = feeSchedule(rates);
  const buy = fillFees(s, "buy", 0n, d(100), d(10000));
  assert.deepEqual(
    [buy.sec, buy.taf, toDecimal(buy.cat)],
    [0n, 0n, "0.00265"],
    "100 shares × 0.0000265",
  );
  const sell = fillFees(s, "sell", 0n, d(100), d(10000));
  assert.equal(toDecimal(sell.sec), "0.278");
  assert.equal(toDecimal(sell.taf), "0.0166");
  assert.equal(toDecimal(sell.total), "0.29725");
});

test("the TAF cap and CAT whole-share rounding hold per order, however it is split", () => {
  const s = feeSchedule(rates);
  const whole = fillFees(s, "sell", 0n, d(100000), d(1000000));
  assert.equal(toDecimal(whole.taf), "8.3", "capped");
  let taf = 0n;
  let cat = 0n;
  let before = 0n;
  for (const q of ["0.5", "30000", "29999.5", "40000"]) {
    const after = before + d(q);
    const f = fillFees(s, "sell", before, after, d(1));
    taf += f.taf;
    cat += f.cat;
    before = after;
  }
  assert.equal(taf, whole.taf);
  assert.equal(cat, whole.cat);
  assert.equal(toDecimal(fillFees(s, "buy", 0n, d("0.2"), d(30)).cat), "0.0000265", "one share");
});

test("a bad rate is TP_ERR_CONFIG naming the field", () => {
  assert.throws(
    () => feeSchedule({ ...rates, tafPerShare: "abc" }),
    (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && /fees\.tafPerShare/.test(e.message),
  );
});
