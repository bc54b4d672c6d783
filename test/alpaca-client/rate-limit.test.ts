/**
 * The client-side rate limiter against the simulator's real per-account limit (200 requests a
 * minute, fixed window, X-RateLimit-* on every answer): a burst larger than the limit draws no
 * 429 because the client waits for X-RateLimit-Reset instead.
 *
 * The simulator's window is a real minute, so the burst test waits up to 60 s by design.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { recordRequests, startHarness } from "./support.ts";

test("a burst of 250 requests against a 200/min broker draws no 429", async (t) => {
  // Our own token bucket is opened wide so that only the broker's headers hold the burst back.
  const h = await startHarness(
    { symbols: ["AAPL"], rateLimitPerMin: 200 },
    { rateLimitPerMinute: 1_000_000, rateLimitBurst: 10_000 },
  );
  t.after(() => h.close());
  const requests = recordRequests();
  t.after(() => requests.stop());
  const results = await Promise.all(
    Array.from({ length: 250 }, (_, i) =>
      i % 2 === 0 ? h.trading.getClock() : h.trading.getAccount(),
    ),
  );
  assert.equal(results.length, 250);
  const statuses = requests.events.map((e) => e.status);
  assert.equal(statuses.length, 250, "every request went exactly once");
  assert.equal(statuses.filter((s) => s === 429).length, 0);
  assert.ok(statuses.every((s) => s === 200));
});

test("with the default limits (180/min, burst 20) a burst stays under the broker's limit", async (t) => {
  const h = await startHarness({ symbols: ["AAPL"], rateLimitPerMin: 200 });
  t.after(() => h.close());
  const requests = recordRequests();
  t.after(() => requests.stop());
  await Promise.all(Array.from({ length: 26 }, () => h.trading.getClock()));
  assert.equal(requests.events.length, 26);
  assert.ok(requests.events.every((e) => e.status === 200));
  assert.equal(h.trading.transport.gate.limiter.inFlight, 0);
});
