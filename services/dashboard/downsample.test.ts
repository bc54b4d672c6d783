import assert from "node:assert/strict";
import { test } from "node:test";
import { type Bucket, bucketPoints, STRIDES_MS, spanRows, strideFor } from "./downsample.ts";

const DAY = 86_400_000;

test("strideFor: the smallest round stride giving at most the bucket count, aligned to the epoch", () => {
  const t0 = Date.UTC(2026, 0, 5, 14, 30, 7);
  for (const [span, buckets] of [
    [1_000_000_000, 1200],
    [20_000_000, 300],
    [999, 10],
    [0, 1],
    [400 * DAY, 100],
  ] as const) {
    const s = strideFor(t0, t0 + span, buckets);
    const count = (x: number) => Math.floor((t0 + span) / x) - Math.floor(t0 / x) + 1;
    assert.ok(count(s) <= buckets, `span ${span}: ${count(s)} buckets of ${s} ms`);
    const smaller = STRIDES_MS.filter((x) => x < s);
    for (const x of smaller) assert.ok(count(x) > buckets, `${x} ms would have fitted`);
  }
  assert.equal(strideFor(t0, t0 + 400 * DAY, 100) % DAY, 0);
  assert.throws(() => strideFor(0, 1, 0), /buckets must be a positive integer/);
  assert.throws(() => strideFor(5, 1, 10), /bad time range 5\.\.1/);
});

const bucket = (over: Partial<Bucket>): Bucket => ({
  start: 0,
  n: 10,
  tFirst: 0,
  tLast: 90,
  first: 5,
  last: 6,
  lo: 1,
  hi: 9,
  ...over,
});

test("bucketPoints: first, low and high in the line's direction, last; at most four per bucket", () => {
  assert.deepEqual(bucketPoints([bucket({})]), { t: [0, 45, 45, 90], v: [5, 1, 9, 6] });
  // Falling bucket: high first, then low.
  assert.deepEqual(bucketPoints([bucket({ first: 6, last: 5 })]).v, [6, 9, 1, 5]);
  // The ends are the extremes: no extra points; one- and two-point buckets are their points.
  assert.deepEqual(bucketPoints([bucket({ first: 1, last: 9 })]).v, [1, 9]);
  assert.deepEqual(bucketPoints([bucket({ n: 1, tLast: 0, last: 5, lo: 5, hi: 5 })]), {
    t: [0],
    v: [5],
  });
  assert.deepEqual(bucketPoints([bucket({ n: 2, lo: 5, hi: 6 })]).v, [5, 6]);
});

test("spanRows: consecutive buckets merged into at most the row count, nothing lost", () => {
  const buckets = Array.from({ length: 7 }, (_, i) =>
    bucket({ start: i * 100, tFirst: i * 100, tLast: i * 100 + 90, lo: -i, hi: i, last: i }),
  );
  const rows = spanRows(buckets, 3);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], { from: 0, to: 290, n: 30, lo: -2, hi: 2, last: 2 });
  assert.deepEqual(rows[2], { from: 600, to: 690, n: 10, lo: -6, hi: 6, last: 6 });
  assert.equal(
    rows.reduce((n, r) => n + r.n, 0),
    70,
  );
});
