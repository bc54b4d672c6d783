import assert from "node:assert/strict";
import { test } from "node:test";
import { monotonicClockNs, wallClockNs } from "./time.ts";

test("wallClockNs agrees with Date.now() well within its millisecond, and never goes back", () => {
  // The anchor is taken at a millisecond tick: a reading lies in the millisecond Date.now()
  // names around it, give or take far less than the up-to-1 ms a truncated anchor would be off.
  const slackNs = 50_000n;
  for (let i = 0; i < 1_000; i++) {
    const before = BigInt(Date.now()) * 1_000_000n;
    const ns = wallClockNs();
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.ok(ns >= before - slackNs && ns < after + slackNs, `${ns} vs ${before}..${after}`);
  }
  let last = wallClockNs();
  for (let i = 0; i < 1_000; i++) {
    const now = wallClockNs();
    assert.ok(now >= last);
    last = now;
  }
});

test("wallClockNs runs at the monotonic clock's rate (one offset per process)", () => {
  const offset = wallClockNs() - monotonicClockNs();
  for (let i = 0; i < 100; i++) {
    const d = wallClockNs() - monotonicClockNs() - offset;
    assert.ok(d >= -1_000_000n && d <= 1_000_000n);
  }
});
