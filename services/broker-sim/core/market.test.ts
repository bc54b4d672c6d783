import assert from "node:assert/strict";
import { test } from "node:test";
import { advanceMarket, bookDiff, createMarket, eventTime, skipMarket } from "./market.ts";
import { NS_PER_MIN, NS_PER_SEC } from "./time.ts";
import type { MarketEvent } from "./types.ts";

const T0 = 1_750_000_000n * NS_PER_SEC;

function run(step: bigint, total: bigint, seed = 3): MarketEvent[] {
  const m = createMarket(seed, { AAPL: 190, MSFT: 410 }, T0);
  const out: MarketEvent[] = [];
  for (let t = T0 + step; t <= T0 + total; t += step) out.push(...advanceMarket(m, t));
  return out;
}

const key = (e: MarketEvent) =>
  JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? v.toString() : v));

test("the market depends on the seed only, not on how often it is advanced", () => {
  const coarse = run(60n * NS_PER_SEC, 5n * NS_PER_MIN);
  const fine = run(NS_PER_SEC / 10n, 5n * NS_PER_MIN);
  assert.ok(coarse.length > 1000);
  assert.deepEqual(coarse.map(key).sort(), fine.map(key).sort());
  assert.notDeepEqual(
    run(60n * NS_PER_SEC, 60n * NS_PER_SEC, 4).map(key),
    run(60n * NS_PER_SEC, 60n * NS_PER_SEC, 3).map(key),
  );
});

test("a closed market pauses the model: skipping in one step or many gives the same market", () => {
  const run = (steps: number) => {
    const m = createMarket(9, { AAPL: 190 }, T0);
    advanceMarket(m, T0 + 10n * NS_PER_SEC);
    const closedFor = 3600n * NS_PER_SEC;
    for (let i = 1; i <= steps; i++)
      skipMarket(m, T0 + 10n * NS_PER_SEC + (closedFor * BigInt(i)) / BigInt(steps));
    return advanceMarket(m, T0 + closedFor + 70n * NS_PER_SEC).map(key);
  };
  const once = run(1);
  assert.ok(once.length > 100);
  assert.deepEqual(run(97), once);
});

test("quotes are never crossed, trades print at the touch, events come in time order", () => {
  const events = run(NS_PER_SEC, 10n * NS_PER_MIN);
  const lastQuote = new Map<string, { bid: bigint; ask: bigint }>();
  let prev = 0n;
  for (const e of events) {
    const t = eventTime(e);
    assert.ok(t >= prev || e.kind === "bar");
    if (e.kind !== "bar") prev = t;
    if (e.kind === "quote") {
      assert.ok(e.quote.askPrice > e.quote.bidPrice);
      lastQuote.set(e.quote.symbol, { bid: e.quote.bidPrice, ask: e.quote.askPrice });
    }
    if (e.kind === "trade") {
      const q = lastQuote.get(e.trade.symbol);
      if (q) assert.ok(e.trade.price === q.bid || e.trade.price === q.ask);
      assert.ok(e.trade.size > 0);
    }
  }
});

test("minute bars aggregate the trades of their minute", () => {
  const events = run(NS_PER_SEC, 5n * NS_PER_MIN);
  const bars = events.filter((e) => e.kind === "bar").map((e) => e.bar);
  assert.ok(bars.length >= 8);
  for (const b of bars.filter((x) => x.symbol === "AAPL")) {
    const trades = events.filter(
      (e) =>
        e.kind === "trade" &&
        e.trade.symbol === "AAPL" &&
        e.trade.t >= b.t &&
        e.trade.t < b.t + NS_PER_MIN,
    );
    assert.equal(b.tradeCount, trades.length);
    assert.equal(
      b.volume,
      trades.reduce((n, e) => n + (e.kind === "trade" ? e.trade.size : 0), 0),
    );
    assert.ok(b.low <= b.open && b.open <= b.high && b.low <= b.close && b.close <= b.high);
  }
});

test("book updates carry only changed levels; removed levels come with size 0", () => {
  const a = [
    { price: 100n, size: 1 },
    { price: 99n, size: 2 },
  ];
  const b = [
    { price: 100n, size: 1 },
    { price: 98n, size: 5 },
  ];
  assert.deepEqual(bookDiff(a, b), [
    { price: 98n, size: 5 },
    { price: 99n, size: 0 },
  ]);
});
