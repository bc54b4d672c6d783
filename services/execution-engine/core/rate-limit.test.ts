import assert from "node:assert/strict";
import { test } from "node:test";
import { createTokenBucket, nextTokenAtNs, tryTake } from "./rate-limit.ts";

const SECOND = 1_000_000_000n;

test("the bucket starts full, refills at the per-minute rate and never beyond its size", () => {
  const b = createTokenBucket(180, 2);
  assert.equal(tryTake(b, 0n), true);
  assert.equal(tryTake(b, 0n), true);
  assert.equal(tryTake(b, 0n), false);
  const next = nextTokenAtNs(b, 0n);
  assert.equal(next, SECOND / 3n + 1n, "one token every 1/3 s (rounded up to the next ns)");
  assert.equal(tryTake(b, next - 1n), false);
  assert.equal(tryTake(b, next), true);
  assert.equal(tryTake(b, 3600n * SECOND), true);
  assert.equal(tryTake(b, 3600n * SECOND), true);
  assert.equal(tryTake(b, 3600n * SECOND), false, "an idle hour still leaves only the burst");
});

test("event time going backwards neither refills nor breaks the bucket", () => {
  const b = createTokenBucket(60, 1);
  assert.equal(tryTake(b, 10n * SECOND), true);
  assert.equal(tryTake(b, 5n * SECOND), false);
  assert.equal(tryTake(b, 11n * SECOND), true);
});

test("bad limits are refused with the field's name", () => {
  assert.throws(() => createTokenBucket(0, 1), /maxOrdersPerMinute/);
  assert.throws(() => createTokenBucket(10, 1.5), /rateLimitBurst/);
});
