import assert from "node:assert/strict";
import { test } from "node:test";
import { type ChildHistory, DEFAULT_RESTART_POLICY, decideRestart } from "./restart-policy.ts";

const fresh: ChildHistory = { fastCrashes: 0, restarts: 0 };

test("a fast crash restarts with doubling backoff up to the cap", () => {
  let h = fresh;
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    const d = decideRestart(h, 100);
    assert.equal(d.action, "restart");
    if (d.action === "restart") delays.push(d.delayMs);
    h = d.history;
  }
  assert.deepEqual(delays, [250, 500, 1000, 2000]);
  const capped = decideRestart({ fastCrashes: 3, restarts: 3 }, 100, {
    ...DEFAULT_RESTART_POLICY,
    maxBackoffMs: 600,
  });
  assert.equal(capped.action === "restart" && capped.delayMs, 600);
});

test("repeated fast crashes make the supervisor give up and say why", () => {
  let h = fresh;
  let last = decideRestart(h, 10);
  for (let i = 0; i < DEFAULT_RESTART_POLICY.maxFastCrashes - 1; i++) {
    h = last.history;
    last = decideRestart(h, 10);
  }
  assert.equal(last.action, "give-up");
  assert.match(last.action === "give-up" ? last.reason : "", /crashed 5 times in a row/);
});

test("a run that lasted resets the fast-crash count", () => {
  const d = decideRestart({ fastCrashes: 4, restarts: 4 }, 60_000);
  assert.equal(d.action, "restart");
  assert.equal(d.history.fastCrashes, 0);
  assert.equal(d.action === "restart" && d.delayMs, DEFAULT_RESTART_POLICY.initialBackoffMs);
});
