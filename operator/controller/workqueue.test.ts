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

test("defaults: 50 ms base backoff doubling to a 60 s cap, a 200-key burst refilled at 20/s", () => {
  let now = 0;
  const q = new WorkQueue({ now: () => now });
  const delays = Array.from({ length: 12 }, () => q.backoffFor("k"));
  assert.deepEqual(delays.slice(0, 3), [50, 100, 200]);
  assert.equal(delays[10], 51_200);
  assert.equal(delays[11], 60_000, "capped");
  assert.equal(q.failuresOf("k"), 12);
  assert.equal(q.failuresOf("never"), 0);
  q.forget("k");
  assert.equal(q.failuresOf("k"), 0);
  // 12 tokens used; 188 more keys still fit the burst, the next one waits a token (50 ms at 20/s).
  for (let i = 0; i < 188; i++) assert.equal(q.backoffFor(`key-${i}`), 50);
  assert.equal(
    q.backoffFor("one-too-many"),
    50,
    "a token short: 1/20 s, the same as the base delay",
  );
  assert.equal(q.backoffFor("two-too-many"), 100);
  now = 60_000;
  assert.equal(q.backoffFor("rested"), 50, "a refilled bucket adds no delay");
});

test("the bucket refills at qps but never beyond its burst", () => {
  let now = 0;
  const q = new WorkQueue({ baseDelayMs: 1, qps: 10, burst: 2, now: () => now });
  now = 3_600_000; // an hour idle: still only `burst` tokens
  assert.equal(q.backoffFor("a"), 1);
  assert.equal(q.backoffFor("b"), 1);
  assert.equal(q.backoffFor("c"), 100);
  now += 150; // 1.5 tokens back, but c borrowed one: d waits for half a token, e for one and a half
  assert.equal(q.backoffFor("d"), 50);
  assert.equal(q.backoffFor("e"), 150);
});

test("a rate-limited key comes back after its backoff", async () => {
  const q = new WorkQueue({ baseDelayMs: 5 });
  q.addRateLimited("slow");
  assert.equal(q.length, 0, "not at once");
  assert.equal(q.failuresOf("slow"), 1);
  assert.equal(await q.get(), "slow");
});

test("addAfter with no delay queues at once; an earlier schedule replaces a later one", async () => {
  const q = new WorkQueue();
  q.addAfter("now", 0);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), "now");
  q.addAfter("k", 60_000);
  q.addAfter("k", 5);
  assert.equal(await q.get(), "k", "the 5 ms schedule fired; the minute-long one was replaced");
  q.shutdown();
});

test("after shutdown nothing is queued or scheduled and get returns undefined", async () => {
  const q = new WorkQueue();
  q.addAfter("pending", 5);
  q.shutdown();
  q.add("late");
  q.addAfter("later", 0);
  q.addAfter("much-later", 5);
  assert.equal(q.length, 0);
  assert.equal(await q.get(), undefined);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(q.length, 0, "the cancelled schedule never fires");
});

test("a key handed straight to a waiting worker is processing: re-adding it waits for done", async () => {
  const q = new WorkQueue();
  const worker = q.get();
  q.add("a");
  assert.equal(await worker, "a");
  q.add("a");
  q.add("b");
  assert.equal(q.length, 1, "only b; a is being processed");
  assert.equal(await q.get(), "b");
  q.done("b");
  q.done("a");
  assert.equal(q.length, 1, "a again, once, after its first run is done");
  assert.equal(await q.get(), "a");
  q.done("a");
  assert.equal(q.length, 0, "done without a re-add does not re-queue");
});

test("on a mocked clock: an earlier schedule replaces a later one, which never fires", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  const q = new WorkQueue({ now: Date.now });
  q.addAfter("k", 60_000);
  q.addAfter("k", 5);
  t.mock.timers.tick(5);
  assert.equal(q.length, 1, "the 5 ms schedule fired");
  assert.equal(await q.get(), "k");
  q.done("k");
  t.mock.timers.tick(60_000);
  assert.equal(q.length, 0, "the replaced minute-long schedule was cancelled");
  q.addAfter("j", 5);
  q.addAfter("j", 60_000);
  t.mock.timers.tick(5);
  assert.equal(q.length, 1, "a later schedule does not replace an earlier one");
});

test("on a mocked clock: a key whose schedule fired can be scheduled again", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  const q = new WorkQueue({ now: Date.now });
  q.addAfter("k", 5);
  t.mock.timers.tick(5);
  assert.equal(await q.get(), "k");
  q.done("k");
  q.addAfter("k", 10);
  t.mock.timers.tick(10);
  assert.equal(q.length, 1);
});

test("a key handed to a waiting worker and done without a re-add is not queued again", async () => {
  const q = new WorkQueue();
  const worker = q.get();
  q.add("a");
  assert.equal(await worker, "a");
  q.done("a");
  assert.equal(q.length, 0);
});
