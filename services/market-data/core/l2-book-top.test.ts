/** When the top of an L2 book changed, and which books are not crossed. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import type { BookEvent, PriceLevel } from "./events.ts";
import { L2Book } from "./l2-book.ts";

const lv = (price: string, size: string): PriceLevel => ({
  price: fromDecimal(price),
  size: fromDecimal(size),
});

const ev = (seq: number, reset: boolean, bids: PriceLevel[], asks: PriceLevel[]): BookEvent => ({
  type: "book",
  symbol: "BTC/USD",
  seq,
  timeNs: BigInt(seq),
  reset,
  bids,
  asks,
});

const snapshot = () =>
  ev(10, true, [lv("100", "1"), lv("99.5", "2")], [lv("100.5", "3"), lv("101", "4")]);

describe("L2Book top of book", () => {
  it("waits for a snapshot when new", () => {
    assert.equal(new L2Book("BTC/USD", 5).status, "awaiting-snapshot");
  });

  it("the top changed when the best price or the size at the best changes, on either side", () => {
    const b = new L2Book("BTC/USD", 50);
    b.apply(snapshot());
    const cases: [string, PriceLevel[], PriceLevel[]][] = [
      ["a better bid", [lv("100.1", "1")], []],
      ["a better ask of the same size", [], [lv("100.4", "3")]],
      ["the size at the best bid", [lv("100.1", "9")], []],
      ["the size at the best ask", [], [lv("100.4", "9")]],
    ];
    let seq = 11;
    for (const [what, bids, asks] of cases) {
      assert.equal(b.apply(ev(seq++, false, bids, asks)), "updated", what);
      assert.equal(b.topChanged, true, what);
    }
    assert.equal(b.apply(ev(seq++, false, [lv("99", "1")], [lv("102", "1")])), "updated");
    assert.equal(b.topChanged, false, "deeper levels on both sides");
    b.apply(ev(seq++, true, [lv("100.1", "9")], [lv("100.4", "9")]));
    assert.equal(b.topChanged, true, "a snapshot always counts as a new top");
  });

  it("a book with one side empty is neither crossed nor locked", () => {
    const bidsOnly = new L2Book("BTC/USD", 50);
    assert.equal(bidsOnly.apply(ev(1, true, [lv("100", "1")], [])), "updated");
    const asksOnly = new L2Book("BTC/USD", 50);
    assert.equal(asksOnly.apply(ev(1, true, [], [lv("100", "1")])), "updated");
  });
});
