import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import type { BookEvent, MarketDataEvent } from "./events.ts";
import { MarketDataCore } from "./market-data-core.ts";

const d = (s: string) => fromDecimal(s);

function book(seq: number, reset: boolean, bid?: [string, string], ask?: [string, string]) {
  const ev: BookEvent = {
    type: "book",
    symbol: "ETH/USD",
    seq,
    timeNs: BigInt(seq) * 1000n,
    reset,
    bids: bid ? [{ price: d(bid[0]), size: d(bid[1]) }] : [],
    asks: ask ? [{ price: d(ask[0]), size: d(ask[1]) }] : [],
  };
  return ev;
}

function quote(bid: string, ask: string, timeNs = 1n): MarketDataEvent {
  return {
    type: "quote",
    symbol: "AAPL",
    timeNs,
    bidPrice: d(bid),
    bidSize: 100n,
    askPrice: d(ask),
    askSize: 200n,
  };
}

describe("MarketDataCore", () => {
  it("publishes a snapshot, then book updates with topChanged", () => {
    const core = new MarketDataCore({ depth: 10 });
    let out = core.apply(book(1, true, ["3000", "1"], ["3001", "1"]));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.type, "book");
    if (out[0]!.type !== "book") return;
    assert.equal(out[0]!.snapshot, true);
    assert.equal(out[0]!.book.bestBid(), d("3000"));
    out = core.apply(book(2, false, ["2999", "4"]));
    assert.equal(out[0]!.type === "book" && out[0]!.topChanged, false);
    assert.equal(out[0]!.type === "book" && out[0]!.snapshot, false);
  });

  it("commands a resync once on a gap, drops deltas, and recovers on a snapshot", () => {
    const core = new MarketDataCore();
    core.apply(book(1, true, ["3000", "1"], ["3001", "1"]));
    const out = core.apply(book(5, false, ["2999", "1"]));
    assert.deepEqual(
      out.map((o) => ({ ...o })),
      [
        {
          type: "resync-needed",
          symbol: "ETH/USD",
          reason: "gap",
          expectedSeq: 2,
          receivedSeq: 5,
        },
      ],
    );
    assert.deepEqual(core.symbolsNeedingResync(), ["ETH/USD"]);
    assert.equal(core.apply(book(6, false, ["2998", "1"])).length, 0, "no repeated command");
    assert.equal(core.counters.deltasDropped, 2);
    const after = core.apply(book(7, true, ["3000", "2"], ["3002", "1"]));
    assert.equal(after[0]!.type, "book");
    assert.deepEqual(core.symbolsNeedingResync(), []);
    assert.equal(core.counters.resyncs, 1);
  });

  it("commands a resync on a crossed or locked book", () => {
    const core = new MarketDataCore();
    core.apply(book(1, true, ["3000", "1"], ["3001", "1"]));
    const crossed = core.apply(book(2, false, ["3002", "1"]));
    assert.equal(crossed[0]!.type === "resync-needed" && crossed[0]!.reason, "crossed");
    core.apply(book(3, true, ["3000", "1"], ["3001", "1"]));
    const locked = core.apply(book(4, false, undefined, ["3000", "1"]));
    assert.equal(locked[0]!.type === "resync-needed" && locked[0]!.reason, "locked");
  });

  it("keeps L1 quotes and trades, refusing crossed quotes", () => {
    const core = new MarketDataCore();
    const out = core.apply(quote("187.25", "187.27"));
    assert.equal(out[0]!.type, "quote");
    assert.equal(core.quote("AAPL")!.bidPrice, d("187.25"));
    const bad = core.apply(quote("187.30", "187.27"));
    assert.equal(bad[0]!.type, "quote-rejected");
    assert.equal(core.quote("AAPL")!.bidPrice, d("187.25"), "old quote kept");
    assert.equal(core.apply(quote("187.27", "187.27"))[0]!.type, "quote", "locked NBBO accepted");
    const t = core.apply({
      type: "trade",
      symbol: "AAPL",
      timeNs: 9n,
      price: d("187.26"),
      size: d("10"),
      tradeId: 77,
    });
    assert.equal(t[0]!.type, "trade");
    assert.equal(core.quote("AAPL")!.lastPrice, d("187.26"));
    assert.equal(core.quote("AAPL")!.lastTradeId, 77);
    assert.equal(core.counters.quotesRejected, 1);
  });

  it("lists symbols whose last event is too old", () => {
    const core = new MarketDataCore();
    core.apply(book(1, true, ["3000", "1"], ["3001", "1"])); // ETH/USD at t = 1000 ns
    core.apply(quote("1", "2", 5000n)); // AAPL at t = 5000 ns
    assert.deepEqual(core.staleSymbols(5500n, 1000n), ["ETH/USD"]);
    assert.deepEqual(core.staleSymbols(7000n, 1000n), ["ETH/USD", "AAPL"]);
    assert.deepEqual(core.staleSymbols(1500n, 1000n), []);
  });

  it("is deterministic: the same events give the same books", () => {
    const run = () => {
      const core = new MarketDataCore({ depth: 5 });
      core.apply(book(1, true, ["10", "1"], ["11", "1"]));
      for (let i = 2; i < 200; i++) {
        const p = (10 - (i % 7) * 0.25).toFixed(2);
        core.apply(book(i, false, [p, String(i % 3)]));
      }
      const b = core.book("ETH/USD")!;
      return Array.from(
        { length: b.bids.count },
        (_, i) => `${b.bids.priceAt(i)}:${b.bids.sizeAt(i)}`,
      );
    };
    assert.deepEqual(run(), run());
  });
});
