import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../core/money.ts";
import type { FillRow } from "./load.ts";
import { usd } from "./render.ts";
import { drawdownOf, replayFills, windowed } from "./replay.ts";

const fill = (
  at: number,
  symbol: string,
  side: "buy" | "sell",
  qty: string,
  price: string,
): FillRow => ({
  at,
  clientOrderId: `o${at}`,
  symbol,
  side,
  qty: fromDecimal(qty),
  price: fromDecimal(price),
});
const d = (v: string) => fromDecimal(v);

test("replayFills: a fill that crosses zero closes the lot and opens the rest at its price", () => {
  const r = replayFills([
    fill(1, "X", "buy", "10", "100"),
    fill(2, "X", "sell", "15", "110"), // +100 realized, now short 5 @110
    fill(3, "X", "buy", "5", "100"), // +50 realized, flat
  ]);
  assert.deepEqual(
    r.pnl.map((p) => p.value),
    [d("0"), d("100"), d("150")],
  );
  assert.deepEqual(r.bySymbol.get("X"), { realized: d("150"), unrealized: d("0") });
  assert.deepEqual([r.closingFills, r.wins, r.losses], [2, 2, 0]);
});

test("replayFills: a losing close, a scratch, and the window for the win rate", () => {
  const fills = [
    fill(1, "A", "buy", "1", "10"),
    fill(2, "A", "sell", "1", "9"), // −1
    fill(3, "B", "buy", "2", "5"),
    fill(4, "B", "sell", "2", "5"), // scratch
    fill(5, "A", "buy", "1", "10"),
    fill(6, "A", "sell", "1", "12"), // +2
  ];
  const all = replayFills(fills);
  assert.deepEqual([all.closingFills, all.wins, all.losses], [3, 1, 1]);
  const late = replayFills(fills, 4);
  assert.deepEqual([late.closingFills, late.wins, late.losses], [2, 1, 0]);
  assert.equal(all.pnl.at(-1)!.value, d("1"));
});

test("windowed starts the window at the value the curve had then", () => {
  const curve = [
    { at: 1, value: d("1") },
    { at: 5, value: d("3") },
    { at: 9, value: d("2") },
  ];
  assert.deepEqual(windowed(curve, 4), [
    { at: 4, value: d("1") },
    { at: 5, value: d("3") },
    { at: 9, value: d("2") },
  ]);
  assert.deepEqual(windowed(curve, 5)[0], { at: 5, value: d("3") });
  assert.deepEqual(windowed(curve, 10), [{ at: 10, value: d("2") }]);
  assert.deepEqual(windowed(curve, undefined), curve);
});

test("drawdownOf: distance below the running peak, deepest point and its peak", () => {
  const dd = drawdownOf([5, 8, 6, 9, 4, 7].map((v, i) => ({ at: i, value: d(String(v)) })));
  assert.deepEqual(
    dd.series.map((p) => p.value),
    [0, 0, -2, 0, -5, -2].map((v) => d(String(v))),
  );
  assert.equal(dd.max, d("-5"));
  assert.equal(dd.maxAt, 4);
  assert.equal(dd.peakAtMax, d("9"));
  assert.deepEqual(drawdownOf([]), { series: [], max: 0n, maxAt: null, peakAtMax: null });
});

test("usd: cents, thousands separators, sign", () => {
  assert.equal(usd(d("1234567.891")), "1,234,567.89");
  assert.equal(usd(d("-0.5")), "-0.50");
  assert.equal(usd(d("999.995")), "1,000.00");
  assert.equal(usd(0n), "0.00");
});
