/**
 * Attribution adds up: for random books of fills, every dimension's buckets sum to the total
 * to the cent, for each part, and the totals are those of a plain average-cost replay. Carried
 * forward, it equals a full replay: random fills arriving in random batches, some committed
 * late with a lower id or an earlier time, the state saved and read back (a restart) between
 * batches.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../core/money.ts";
import { mulberry32 as rng } from "../core/random.ts";
import {
  allocateCents,
  attribute,
  centsText,
  comesAfter,
  type LedgerFill,
  ledgerFromJson,
  ledgerToJson,
  planSync,
  type RollupRow,
  replayLedgers,
  type SymbolLedger,
  split,
  toCents,
} from "./attribution.ts";

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

/** tally: fills_rollup as the database's triggers keep it, from the committed fills. */
function tally(fills: readonly LedgerFill[]): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const f of fills) {
    const key = `${f.symbol}|${f.side}`;
    const r = rows.get(key) ?? {
      symbol: f.symbol,
      side: f.side,
      n: 0,
      commission: 0n,
      lastAtUs: -1n,
    };
    r.n += 1;
    r.commission += fromDecimal(f.commission);
    if (f.atUs > r.lastAtUs) r.lastAtUs = f.atUs;
    rows.set(key, r);
  }
  return [...rows.values()];
}

test("carried forward equals a full replay: random batches, late commits, restarts (300 runs)", () => {
  const view = { marks: { AAPL: "101.5", MSFT: "97.25", XOM: "45" }, sectors: SECTORS };
  let extended = 0;
  let replayed = 0;
  for (let seed = 1; seed <= 300; seed += 1) {
    const r = rng(seed);
    const n = 1 + Math.floor(r() * 120);
    const t0 = BigInt(Date.UTC(2026, 2, 2)) * 1000n;
    // Ids in insert order; times mostly rising with the id, some equal, some earlier.
    const fills: LedgerFill[] = Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      atUs:
        t0 +
        BigInt(i) * 3_600_000_000n -
        (r() < 0.15 ? BigInt(Math.floor(r() * 4)) * 3_600_000_000n : 0n),
      symbol: SYMBOLS[Math.floor(r() * SYMBOLS.length)]!,
      side: r() < 0.5 ? "buy" : "sell",
      qty: (1 + Math.floor(r() * 300)).toString() + (r() < 0.3 ? ".5" : ""),
      price: (10 + r() * 400).toFixed(4),
      commission: (r() * 0.9).toFixed(5),
    }));
    // Commit order: the id order with some fills held back (a writer committing late).
    const commits = [...fills];
    for (let k = 0; k < n / 8; k += 1) {
      const from = Math.floor(r() * n);
      const [late] = commits.splice(from, 1);
      commits.splice(Math.min(n - 1, from + 1 + Math.floor(r() * 10)), 0, late!);
    }
    let ledgers = new Map<string, SymbolLedger>();
    let committed = 0;
    while (committed < n) {
      committed = Math.min(n, committed + 1 + Math.floor(r() * 12));
      const db = commits.slice(0, committed);
      if (r() < 0.3) {
        // A restart: the state goes through the table's JSON and back.
        ledgers = new Map(
          [...ledgers].map(([s, l]) => [
            s,
            ledgerFromJson(JSON.parse(JSON.stringify(ledgerToJson(l))))!,
          ]),
        );
      }
      const watermark = Math.max(0, ...[...ledgers.values()].map((l) => l.maxId));
      const newFills = db.filter((f) => f.id > watermark);
      const plan = planSync(ledgers, tally(db), newFills);
      // A symbol is replayed only when one of its fills came late: committed below the
      // watermark after the ledger was read, or earlier in time than the last one applied.
      for (const s of plan.replay) {
        const l = ledgers.get(s);
        const below = db.filter((f) => f.symbol === s && f.id <= watermark).length;
        const late =
          below !== (l ? l.buy.n + l.sell.n : 0) ||
          newFills.some((f) => f.symbol === s && l !== undefined && !comesAfter(l, f));
        assert.ok(late, `seed ${seed}: ${s} replayed with no late fill`);
      }
      const base = new Map([...plan.extend.keys()].map((s) => [s, ledgers.get(s)!]));
      const changed = replayLedgers(base, [
        ...[...plan.extend.values()].flat(),
        ...db.filter((f) => plan.replay.includes(f.symbol)),
      ]);
      for (const s of plan.drop) ledgers.delete(s);
      for (const [s, l] of changed) ledgers.set(s, l);
      extended += plan.extend.size;
      replayed += plan.replay.length;
      const asOfDay = "2026-03-09";
      assert.deepEqual(
        split(ledgers, { ...view, asOfDay }),
        split(replayLedgers(new Map(), db), { ...view, asOfDay }),
        `seed ${seed}: ${committed} fills committed`,
      );
    }
  }
  // Both paths ran, and extending was the rule.
  assert.ok(replayed > 0 && extended > 5 * replayed, `extended ${extended}, replayed ${replayed}`);
});
