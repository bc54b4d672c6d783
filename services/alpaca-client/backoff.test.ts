import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay, MAX_SERVER_RETRY_MS, serverRetryDelay } from "./backoff.ts";

const opts = { initialMs: 100, maxMs: 1_000 };

test("backoffDelay grows exponentially up to the cap", () => {
  const hi = () => 0.999999;
  assert.equal(backoffDelay(0, opts, hi), 100);
  assert.equal(backoffDelay(1, opts, hi), 200);
  assert.equal(backoffDelay(3, opts, hi), 800);
  assert.equal(backoffDelay(10, opts, hi), 1_000);
});

test("backoffDelay keeps at least half the cap (equal jitter)", () => {
  assert.equal(
    backoffDelay(0, opts, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(2, opts, () => 0),
    200,
  );
  const d = backoffDelay(2, opts, () => 0.5);
  assert.equal(d, 300);
});

function headers(h: Record<string, string>) {
  return (name: string) => h[name];
}

test("serverRetryDelay honours Retry-After in seconds and as a date", () => {
  assert.equal(serverRetryDelay(headers({ "retry-after": "2" }), 0), 2_000);
  const now = Date.parse("2026-01-01T00:00:00Z");
  const date = new Date(now + 3_000).toUTCString();
  assert.equal(serverRetryDelay(headers({ "retry-after": date }), now), 3_000);
});

test("serverRetryDelay never waits longer than the cap, whatever the response asks", () => {
  const now = Date.parse("2026-03-02T15:00:00Z");
  assert.equal(serverRetryDelay(headers({ "retry-after": "999999999" }), now), MAX_SERVER_RETRY_MS);
  const far = new Date(now + 86_400_000).toUTCString();
  assert.equal(serverRetryDelay(headers({ "retry-after": far }), now), MAX_SERVER_RETRY_MS);
  const reset = String(now / 1000 + 86_400);
  assert.equal(
    serverRetryDelay(headers({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }), now),
    MAX_SERVER_RETRY_MS,
  );
  assert.equal(serverRetryDelay(headers({ "retry-after": "9" }), now, 5_000), 5_000);
});

test("serverRetryDelay waits for X-RateLimit-Reset only when the quota is spent", () => {
  const now = 1_700_000_000_000;
  const reset = String(now / 1000 + 5);
  assert.equal(
    serverRetryDelay(headers({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }), now),
    5_000,
  );
  assert.equal(
    serverRetryDelay(headers({ "x-ratelimit-remaining": "3", "x-ratelimit-reset": reset }), now),
    undefined,
  );
  assert.equal(serverRetryDelay(headers({}), now), undefined);
});
