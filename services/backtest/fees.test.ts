import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal, toDecimal } from "../core/money.ts";
import { ceilCent, commissionFor, NO_COMMISSION, parseCommission } from "./fees.ts";

describe("commission", () => {
  it("is zero by default, as Alpaca's", () => {
    assert.equal(commissionFor(NO_COMMISSION, fromDecimal(100), true), 0n);
  });

  it("charges per share and once per order, rounded up to the cent (hand-worked)", () => {
    const c = parseCommission("0.005/1");
    // 333 shares × 0.005 = 1.665 → 1.67; plus 1 on the order's first fill.
    assert.equal(toDecimal(commissionFor(c, fromDecimal(333), true), 2), "2.67");
    assert.equal(toDecimal(commissionFor(c, fromDecimal(333), false), 2), "1.67");
  });

  it("ceilCent rounds up, never down", () => {
    assert.equal(toDecimal(ceilCent(fromDecimal("0.001")), 2), "0.01");
    assert.equal(toDecimal(ceilCent(fromDecimal("0.01")), 2), "0.01");
    assert.equal(toDecimal(ceilCent(fromDecimal(0)), 2), "0.00");
  });
});
