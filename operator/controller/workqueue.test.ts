import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkQueue } from "./workqueue.ts";

test("a key is queued once, however often it is added", async () => {
  const q = new WorkQueue();
  q.add("a");
  q.add("b");
  q.add("a");
  assert.equal(q.length, 2);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(q.length, 0);
});

test("a key added while processing is processed again after done, never concurrently", async () => {
  const q = new WorkQueue();
  q.add("a");
  const first = await q.get();
  q.add("a");
  assert.equal(q.length, 0, "not handed to a second worker while processing");
  q.done(first as string);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), "a");
});

test("a waiting worker gets the next key at once", async () => {
  const q = new WorkQueue();
  const next = q.get();
  q.add("x");
  assert.equal(await next, "x");
});

test("per-item backoff doubles up to the cap and forget resets it", () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 70, burst: 1000 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => q.backoffFor("k")),
    [10, 20, 40, 70, 70],
  );
  assert.equal(q.backoffFor("other"), 10, "keys back off independently");
  q.forget("k");
  assert.equal(q.backoffFor("k"), 10);
});

test("the overall token bucket limits rate-limited re-adds across keys", () => {
  let now = 0;
  const q = new WorkQueue({ baseDelayMs: 1, qps: 10, burst: 2, now: () => now });
  assert.equal(q.backoffFor("a"), 1);
  assert.equal(q.backoffFor("b"), 1);
  assert.equal(q.backoffFor("c"), 100, "third within the burst waits one token (100 ms at 10/s)");
  assert.equal(q.backoffFor("d"), 200);
  now = 1000;
  assert.equal(q.backoffFor("e"), 1, "refilled after a second");
});

test("addAfter keeps the earliest schedule; shutdown releases waiting workers", async () => {
  const q = new WorkQueue();
  q.addAfter("k", 30);
  q.addAfter("k", 10_000);
  const got = await q.get();
  assert.equal(got, "k");
  const waiting = q.get();
  q.shutdown();
  assert.equal(await waiting, undefined);
});
