/**
 * BookSide holds one side of an L2 book: at most `capacity` price levels in preallocated arrays,
 * sorted so that the BEST level is the LAST element. Book activity concentrates at the top, so
 * inserts and deletes there shift only a few elements; lookup is a binary search. Nothing is
 * allocated per update.
 *
 * Keys are the price for bids and the negated price for asks, so both sides are "ascending key,
 * best last" and share one code path.
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
  private readonly keys: bigint[];
  private readonly sizes: Fixed[];
  private n = 0;

  constructor(side: SideName, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`book depth must be a positive integer, got ${capacity}`);
    }
    this.side = side;
    this.capacity = capacity;
    this.keys = new Array<bigint>(capacity).fill(0n);
    this.sizes = new Array<Fixed>(capacity).fill(0n);
  }

  /** count is the number of levels held. */
  get count(): number {
    return this.n;
  }

  /** priceAt returns the price of level `i` counted from the best (0 = best). */
  priceAt(i: number): Fixed {
    const k = this.keys[this.n - 1 - i]!;
    return this.side === "bid" ? k : -k;
  }

  /** sizeAt returns the size of level `i` counted from the best (0 = best). */
  sizeAt(i: number): Fixed {
    return this.sizes[this.n - 1 - i]!;
  }

  /** bestPrice is the top price, or -1n when the side is empty. */
  bestPrice(): Fixed {
    if (this.n === 0) return -1n;
    const k = this.keys[this.n - 1]!;
    return this.side === "bid" ? k : -k;
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
    const key = this.side === "bid" ? price : -price;
    const keys = this.keys;
    const sizes = this.sizes;
    const n = this.n;
    // Lower bound: first index whose key >= key.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < n && keys[lo] === key;
    if (size === 0n) {
      if (!found) return "ignored";
      for (let j = lo; j < n - 1; j++) {
        keys[j] = keys[j + 1]!;
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
        keys[j] = keys[j + 1]!;
        sizes[j] = sizes[j + 1]!;
      }
      keys[lo - 1] = key;
      sizes[lo - 1] = size;
      return "inserted";
    }
    for (let j = n; j > lo; j--) {
      keys[j] = keys[j - 1]!;
      sizes[j] = sizes[j - 1]!;
    }
    keys[lo] = key;
    sizes[lo] = size;
    this.n = n + 1;
    return "inserted";
  }
}
