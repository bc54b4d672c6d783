import assert from "node:assert/strict";
import { test } from "node:test";
import { callsInWindow, createCallWindow, nextTokenAtNs, record, tryTake } from "./rate-limit.ts";

const SECOND = 1_000_000_000n;

test("the window admits `limit` calls in any 60 s and frees a slot 60 s after each call", () => {
  const w = createCallWindow(3);
  assert.equal(tryTake(w, 0n), true);
  assert.equal(tryTake(w, 10n * SECOND), true);
  assert.equal(tryTake(w, 20n * SECOND), true);
  assert.equal(tryTake(w, 30n * SECOND), false);
  assert.equal(nextTokenAtNs(w, 30n * SECOND), 60n * SECOND, "the first call leaves the window");
  assert.equal(tryTake(w, 60n * SECOND - 1n), false);
  assert.equal(tryTake(w, 60n * SECOND), true);
  assert.equal(callsInWindow(w, 3600n * SECOND), 0);
});

test("forced calls (lookups, cancels) are recorded beyond the limit and delay the next order", () => {
  const w = createCallWindow(2);
  record(w, 0n, 3);
  assert.equal(tryTake(w, SECOND), false);
  // Two of the three must leave before there is room: all left at 60 s.
  assert.equal(nextTokenAtNs(w, SECOND), 60n * SECOND);
});

test("event time going backwards never frees a slot early", () => {
  const w = createCallWindow(1);
  assert.equal(tryTake(w, 10n * SECOND), true);
  assert.equal(tryTake(w, 5n * SECOND), false);
  assert.equal(tryTake(w, 69n * SECOND), false);
  assert.equal(tryTake(w, 70n * SECOND), true);
});

test("a bad limit is refused with the field's name", () => {
  assert.throws(() => createCallWindow(0), /maxOrdersPerMinute/);
  assert.throws(() => createCallWindow(1.5), /maxOrdersPerMinute/);
});

test("a long run of calls stays exact after the window compacts its memory", () => {
  const w = createCallWindow(60);
  // 3000 calls a second apart, each admitted as the one 60 s before it leaves; the memory of
  // the calls that left is compacted.
  for (let i = 0n; i < 3000n; i++) assert.equal(tryTake(w, i * SECOND), true, `call ${i}`);
  assert.equal(callsInWindow(w, 2999n * SECOND), 60);
  assert.ok(w.times.length < 3000, "old calls were dropped");
  assert.equal(tryTake(w, 2999n * SECOND), false);
  assert.equal(nextTokenAtNs(w, 2999n * SECOND), 3000n * SECOND);
});
