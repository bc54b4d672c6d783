import assert from "node:assert/strict";
import { test } from "node:test";
import { LimiterGate } from "./limiter-gate.ts";

/** A clock that stands still: the limiter's refill never depends on when the test is scheduled. */
const frozenNow = () => 1_765_000_000_000;

/** afterPendingCallbacks resolves once every promise callback already queued has run. */
const afterPendingCallbacks = () => new Promise<void>((resolve) => setImmediate(resolve));

test("a free slot is granted synchronously, without a promise", () => {
  const gate = new LimiterGate({ perMinute: 60_000, burst: 10 }, frozenNow);
  assert.equal(gate.acquire(), undefined);
  gate.release({ remaining: 100, resetMs: frozenNow() + 60_000 });
  assert.equal(gate.acquire(), undefined);
  gate.close();
});

test("waiters are let through in FIFO order as answers come back", async () => {
  const gate = new LimiterGate({ perMinute: 60_000, burst: 10 }, frozenNow);
  assert.equal(gate.acquire(), undefined); // the first request probes the broker's count
  const order: number[] = [];
  const waits = [1, 2, 3].map((i) => gate.acquire()?.then(() => order.push(i)));
  assert.ok(
    waits.every((w) => w !== undefined),
    "nobody passes before the probe answers",
  );
  await afterPendingCallbacks();
  assert.deepEqual(order, [], "nobody passes before the probe answers");
  gate.release({ remaining: 2, resetMs: frozenNow() + 60_000 });
  // The release itself lets the first two through; once every callback it queued has run, the
  // third must still wait: with the clock frozen, no slot frees up until the next answer or close.
  await afterPendingCallbacks();
  assert.deepEqual(order, [1, 2], "two slots left: the first two waiters go, in order");
  gate.close();
  await waits[2];
  assert.deepEqual(order, [1, 2, 3], "close lets the rest through");
});
