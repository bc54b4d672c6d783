import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../core/money.ts";
import {
  barFromWire,
  fixedFromWire,
  orderBookFromWire,
  quoteFromWire,
  tradeFromWire,
} from "./market-data.ts";

test("fixedFromWire turns feed doubles into the exact decimal", () => {
  assert.equal(fixedFromWire(187.1234), fromDecimal("187.1234"));
  assert.equal(fixedFromWire(0.1 + 0.2), fromDecimal("0.3"));
  assert.equal(fixedFromWire(-12.5), fromDecimal("-12.5"));
  assert.equal(fixedFromWire(123456789012), fromDecimal("123456789012"));
  assert.equal(fixedFromWire("99.99"), fromDecimal("99.99"));
});

test("quotes and trades decode from JSON (string t) and MessagePack (bigint t)", () => {
  const q = quoteFromWire({
    T: "q",
    S: "AAPL",
    bx: "V",
    bp: 187.12,
    bs: 3,
    ax: "Q",
    ap: 187.14,
    as: 5,
    c: ["R"],
    t: "2026-03-02T14:30:00.000000123Z",
    z: "C",
  });
  assert.equal(q.bidPrice, fromDecimal("187.12"));
  assert.equal(q.askSize, fromDecimal("5"));
  assert.equal(q.timestampNs, 1772461800000000123n);
  const t = tradeFromWire({
    T: "t",
    S: "AAPL",
    i: 7,
    x: "V",
    p: 187.13,
    s: 100,
    t: 5n,
    c: [],
    z: "C",
  });
  assert.equal(t.price, fromDecimal("187.13"));
  assert.equal(t.timestampNs, 5n);
  assert.equal(t.id, 7);
});

test("bars keep vwap exact to nine places", () => {
  const b = barFromWire(
    { t: "2026-03-02T14:30:00Z", o: 1.5, h: 2, l: 1, c: 1.75, v: 1234567, n: 12, vw: 1.612345678 },
    "SPY",
  );
  assert.equal(b.symbol, "SPY");
  assert.equal(b.vwap, 1_612_345_678n);
  assert.equal(b.volume, fromDecimal("1234567"));
});

test("order-book messages keep sides and the reset flag", () => {
  const o = orderBookFromWire({
    T: "o",
    S: "AAPL",
    t: "2026-03-02T14:30:00Z",
    b: [{ p: 187.12, s: 300 }],
    a: [
      { p: 187.14, s: 0 },
      { p: 187.15, s: 200 },
    ],
    r: true,
  });
  assert.equal(o.reset, true);
  assert.deepEqual(o.bids, [{ price: fromDecimal("187.12"), size: fromDecimal("300") }]);
  assert.equal(o.asks[0]?.size, 0n);
  assert.equal(orderBookFromWire({ T: "o", S: "X", t: 1n, b: [], a: [] }).reset, false);
});
