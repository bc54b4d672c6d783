import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import type { BookEvent, PriceLevel } from "./events.ts";
import { L2Book } from "./l2-book.ts";

function lv(price: string, size: string): PriceLevel {
  return { price: fromDecimal(price), size: fromDecimal(size) };
}

function ev(
  seq: number | undefined,
  reset: boolean,
  bids: PriceLevel[],
  asks: PriceLevel[],
): BookEvent {
  return { type: "book", symbol: "BTC/USD", seq, timeNs: BigInt(seq ?? 0), reset, bids, asks };
}

const snapshot = () =>
  ev(10, true, [lv("100", "1"), lv("99.5", "2")], [lv("100.5", "3"), lv("101", "4")]);

describe("L2Book", () => {
  it("applies a snapshot and then in-sequence deltas", () => {
    const b = new L2Book("BTC/USD", 50);
    assert.equal(b.apply(snapshot()), "updated");
    assert.equal(b.status, "live");
    assert.equal(b.bestBid(), fromDecimal("100"));
    assert.equal(b.bestAsk(), fromDecimal("100.5"));
    assert.equal(b.apply(ev(11, false, [lv("100.25", "0.5")], [])), "updated");
    assert.equal(b.bestBid(), fromDecimal("100.25"));
    assert.equal(b.topChanged, true);
    assert.equal(b.apply(ev(12, false, [lv("99.5", "7")], [])), "updated");
    assert.equal(b.topChanged, false, "a deep level change leaves the top alone");
    assert.equal(b.bids.sizeAt(2), fromDecimal("7"));
    assert.equal(b.seq, 12);
  });

  it("deletes a level on size 0", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(snapshot());
    assert.equal(b.apply(ev(11, false, [], [lv("100.5", "0")])), "updated");
    assert.equal(b.bestAsk(), fromDecimal("101"));
    assert.equal(b.asks.count, 1);
  });

  it("a snapshot replaces the whole book", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(snapshot());
    b.apply(ev(20, true, [lv("50", "1")], [lv("51", "1")]));
    assert.equal(b.bids.count, 1);
    assert.equal(b.asks.count, 1);
    assert.equal(b.bestBid(), fromDecimal("50"));
    assert.equal(b.seq, 20);
  });

  it("detects a crossed book and drops deltas until a snapshot resyncs it", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(snapshot());
    assert.equal(b.apply(ev(11, false, [lv("100.75", "1")], [])), "crossed");
    assert.equal(b.status, "resync");
    assert.equal(b.apply(ev(12, false, [lv("99", "1")], [])), "dropped");
    assert.equal(b.apply(snapshot()), "updated");
    assert.equal(b.status, "live");
  });

  it("detects a locked book", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(snapshot());
    assert.equal(b.apply(ev(11, false, [], [lv("100", "1")])), "locked");
    assert.equal(b.status, "resync");
  });

  it("a crossed snapshot is itself refused", () => {
    const b = new L2Book("BTC/USD", 50);
    assert.equal(b.apply(ev(1, true, [lv("10", "1")], [lv("9", "1")])), "crossed");
    assert.equal(b.status, "resync");
  });

  it("detects a sequence gap and remembers what was expected", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(snapshot());
    assert.equal(b.apply(ev(13, false, [lv("99", "1")], [])), "gap");
    assert.equal(b.gapExpected, 11);
    assert.equal(b.gapReceived, 13);
    assert.equal(b.bids.count, 2, "the out-of-sequence delta was not applied");
    assert.equal(b.apply(ev(14, false, [], [])), "dropped");
  });

  it("ignores a duplicate (already applied) version", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(snapshot());
    b.apply(ev(11, false, [lv("99", "1")], []));
    assert.equal(b.apply(ev(11, false, [lv("98", "1")], [])), "duplicate");
    assert.equal(b.bids.count, 3);
  });

  it("a delta before any snapshot asks for one", () => {
    const b = new L2Book("BTC/USD", 50);
    assert.equal(b.apply(ev(5, false, [lv("1", "1")], [])), "no-snapshot");
    assert.equal(b.status, "resync");
  });

  it("without versions (Alpaca crypto), deltas apply in arrival order", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(ev(undefined, true, [lv("100", "1")], [lv("101", "1")]));
    assert.equal(b.apply(ev(undefined, false, [lv("100.5", "1")], [])), "updated");
    assert.equal(b.bestBid(), fromDecimal("100.5"));
  });
});
