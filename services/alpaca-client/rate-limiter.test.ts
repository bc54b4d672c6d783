import assert from "node:assert/strict";
import { test } from "node:test";
import {
  parseRateLimitHeaders,
  RateLimiter,
  type RateLimitHeaders,
  WAIT_FOR_RESPONSE,
} from "./rate-limiter.ts";

test("before the broker's first answer only one probe goes out", () => {
  const lim = new RateLimiter({ perMinute: 1_000_000, burst: 1_000 });
  assert.equal(lim.tryAcquire(0), 0);
  assert.equal(lim.tryAcquire(0), WAIT_FOR_RESPONSE);
  lim.release({ remaining: 150, resetMs: 60_000 });
  assert.equal(lim.serverBudget, 150);
  assert.equal(lim.tryAcquire(1), 0);
});

test("a broker that sends no rate-limit headers leaves only the token bucket", () => {
  const lim = new RateLimiter({ perMinute: 1_000_000, burst: 1_000 });
  assert.equal(lim.tryAcquire(0), 0);
  lim.release(undefined);
  assert.equal(lim.serverBudget, undefined);
  for (let i = 0; i < 100; i++) assert.equal(lim.tryAcquire(0), 0);
});

test("token bucket: a burst goes at once, then one request per 1/rate", () => {
  const lim = new RateLimiter({ perMinute: 60, burst: 5 });
  const t0 = 1_000_000;
  for (let i = 0; i < 5; i++) {
    assert.equal(lim.tryAcquire(t0), 0);
    lim.release(undefined);
  }
  assert.equal(lim.tryAcquire(t0), 1_000);
  assert.equal(lim.tryAcquire(t0 + 999), 1);
  assert.equal(lim.tryAcquire(t0 + 1_000), 0);
});

test("a spent server quota waits until X-RateLimit-Reset, then probes once", () => {
  const lim = new RateLimiter({ perMinute: 1_000_000, burst: 1_000 });
  const now = 10_000;
  assert.equal(lim.tryAcquire(now), 0);
  lim.release({ remaining: 0, resetMs: 12_000 });
  assert.equal(lim.tryAcquire(now), 2_000);
  assert.equal(lim.tryAcquire(12_000), 0, "one probe after the reset");
  assert.equal(lim.tryAcquire(12_000), WAIT_FOR_RESPONSE, "no second request before it answers");
  lim.release({ remaining: 50, resetMs: 13_000 });
  assert.equal(lim.tryAcquire(12_001), 0);
});

/** known returns a limiter that has seen one answer with a large budget. */
function known(): RateLimiter {
  const lim = new RateLimiter({ perMinute: 1_000_000, burst: 1_000 });
  lim.tryAcquire(0);
  lim.release({ remaining: 1_000, resetMs: 1_000_000 });
  return lim;
}

test("requests in flight count against the reported Remaining", () => {
  const lim = known();
  for (let i = 0; i < 4; i++) assert.equal(lim.tryAcquire(0), 0);
  // The first answer says 3 left, but 3 more requests are still in flight.
  lim.release({ remaining: 3, resetMs: 60_000 });
  assert.equal(lim.serverBudget, 0);
  assert.equal(lim.tryAcquire(1), 59_999);
});

test("a late response never raises the budget within the same window", () => {
  const lim = known();
  for (let i = 0; i < 3; i++) lim.tryAcquire(0);
  lim.release({ remaining: 5, resetMs: 5_000 });
  assert.equal(lim.serverBudget, 3);
  lim.release({ remaining: 9, resetMs: 5_000 });
  assert.equal(lim.serverBudget, 3);
});

test("a failed probe does not deadlock the limiter", () => {
  const lim = new RateLimiter({ perMinute: 1_000_000, burst: 1_000 });
  lim.tryAcquire(0);
  lim.release({ remaining: 0, resetMs: 1_000 });
  assert.equal(lim.tryAcquire(1_000), 0, "the probe");
  assert.equal(lim.tryAcquire(1_000), WAIT_FOR_RESPONSE);
  lim.releaseFailed();
  assert.equal(lim.tryAcquire(1_001), 0, "another probe after the failed one");
});

test("parseRateLimitHeaders reads the three headers (Reset in epoch seconds)", () => {
  const h: Record<string, string> = {
    "x-ratelimit-limit": "200",
    "x-ratelimit-remaining": "199",
    "x-ratelimit-reset": "1700000060",
  };
  assert.deepEqual(
    parseRateLimitHeaders((n) => h[n]),
    {
      limit: 200,
      remaining: 199,
      resetMs: 1_700_000_060_000,
    },
  );
  assert.equal(
    parseRateLimitHeaders(() => undefined),
    undefined,
  );
});

/** A broker model: `admit(now)` returns the headers, or null for a 429. */
interface ServerModel {
  admit(nowMs: number): { ok: boolean; headers: RateLimitHeaders };
}

function fixedWindowServer(limit: number, windowMs: number): ServerModel {
  let windowStart = 0;
  let used = 0;
  return {
    admit(now) {
      const start = Math.floor(now / windowMs) * windowMs;
      if (start !== windowStart) {
        windowStart = start;
        used = 0;
      }
      const ok = used < limit;
      if (ok) used++;
      const resetMs = Math.ceil((start + windowMs) / 1000) * 1000;
      return { ok, headers: { limit, remaining: limit - used, resetMs } };
    },
  };
}

function slidingWindowServer(limit: number, windowMs: number): ServerModel {
  const accepted: number[] = [];
  return {
    admit(now) {
      while (accepted.length > 0 && (accepted[0] as number) <= now - windowMs) accepted.shift();
      const ok = accepted.length < limit;
      if (ok) accepted.push(now);
      const oldest = accepted[0] ?? now;
      const resetMs = Math.ceil((oldest + windowMs) / 1000) * 1000;
      return { ok, headers: { limit, remaining: limit - accepted.length, resetMs } };
    },
  };
}

/**
 * drive runs `total` requests, `concurrency` at a time, through the limiter against a server
 * model on a simulated clock (request latency 1–30 ms, seeded), and counts 429s.
 */
function drive(server: ServerModel, total: number, concurrency: number) {
  const lim = new RateLimiter({ perMinute: 1_000_000, burst: 1_000 });
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  type Ev = { at: number; kind: "try" | "arrive" | "answer"; headers?: RateLimitHeaders };
  const events: Ev[] = [];
  const push = (e: Ev) => {
    events.push(e);
    events.sort((a, b) => a.at - b.at);
  };
  for (let i = 0; i < concurrency; i++) push({ at: 0, kind: "try" });
  let sent = 0;
  let rejected = 0;
  let done = 0;
  let now = 0;
  while (events.length > 0) {
    const ev = events.shift() as Ev;
    now = ev.at;
    if (ev.kind === "try") {
      if (sent >= total) continue;
      const wait = lim.tryAcquire(now);
      if (wait === 0) {
        sent++;
        push({ at: now + 1 + Math.floor(rand() * 15), kind: "arrive" });
      } else if (wait !== WAIT_FOR_RESPONSE) {
        push({ at: now + wait, kind: "try" });
      } else {
        push({ at: now + 5, kind: "try" });
      }
    } else if (ev.kind === "arrive") {
      const r = server.admit(now);
      if (!r.ok) rejected++;
      push({ at: now + 1 + Math.floor(rand() * 15), kind: "answer", headers: r.headers });
    } else {
      lim.release(ev.headers);
      done++;
      push({ at: now, kind: "try" });
    }
  }
  return { rejected, done, elapsedMs: now };
}

test("following the headers, 250 concurrent requests draw no 429 (fixed window)", () => {
  const r = drive(fixedWindowServer(40, 2_000), 250, 64);
  assert.equal(r.done, 250);
  assert.equal(r.rejected, 0);
});

test("following the headers, 250 concurrent requests draw no 429 (sliding window)", () => {
  const r = drive(slidingWindowServer(40, 2_000), 250, 64);
  assert.equal(r.done, 250);
  assert.equal(r.rejected, 0);
});
