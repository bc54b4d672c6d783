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

/** refused: the call throws TP_ERR_INVALID_MESSAGE with a message matching `re`. */
function refused(call: () => unknown, re: RegExp, what = re.source): void {
  assert.throws(
    call,
    (err: unknown) => isTradepipeError(err, "TP_ERR_INVALID_MESSAGE") && re.test(err.message),
    what,
  );
}

describe("decodeAlpacaMarketData refusals", () => {
  const T = "2024-01-01T00:00:00Z";
  it("names every field of a quote, trade and level, and what is wrong with it", () => {
    const cases = [
      [null, /^message is not an object$/],
      ["q", /^message is not an object$/],
      [{ T: "q", S: 5, t: T }, /^q\.S is not a symbol$/],
      [
        { T: "q", S: "X", t: T, bp: "x", bs: 1, ap: 1, as: 1 },
        /^q\[X\]\.bp is not a decimal \("x"\)$/,
      ],
      [{ T: "q", S: "X", t: T, bp: 1, bs: "x", ap: 1, as: 1 }, /^q\[X\]\.bs is not a decimal/],
      [{ T: "q", S: "X", t: T, bp: 1, bs: 1, ap: "x", as: 1 }, /^q\[X\]\.ap is not a decimal/],
      [
        { T: "q", S: "X", t: T, bp: 1, bs: 1, ap: 1 },
        /^q\[X\]\.as is missing or not a number \(undefined\)$/,
      ],
      [{ T: "t", S: "X", t: T, p: Number.NaN, s: 1 }, /^t\[X\]\.p is not a finite number \(NaN\)$/],
      [
        { T: "t", S: "X", t: T, p: 1, s: Number.POSITIVE_INFINITY },
        /^t\[X\]\.s is not a finite number/,
      ],
      [{ T: "o", S: "X", t: T, b: [5] }, /^o\[X\]\.b\[0\] is not a \{p,s\} level$/],
      [
        { T: "o", S: "X", t: T, b: [{ p: 1, s: 1 }, null] },
        /^o\[X\]\.b\[1\] is not a \{p,s\} level$/,
      ],
      [{ T: "o", S: "X", t: T, b: [{ p: 1, s: "x" }] }, /^o\[X\]\.b\[0\]\.s is not a decimal/],
      [{ T: "o", S: "X", t: T, a: [{ p: 0, s: 1 }] }, /^o\[X\]\.a\[0\]\.p must be positive$/],
      [{ T: "o", S: "X", t: T, a: [{ p: 1, s: -1 }] }, /^o\[X\]\.a\[0\]\.s must not be negative$/],
    ] as const;
    for (const [msg, re] of cases) refused(() => decodeAlpacaMarketData(msg), re);
  });

  it("a trade without an id has id 0; absent or null levels are empty", () => {
    const t = decodeAlpacaMarketData({ T: "t", S: "X", t: T, p: 1, s: 1 });
    assert.equal(t?.type === "trade" && t.tradeId, 0);
    const o = decodeAlpacaMarketData({ T: "o", S: "X", t: T, b: null });
    assert.deepEqual(o?.type === "book" && [o.bids, o.asks], [[], []]);
  });
});

describe("fixedFromWire at and above a million", () => {
  it("reads a feed number to the decimal the feed wrote, not the double's binary digits", () => {
    // Found by mutation testing: these went through toFixed(9) and came out as 28509504.399999999.
    for (const text of [
      "28509504.4",
      "78126272.2",
      "98765432.123",
      "123456789.123456",
      "1000000",
    ]) {
      assert.equal(fixedFromWire(Number(text), "s"), fromDecimal(text), text);
      assert.equal(fixedFromWire(-Number(text), "s"), -fromDecimal(text), `-${text}`);
    }
  });
});

describe("timeFromWire forms", () => {
  it("reads nanoseconds given as a bigint, and MessagePack {sec, nsec}", () => {
    assert.equal(timeFromWire(1_710_239_930_796_132_210n, "t"), 1_710_239_930_796_132_210n);
    assert.equal(timeFromWire({ sec: 2, nsec: 7 }, "t"), 2_000_000_007n);
  });

  it("refuses a missing or half time with the field's name", () => {
    for (const v of [undefined, null, 5, { sec: 1 }, { nsec: 1 }, { sec: "1", nsec: 0 }]) {
      refused(() => timeFromWire(v, "q[X].t"), /^q\[X\]\.t is missing or not a time$/, String(v));
    }
  });

  it("applies positive and negative offsets, hours and minutes, and a lower-case z", () => {
    const utc = timeFromWire("2024-03-12T10:38:50.5Z", "t");
    assert.equal(timeFromWire("2024-03-12T16:08:50.5+05:30", "t"), utc);
    assert.equal(timeFromWire("2024-03-12T05:38:50.5-05:00", "t"), utc);
    assert.equal(timeFromWire("2024-03-12T10:38:50.5z", "t"), utc);
    assert.equal(timeFromWire("2024-03-12 10:38:50.5Z", "t"), utc);
  });

  it("counts days right on both sides of February in leap and common years", () => {
    for (const date of [
      "2023-01-31",
      "2023-02-01",
      "2023-02-28",
      "2023-03-01",
      "2024-01-15",
      "2024-02-29",
      "2024-03-01",
      "2100-02-28",
      "2100-03-01",
    ]) {
      const expected = BigInt(Date.parse(`${date}T12:34:56Z`)) * 1_000_000n;
      assert.equal(timeFromWire(`${date}T12:34:56Z`, "t"), expected, date);
      assert.equal(timeFromWire(`${date}T12:34:56+00:00`, "t"), expected, `${date} (offset)`);
    }
  });

  it("refuses every malformed time, whichever parser reads it", () => {
    const good = "2024-01-02T03:04:05.123Z";
    const bad = [
      "2024-01-02T03:04:05.1234", // no zone
      "2024-01-02x03:04:05Z",
      "2024-0a-02T03:04:05Z",
      "2024-01-02T03-04:05Z",
      "2024-01-02T03:04-05Z",
      "2024-01-02T03:04:05x123Z",
      "x2024-01-02T03:04:05+01:00",
      "2024-01-02T03:04:05+01:00x",
    ];
    // A non-digit just below or above '0'..'9' (and a letter) in each digit of the time.
    for (const at of [11, 12, 14, 15, 17, 18, 20, 21, 22]) {
      for (const ch of ["/", ":", "x"]) bad.push(good.slice(0, at) + ch + good.slice(at + 1));
    }
    for (const v of bad) refused(() => timeFromWire(v, "t"), /^t is not an RFC-3339 time/, v);
  });
});
