/** The market-data core's counters, its answers' contents, and what late or unseen symbols give. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import type { BookEvent, MarketDataEvent } from "./events.ts";
import { MarketDataCore } from "./market-data-core.ts";

const d = (s: string) => fromDecimal(s);

/** book: an ETH/USD book event with version `seq` and at most one level a side. */
function book(
  seq: number,
  reset: boolean,
  bid?: [string, string],
  ask?: [string, string],
): BookEvent {
  const level = (l?: [string, string]) => (l ? [{ price: d(l[0]), size: d(l[1]) }] : []);
  return {
    type: "book",
    symbol: "ETH/USD",
    seq,
    timeNs: BigInt(seq) * 1000n,
    reset,
    bids: level(bid),
    asks: level(ask),
  };
}

/** quote: an AAPL quote at `timeNs` (100 bid, 200 offered). */
const QUOTE = { type: "quote", symbol: "AAPL", bidSize: 100n, askSize: 200n } as const;
const quote = (bid: string, ask: string, timeNs = 1n): MarketDataEvent => ({
  ...QUOTE,
  timeNs,
  bidPrice: d(bid),
  askPrice: d(ask),
});

describe("MarketDataCore counters and answers", () => {
  it("counts book events, duplicates and dropped deltas; a resync after a crossed book drops none", () => {
    const core = new MarketDataCore();
    core.apply(book(1, true, ["3000", "1"], ["3001", "1"]));
    core.apply(book(2, false, ["2999", "1"]));
    assert.equal(
      core.apply(book(2, false, ["2998", "1"])).length,
      0,
      "a duplicate is not published",
    );
    assert.equal(core.counters.duplicates, 1);
    core.apply(book(3, false, ["3002", "1"])); // crossed: the delta was applied, then judged
    assert.equal(core.counters.deltasDropped, 0);
    assert.equal(core.counters.bookEvents, 4);
    assert.deepEqual(
      { ...core.apply(quote("2", "1"))[0]! },
      { type: "quote-rejected", symbol: "AAPL", reason: "crossed" },
    );
  });

  it("a resync for a crossed book after an earlier gap carries no sequence numbers", () => {
    const core = new MarketDataCore();
    core.apply(book(1, true, ["3000", "1"], ["3001", "1"]));
    core.apply(book(5, false, ["2999", "1"])); // gap: expected 2, received 5
    core.apply(book(6, true, ["3000", "1"], ["3001", "1"]));
    const [r] = core.apply(book(7, false, ["3002", "1"]));
    assert.deepEqual(
      { ...r! },
      {
        type: "resync-needed",
        symbol: "ETH/USD",
        reason: "crossed",
        expectedSeq: -1,
        receivedSeq: -1,
      },
    );
  });

  it("an event stamped earlier than the last one does not make its symbol look stale", () => {
    const core = new MarketDataCore();
    core.apply(quote("1", "2", 5000n));
    core.apply(quote("1", "2", 1000n)); // a late, reordered quote
    assert.deepEqual(core.staleSymbols(5500n, 1000n), []);
  });

  it("has no book or quote for a symbol it never saw", () => {
    const core = new MarketDataCore();
    assert.equal(core.book("MSFT"), undefined);
    assert.equal(core.quote("MSFT"), undefined);
  });

  it("a one-sided quote (no bid or no ask) is not crossed", () => {
    const core = new MarketDataCore();
    assert.equal(core.apply(quote("0", "187.27"))[0]!.type, "quote");
    assert.equal(core.apply(quote("187.25", "0"))[0]!.type, "quote");
    assert.equal(core.quote("AAPL")!.askPrice, 0n);
    assert.equal(core.counters.quotesRejected, 0);
  });

  it("a symbol seen only in trades has no quote yet, and one seen only in quotes no trade", () => {
    const core = new MarketDataCore();
    core.apply({ type: "trade", symbol: "T", timeNs: 1n, price: d("5"), size: d("1"), tradeId: 1 });
    core.apply(quote("1", "2"));
    const traded = core.quote("T")!;
    assert.equal(traded.symbol, "T");
    assert.deepEqual([traded.hasQuote, traded.hasTrade], [false, true]);
    const quoted = core.quote("AAPL")!;
    assert.deepEqual([quoted.hasQuote, quoted.hasTrade], [true, false]);
  });

  it("a delta before any snapshot is dropped, and counted so", () => {
    const core = new MarketDataCore();
    const [r] = core.apply(book(3, false, ["3000", "1"]));
    assert.equal(r?.type === "resync-needed" && r.reason, "no-snapshot");
    assert.equal(core.counters.deltasDropped, 1);
  });
});
