import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { fromDecimal } from "../../core/money.ts";
import { decodeAlpacaMarketData, fixedFromWire, timeFromWire } from "./alpaca-decode.ts";

describe("decodeAlpacaMarketData", () => {
  it("decodes a crypto order book snapshot and delta", () => {
    const snap = decodeAlpacaMarketData({
      T: "o",
      S: "BTC/USD",
      t: "2024-03-12T10:38:50.79613221Z",
      b: [{ p: 71859.53, s: 0.27994 }],
      a: [{ p: 71880.2, s: 0.4 }],
      r: true,
    });
    assert.deepEqual(snap, {
      type: "book",
      symbol: "BTC/USD",
      seq: undefined,
      timeNs: 1710239930796132210n,
      reset: true,
      bids: [{ price: fromDecimal("71859.53"), size: fromDecimal("0.27994") }],
      asks: [{ price: fromDecimal("71880.2"), size: fromDecimal("0.4") }],
    });
    const delta = decodeAlpacaMarketData({
      T: "o",
      S: "BTC/USD",
      t: "2024-03-12T10:38:50.8Z",
      b: [{ p: 71859.53, s: 0 }],
    });
    assert.equal(delta?.type === "book" && delta.reset, false);
    assert.equal(delta?.type === "book" && delta.bids[0]!.size, 0n);
    assert.deepEqual(delta?.type === "book" && delta.asks, []);
  });

  it("decodes quotes and trades", () => {
    const q = decodeAlpacaMarketData({
      T: "q",
      S: "AAPL",
      bp: 187.25,
      bs: 3,
      ap: 187.27,
      as: 5,
      t: "2025-06-24T14:15:22-04:00",
    });
    assert.equal(q?.type === "quote" && q.askPrice, fromDecimal("187.27"));
    assert.equal(q?.timeNs, 1750788922000000000n);
    const t = decodeAlpacaMarketData({
      T: "t",
      S: "AAPL",
      p: "187.26",
      s: 100,
      i: 52983525029461,
      t: { sec: 1, nsec: 5 },
    });
    assert.equal(t?.type === "trade" && t.price, fromDecimal("187.26"));
    assert.equal(t?.type === "trade" && t.tradeId, 52983525029461);
    assert.equal(t?.timeNs, 1_000_000_005n);
  });

  it("ignores control and other message types", () => {
    assert.equal(decodeAlpacaMarketData({ T: "success", msg: "authenticated" }), undefined);
    assert.equal(decodeAlpacaMarketData({ T: "b", S: "AAPL" }), undefined);
  });

  it("names the bad field on malformed data", () => {
    const bad = [
      [{ T: "o", S: "X", t: "2024-01-01T00:00:00Z", b: [{ p: "abc", s: 1 }] }, /o\[X\]\.b\[0\]\.p/],
      [{ T: "o", S: "X", t: "2024-01-01T00:00:00Z", a: [{ p: 1, s: -1 }] }, /o\[X\]\.a\[0\]\.s/],
      [{ T: "q", S: "X", t: "yesterday" }, /q\[X\]\.t is not an RFC-3339/],
      [{ T: "t", S: "", t: "2024-01-01T00:00:00Z" }, /t\.S/],
      [{ T: "o", S: "X", t: "2024-01-01T00:00:00Z", b: 3 }, /o\[X\]\.b is not an array/],
    ] as const;
    for (const [msg, re] of bad) {
      assert.throws(
        () => decodeAlpacaMarketData(msg),
        (err: unknown) => isTradepipeError(err, "TP_ERR_INVALID_MESSAGE") && re.test(err.message),
      );
    }
  });
});

describe("fixedFromWire", () => {
  it("is exact for feed numbers on both sides of the fast path", () => {
    const cases = ["0.1", "0.27994", "71859.53", "999999.999999999", "1234567.89", "0.000000001"];
    for (const c of cases) assert.equal(fixedFromWire(Number(c), "p"), fromDecimal(c), c);
  });

  it("agrees with the decimal parser over many random 9-place values", () => {
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const units = seed % 1_000_000;
      const frac = String((seed * 31) % 1_000_000_000).padStart(9, "0");
      const text = `${units}.${frac}`;
      assert.equal(fixedFromWire(Number(text), "p"), fromDecimal(text), text);
    }
  });
});

describe("timeFromWire", () => {
  it("reads the Unix epoch and leap-year dates", () => {
    assert.equal(timeFromWire("1970-01-01T00:00:00Z", "t"), 0n);
    assert.equal(timeFromWire("2000-03-01T00:00:00Z", "t"), 951868800n * 1_000_000_000n);
    assert.equal(timeFromWire("1969-12-31T23:59:59.5Z", "t"), -500_000_000n);
  });
});

describe("timeFromWire fast path", () => {
  it("agrees with the general parser for every fraction length", () => {
    for (const frac of ["", ".5", ".79", ".796", ".7961322", ".79613221", ".796132210"]) {
      const utc = `2024-03-12T10:38:50${frac}Z`;
      const viaOffset = `2024-03-12T10:38:50${frac}+00:00`; // takes the general parser
      assert.equal(timeFromWire(utc, "t"), timeFromWire(viaOffset, "t"), utc);
    }
    assert.equal(
      timeFromWire("2024-03-13T00:00:00Z", "t"),
      timeFromWire("2024-03-12T24:00:00Z", "t"),
    );
  });

  it("falls back or refuses on malformed times", () => {
    assert.throws(() => timeFromWire("2024-03-12T10:38:5xZ", "t"), /t is not an RFC-3339/);
    assert.throws(() => timeFromWire("2024-03-12T10:38:50.Z", "t"), /t is not an RFC-3339/);
    assert.throws(() => timeFromWire("2024-03-12T10:38:50.1234567891Z", "t"), /RFC-3339/);
  });
});
