/** What each BookSide.set did, and the smallest depth. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import { BookSide } from "./book-side.ts";

const px = (s: string) => fromDecimal(s);

describe("BookSide results", () => {
  it("a depth of one keeps the best level; below one is refused", () => {
    const bids = new BookSide("bid", 1);
    bids.set(px("100"), 1n);
    assert.equal(bids.set(px("101"), 2n), "inserted");
    assert.equal(bids.set(px("99"), 3n), "ignored");
    assert.deepEqual([bids.count, bids.priceAt(0), bids.sizeAt(0)], [1, px("101"), 2n]);
    assert.throws(() => new BookSide("bid", 0), /book depth must be a positive integer, got 0/);
  });

  it("says what each set did", () => {
    const asks = new BookSide("ask", 5);
    assert.equal(asks.set(px("10"), 1n), "inserted");
    assert.equal(asks.set(px("10"), 2n), "updated");
    assert.equal(asks.set(px("11"), 0n), "ignored");
    assert.equal(asks.set(px("10"), 0n), "deleted");
  });
});
