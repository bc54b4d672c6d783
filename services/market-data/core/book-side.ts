/**
 * BookSide holds one side of an L2 book: at most `capacity` price levels in preallocated arrays,
 * sorted so that the BEST level is the LAST element. Book activity concentrates at the top, so
 * inserts and deletes there shift only a few elements; lookup is a binary search. Nothing is
 * allocated per update.
 *
 * Bids are kept in ascending price order and asks in descending order, so on both sides the best
 * level is last. Prices are stored as given (no negation), so reading the top allocates nothing.
 *
 * IMPORTANT: when the side is full, a new level worse than every kept level is dropped and a new
 * better level evicts the worst. The top levels stay exact; the deepest ones may be missing until
 * the feed updates them again (documented in the stage README).
 */
import type { Fixed } from "../../core/money.ts";

export type SideName = "bid" | "ask";

/** SetResult says what `set` did, so the book can tell whether its top changed. */
export type SetResult = "inserted" | "updated" | "deleted" | "ignored";

export class BookSide {
  readonly side: SideName;
  readonly capacity: number;
  private readonly prices: Fixed[];
  private readonly sizes: Fixed[];
  private n = 0;

  constructor(side: SideName, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`book depth must be a positive integer, got ${capacity}`);
    }
    this.side = side;
    this.capacity = capacity;
    this.prices = new Array<Fixed>(capacity).fill(0n);
    this.sizes = new Array<Fixed>(capacity).fill(0n);
  }

  /** count is the number of levels held. */
  get count(): number {
    return this.n;
  }

  /** priceAt returns the price of level `i` counted from the best (0 = best). */
  priceAt(i: number): Fixed {
    return this.prices[this.n - 1 - i]!;
  }

  /** sizeAt returns the size of level `i` counted from the best (0 = best). */
  sizeAt(i: number): Fixed {
    return this.sizes[this.n - 1 - i]!;
  }

  /** bestPrice is the top price, or -1n when the side is empty. */
  bestPrice(): Fixed {
    return this.n === 0 ? -1n : this.prices[this.n - 1]!;
  }

  /** bestSize is the size at the top, or 0n when the side is empty. */
  bestSize(): Fixed {
    return this.n === 0 ? 0n : this.sizes[this.n - 1]!;
  }

  clear(): void {
    this.n = 0;
  }

  /** set applies one level from the feed: size 0 deletes it, otherwise it is inserted or replaced. */
  set(price: Fixed, size: Fixed): SetResult {
    const prices = this.prices;
    const sizes = this.sizes;
    const n = this.n;
    // Lower bound in storage order: the first index whose price is not before `price`.
    let lo = 0;
    let hi = n;
    if (this.side === "bid") {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (prices[mid]! < price) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (prices[mid]! > price) lo = mid + 1;
        else hi = mid;
      }
    }
    const found = lo < n && prices[lo] === price;
    if (size === 0n) {
      if (!found) return "ignored";
      for (let j = lo; j < n - 1; j++) {
        prices[j] = prices[j + 1]!;
        sizes[j] = sizes[j + 1]!;
      }
      this.n = n - 1;
      return "deleted";
    }
    if (found) {
      sizes[lo] = size;
      return "updated";
    }
    if (n === this.capacity) {
      // Full: drop a level worse than all kept ones, else evict the worst (index 0).
      if (lo === 0) return "ignored";
      for (let j = 0; j < lo - 1; j++) {
        prices[j] = prices[j + 1]!;
        sizes[j] = sizes[j + 1]!;
      }
      prices[lo - 1] = price;
      sizes[lo - 1] = size;
      return "inserted";
    }
    for (let j = n; j > lo; j--) {
      prices[j] = prices[j - 1]!;
      sizes[j] = sizes[j - 1]!;
    }
    prices[lo] = price;
    sizes[lo] = size;
    this.n = n + 1;
    return "inserted";
  }
}
