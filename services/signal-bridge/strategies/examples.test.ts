/**
 * The example strategies on hand-made price paths whose decisions can be worked out by eye.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ReplayQuote, replayStrategies } from "../strategy/replay.ts";
import { prepareSlot } from "../strategy/slot.ts";
import { BUILTIN_STRATEGIES } from "./index.ts";

const RULES = { minConfidence: 0, defaultQty: 10 };
/** 2026-06-15 (a Monday, daylight saving time: New York is UTC−4) at 00:00 UTC. */
const JUNE_15 = 1_781_481_600_000_000_000n;
const MINUTE = 60_000_000_000n;
/** nyTime is 2026-06-15 at hh:mm New York time (UTC−4) plus `days`. */
const nyTime = (hh: number, mm: number, days = 0) =>
  JUNE_15 + BigInt((days * 24 + hh + 4) * 60 + mm) * MINUTE;

function quote(timeNs: bigint, mid: number, symbol = "SPY"): ReplayQuote {
  return { symbol, timeNs, bidPrice: mid - 0.01, bidSize: 100, askPrice: mid + 0.01, askSize: 100 };
}

const run = (name: string, params: object, quotes: ReplayQuote[]) =>
  replayStrategies(
    [prepareSlot(BUILTIN_STRATEGIES[name]!, { id: name, params })],
    RULES,
    quotes,
  ).signals.map((s) => `${s.timeNs} ${s.direction > 0 ? "BUY" : "SELL"} ${s.votes[0]!.reason}`);

describe("ma-crossover", () => {
  // fast = SMA(2), slow = SMA(4): down, then up, then down again.
  const mids = [10, 9, 8, 7, 6, 7, 9, 11, 12, 11, 9, 7, 6];
  const quotes = mids.map((m, i) => quote(JUNE_15 + BigInt(i), m));

  it("buys the cross up and sells the cross down, once per crossing", () => {
    // i=3: both averages exist, fast 7.5 < slow 8.5 (the first side, no decision);
    // i=6: fast (7+9)/2 = 8 > slow (7+6+7+9)/4 = 7.25: cross up;
    // i=10: fast (11+9)/2 = 10 < slow (11+12+11+9)/4 = 10.75: cross down.
    assert.deepEqual(run("ma-crossover", { fast: 2, slow: 4 }, quotes), [
      `${JUNE_15 + 6n} BUY cross-up`,
      `${JUNE_15 + 10n} SELL cross-down`,
    ]);
  });
  it("minGapBps ignores crossings smaller than the gap", () => {
    // With 15%: the averages first stand apart at i=7 (fast 10, slow 8.25: +21%), which only
    // sets the side; the cross down at i=11 (8 vs 9.75: −18%) is the one decision.
    const signals = run("ma-crossover", { fast: 2, slow: 4, minGapBps: 1500 }, quotes);
    assert.deepEqual(signals, [`${JUNE_15 + 11n} SELL cross-down`]);
  });
  it("trend mode states the trend on every price change once warm", () => {
    const signals = run("ma-crossover", { fast: 2, slow: 4, mode: "trend" }, quotes);
    assert.equal(signals.length, mids.length - 3);
    assert.ok(signals.every((s) => s.endsWith("trend-up") || s.endsWith("trend-down")));
  });
  it("a repeated mid is not a crossing", () => {
    const flat = [10, 9, 8, 7, 7, 7, 7].map((m, i) => quote(JUNE_15 + BigInt(i), m));
    assert.deepEqual(run("ma-crossover", { fast: 2, slow: 4 }, flat), []);
  });
});

describe("opening-range-breakout", () => {
  const day = (days: number, path: [number, number, number][]) =>
    path.map(([hh, mm, mid]) => quote(nyTime(hh, mm, days), mid));
  const session: [number, number, number][] = [
    [9, 0, 50], // before the open: ignored
    [9, 30, 100],
    [9, 35, 101],
    [9, 40, 99.5],
    [9, 44, 100.5], // the range is 99.5 .. 101
    [9, 45, 100.9], // inside
    [9, 50, 101.2], // breakout up
    [10, 0, 98], // already traded today
  ];

  it("buys the first break above the range, once a day", () => {
    assert.deepEqual(run("opening-range-breakout", {}, day(0, session)), [
      `${nyTime(9, 50)} BUY breakout-up`,
    ]);
  });
  it("a new day builds a new range; a break below sells", () => {
    const second: [number, number, number][] = [
      [9, 31, 101],
      [9, 40, 102],
      [9, 46, 100.99],
      [15, 59, 100.5],
      [16, 1, 90], // after the close
    ];
    assert.deepEqual(run("opening-range-breakout", {}, [...day(0, session), ...day(1, second)]), [
      `${nyTime(9, 50)} BUY breakout-up`,
      `${nyTime(9, 46, 1)} SELL breakout-down`,
    ]);
  });
  it("breakoutBps and the range length are parameters", () => {
    const params = { rangeMinutes: 5, breakoutBps: 50 };
    // Range 9:30–9:35 is 100 .. 100 (only 9:30); 101 is 1% above: a breakout at 9:35.
    assert.deepEqual(run("opening-range-breakout", params, day(0, session)), [
      `${nyTime(9, 35)} BUY breakout-up`,
    ]);
    // 100.4 is less than 50 bps above 100: no breakout.
    assert.deepEqual(
      run(
        "opening-range-breakout",
        params,
        day(0, [
          [9, 30, 100],
          [9, 36, 100.4],
        ]),
      ),
      [],
    );
  });
  it("refuses a range that ends after the close", () => {
    assert.throws(
      () =>
        prepareSlot(BUILTIN_STRATEGIES["opening-range-breakout"]!, {
          id: "orb",
          params: { sessionCloseMinute: 580 },
        }),
      /strategy "orb": params\.rangeMinutes must end before params\.sessionCloseMinute/,
    );
  });
});
