/** The call window's answers when calls are recorded out of time order, and when it has room. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createCallWindow, nextTokenAtNs, record, tryTake } from "./rate-limit.ts";

const SECOND = 1_000_000_000n;

test("a call recorded with an earlier time than the last counts from the last one", () => {
  const w = createCallWindow(1);
  record(w, 10n * SECOND, 1);
  record(w, 5n * SECOND, 1);
  // Both calls leave the window 60 s after the later one: not before.
  assert.equal(nextTokenAtNs(w, 6n * SECOND), 70n * SECOND);
  assert.equal(tryTake(w, 70n * SECOND - 1n), false);
  assert.equal(tryTake(w, 70n * SECOND), true);
});

test("with room in the window the next token is now", () => {
  const w = createCallWindow(3);
  record(w, 0n, 2);
  assert.equal(nextTokenAtNs(w, SECOND), SECOND);
});
