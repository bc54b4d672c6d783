import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal, toDecimal } from "../core/money.ts";
import { ceilCent, DEFAULT_FEES, feesFor } from "./fees.ts";

const show = (f: ReturnType<typeof feesFor>) =>
  [f.commission, f.secFee, f.finraTaf, f.total].map((v) => toDecimal(v, 2)).join(" ");

describe("fees", () => {
  it("charges nothing on buys at Alpaca's zero commission", () => {
    assert.equal(
      show(feesFor(DEFAULT_FEES, "buy", fromDecimal(100), fromDecimal("190.00"), true)),
      "0.00 0.00 0.00 0.00",
    );
  });

  it("charges the SEC fee and FINRA TAF on sells, rounded up to the cent (hand-worked)", () => {
    // 100 × 190 = 19,000 notional × 0.0000278 = 0.5282 → 0.53; TAF 100 × 0.000166 = 0.0166 → 0.02.
    assert.equal(
      show(feesFor(DEFAULT_FEES, "sell", fromDecimal(100), fromDecimal(190), true)),
      "0.00 0.53 0.02 0.55",
    );
  });

  it("caps the TAF per execution and charges the per-order commission once", () => {
    const schedule = {
      ...DEFAULT_FEES,
      commissionPerShare: fromDecimal("0.005"),
      commissionPerOrder: fromDecimal(1),
    };
    // 100,000 shares × 0.000166 = 16.60 → capped at 8.30; commission 500 + 1 on the first fill.
    const first = feesFor(schedule, "sell", fromDecimal(100_000), fromDecimal(1), true);
    assert.equal(show(first), "501.00 2.78 8.30 512.08");
    const later = feesFor(schedule, "sell", fromDecimal(100_000), fromDecimal(1), false);
    assert.equal(toDecimal(later.commission, 2), "500.00");
  });

  it("ceilCent rounds up, never down", () => {
    assert.equal(toDecimal(ceilCent(fromDecimal("0.001")), 2), "0.01");
    assert.equal(toDecimal(ceilCent(fromDecimal("0.01")), 2), "0.01");
    assert.equal(toDecimal(ceilCent(fromDecimal(0)), 2), "0.00");
  });
});
