/** Every refusal of malformed feed data names its field; numbers and times in each form they arrive in. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { fromDecimal } from "../../core/money.ts";
import { decodeAlpacaMarketData, fixedFromWire, timeFromWire } from "./alpaca-decode.ts";

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
