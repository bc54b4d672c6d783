import assert from "node:assert/strict";
import { test } from "node:test";
import { LimiterGate } from "./limiter-gate.ts";

test("a free slot is granted synchronously, without a promise", () => {
  const gate = new LimiterGate({ perMinute: 60_000, burst: 10 });
  assert.equal(gate.acquire(), undefined);
  gate.release({ remaining: 100, resetMs: Date.now() + 60_000 });
  assert.equal(gate.acquire(), undefined);
  gate.close();
});

test("waiters are let through in FIFO order as answers come back", async () => {
  const gate = new LimiterGate({ perMinute: 60_000, burst: 10 });
  assert.equal(gate.acquire(), undefined); // the first request probes the broker's count
  const order: number[] = [];
  const waits = [1, 2, 3].map((i) => gate.acquire()?.then(() => order.push(i)));
  assert.ok(
    waits.every((w) => w !== undefined),
    "nobody passes before the probe answers",
  );
  gate.release({ remaining: 2, resetMs: Date.now() + 60_000 });
  await Promise.race([Promise.all(waits.slice(0, 2)), new Promise((r) => setTimeout(r, 500))]);
  assert.deepEqual(order, [1, 2], "two slots left: the first two waiters go, in order");
  gate.close();
  await waits[2];
  assert.deepEqual(order, [1, 2, 3], "close lets the rest through");
});
