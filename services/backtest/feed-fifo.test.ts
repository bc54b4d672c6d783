import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FeedFifo } from "./feed-fifo.ts";

describe("FeedFifo", () => {
  test("gives records back in the order pushed, with their times, across wrap-around and growth", () => {
    const fifo = new FeedFifo<string>(4);
    const taken: [string, bigint][] = [];
    let next = 0;
    // Interleave pushes and takes so the ring wraps, then fill it past its capacity twice.
    for (const [pushes, takes] of [
      [3, 2],
      [3, 3],
      [9, 4],
      [20, 26],
    ] as const) {
      for (let k = 0; k < pushes; k++, next++) fifo.push(`r${next}`, BigInt(next * 10));
      for (let k = 0; k < takes; k++) {
        const at = fifo.nextAt();
        taken.push([fifo.take(), at]);
      }
    }
    assert.equal(fifo.size, 0);
    assert.deepEqual(
      taken,
      Array.from({ length: next }, (_, i) => [`r${i}`, BigInt(i * 10)]),
    );
  });
});
