/**
 * Attribution adds up: for random books of fills, every dimension's buckets sum to the total
 * to the cent, for each part, and the totals are those of a plain average-cost replay.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mulberry32 as rng } from "../core/random.ts";
import { allocateCents, attribute, centsText, toCents } from "./attribution.ts";

const SYMBOLS = ["AAPL", "MSFT", "XOM", "JPM", "NVDA"];
const SECTORS: Record<string, string> = {
  AAPL: "tech",
  MSFT: "tech",
  XOM: "energy",
  JPM: "finance",
};

function randomInput(seed: number) {
  const r = rng(seed);
  const n = 1 + Math.floor(r() * 60);
  const fills = Array.from({ length: n }, (_, i) => ({
    symbol: SYMBOLS[Math.floor(r() * SYMBOLS.length)]!,
    side: (r() < 0.5 ? "buy" : "sell") as "buy" | "sell",
    // Odd quantities and sub-cent prices and fees make rounding matter.
    qty: (1 + Math.floor(r() * 300)).toString() + (r() < 0.3 ? ".5" : ""),
    price: (10 + r() * 400).toFixed(4),
    commission: (r() * 0.9).toFixed(5),
    filledAt: new Date(Date.UTC(2026, 2, 2) + Math.floor(r() * 5 * 86400e3) + i).toISOString(),
  }));
  const marks = Object.fromEntries(SYMBOLS.map((s) => [s, (10 + r() * 400).toFixed(3)]));
  return { fills, marks, sectors: SECTORS, asOfDay: "2026-03-07" };
}

test("every dimension sums to the total to the cent, part by part (500 random books)", () => {
  for (let seed = 1; seed <= 500; seed += 1) {
    const a = attribute(randomInput(seed));
    for (const dim of ["bySymbol", "bySide", "bySector", "byDay"] as const) {
      for (const part of ["realized", "unrealized", "fees", "total"] as const) {
        const sum = a[dim].reduce((s, b) => s + b[part], 0n);
        assert.equal(
          sum,
          a.total[part],
          `seed ${seed}: ${dim}.${part} sums to ${sum}, total ${a.total[part]}`,
        );
      }
      for (const b of a[dim]) assert.equal(b.total, b.realized + b.unrealized - b.fees);
    }
  }
});

test("a round trip realizes the price difference, and fees come off", () => {
  const a = attribute({
    fills: [
      {
        symbol: "AAPL",
        side: "buy",
        qty: "10",
        price: "100",
        commission: "1",
        filledAt: "2026-03-02T15:00:00Z",
      },
      {
        symbol: "AAPL",
        side: "buy",
        qty: "10",
        price: "110",
        commission: "1",
        filledAt: "2026-03-02T15:01:00Z",
      },
      {
        symbol: "AAPL",
        side: "sell",
        qty: "15",
        price: "120",
        commission: "1",
        filledAt: "2026-03-03T15:00:00Z",
      },
      {
        symbol: "XOM",
        side: "sell",
        qty: "4",
        price: "50",
        commission: "0",
        filledAt: "2026-03-03T16:00:00Z",
      },
    ],
    marks: { AAPL: "100", XOM: "45" },
    sectors: { AAPL: "tech", XOM: "energy" },
    asOfDay: "2026-03-04",
  });
  // AAPL: avg 105, 15 sold at 120 → +225; 5 left marked at 100 → -25. XOM short 4 from 50 at 45 → +20.
  assert.equal(centsText(a.total.realized), "225.00");
  assert.equal(centsText(a.total.unrealized), "-5.00");
  assert.equal(centsText(a.total.fees), "3.00");
  assert.equal(centsText(a.total.total), "217.00");
  assert.deepEqual(
    a.bySide.map((b) => [b.key, centsText(b.total)]),
    [
      ["long", "197.00"],
      ["short", "20.00"],
    ],
  );
});

test("allocateCents keeps the rounded sum where rounding each part would not", () => {
  const parts = [4_000_000n, 4_000_000n, 4_000_000n]; // 0.004 each: 0.012 → 0.01
  assert.deepEqual(
    parts.map((p) => toCents(p)),
    [0n, 0n, 0n],
  );
  const cents = allocateCents(parts);
  assert.equal(
    cents.reduce((s, c) => s + c, 0n),
    1n,
  );
  assert.deepEqual(
    allocateCents([-4_000_000n, -4_000_000n, -4_000_000n]).reduce((s, c) => s + c, 0n),
    -1n,
  );
});
