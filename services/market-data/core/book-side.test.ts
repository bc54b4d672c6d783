import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import { mulberry32 } from "../../core/random.ts";
import { BookSide } from "./book-side.ts";

const px = (s: string) => fromDecimal(s);

function levels(side: BookSide): string[] {
  const list: string[] = [];
  for (let i = 0; i < side.count; i++) list.push(`${side.priceAt(i)}x${side.sizeAt(i)}`);
  return list;
}

describe("BookSide", () => {
  it("orders bids best (highest) first", () => {
    const bids = new BookSide("bid", 10);
    bids.set(px("100.01"), 5n);
    bids.set(px("100.03"), 7n);
    bids.set(px("100.02"), 6n);
    assert.deepEqual(levels(bids), [`${px("100.03")}x7`, `${px("100.02")}x6`, `${px("100.01")}x5`]);
    assert.equal(bids.bestPrice(), px("100.03"));
    assert.equal(bids.bestSize(), 7n);
  });

  it("orders asks best (lowest) first", () => {
    const asks = new BookSide("ask", 10);
    asks.set(px("100.05"), 1n);
    asks.set(px("100.04"), 2n);
    asks.set(px("100.06"), 3n);
    assert.equal(asks.bestPrice(), px("100.04"));
    assert.deepEqual(
      [asks.priceAt(0), asks.priceAt(1), asks.priceAt(2)],
      [px("100.04"), px("100.05"), px("100.06")],
    );
  });

  it("replaces a level's size and deletes a level on size 0", () => {
    const asks = new BookSide("ask", 10);
    asks.set(px("10"), 1n);
    asks.set(px("11"), 2n);
    assert.equal(asks.set(px("10"), 9n), "updated");
    assert.equal(asks.sizeAt(0), 9n);
    assert.equal(asks.set(px("10"), 0n), "deleted");
    assert.equal(asks.count, 1);
    assert.equal(asks.bestPrice(), px("11"));
    assert.equal(asks.set(px("12.5"), 0n), "ignored", "deleting an unknown level is a no-op");
  });

  it("keeps the best `capacity` levels: drops worse, evicts the worst for better", () => {
    const bids = new BookSide("bid", 3);
    for (const p of ["10", "11", "12"]) bids.set(px(p), 1n);
    assert.equal(bids.set(px("9"), 1n), "ignored");
    assert.equal(bids.set(px("11.5"), 2n), "inserted");
    assert.deepEqual(
      [bids.priceAt(0), bids.priceAt(1), bids.priceAt(2)],
      [px("12"), px("11.5"), px("11")],
    );
    assert.equal(bids.set(px("13"), 3n), "inserted");
    assert.deepEqual(
      [bids.priceAt(0), bids.priceAt(1), bids.priceAt(2)],
      [px("13"), px("12"), px("11.5")],
    );
  });

  it("empty side reports no best", () => {
    const s = new BookSide("bid", 2);
    assert.equal(s.bestPrice(), -1n);
    assert.equal(s.bestSize(), 0n);
    assert.throws(() => new BookSide("ask", 0), /positive integer/);
  });

  it("matches a naive sorted-map model over 20k random updates", () => {
    const rand = mulberry32(42);
    for (const sideName of ["bid", "ask"] as const) {
      const side = new BookSide(sideName, 1000);
      const model = new Map<bigint, bigint>();
      for (let i = 0; i < 20_000; i++) {
        const price = BigInt(10_000 + Math.floor(rand() * 300)) * 10_000_000n;
        const size = rand() < 0.3 ? 0n : BigInt(1 + Math.floor(rand() * 1000));
        side.set(price, size);
        if (size === 0n) model.delete(price);
        else model.set(price, size);
      }
      const expected = [...model.entries()]
        .sort((a, b) => (sideName === "bid" ? Number(b[0] - a[0]) : Number(a[0] - b[0])))
        .map(([p, s]) => `${p}x${s}`);
      assert.deepEqual(levels(side), expected);
    }
  });

  it("matches a naive capped book (drop worse / evict worst) over 20k random updates", () => {
    const rand = mulberry32(9);
    for (const sideName of ["bid", "ask"] as const) {
      const cap = 8;
      const side = new BookSide(sideName, cap);
      const better = (a: bigint, b: bigint) => (sideName === "bid" ? a > b : a < b);
      let model: [bigint, bigint][] = []; // best first
      for (let i = 0; i < 20_000; i++) {
        const price = BigInt(100 + Math.floor(rand() * 30));
        const size = rand() < 0.4 ? 0n : BigInt(1 + Math.floor(rand() * 9));
        side.set(price, size);
        const at = model.findIndex(([p]) => p === price);
        if (size === 0n) {
          if (at >= 0) model.splice(at, 1);
        } else if (at >= 0) {
          model[at]![1] = size;
        } else if (model.length < cap || better(price, model[model.length - 1]![0])) {
          model.push([price, size]);
          model.sort((a, b) => (better(a[0], b[0]) ? -1 : 1));
          model = model.slice(0, cap);
        }
      }
      assert.deepEqual(
        levels(side),
        model.map(([p, sz]) => `${p}x${sz}`),
      );
    }
  });
});
