import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, Registry } from "prom-client";
import { afterRun, deferredObserve } from "./deferred-observe.ts";

const histogram = () =>
  new Histogram({
    name: "t_seconds",
    help: "t",
    buckets: [0.001, 0.01],
    registers: [new Registry()],
  });

test("deferredObserve hands every value to the histogram right after the synchronous run", async () => {
  const seen: number[] = [];
  const recorded = deferredObserve({ observe: (v) => seen.push(v) });
  recorded(1);
  recorded(2);
  assert.deepEqual(seen, [], "nothing observed inside the run");
  await Promise.resolve();
  assert.deepEqual(seen, [1, 2]);

  const h = histogram();
  const observe = deferredObserve(h);
  observe(0.0005);
  observe(0.005);
  observe(0.5);
  await Promise.resolve();
  const later = await h.get();
  const value = (name: string, le?: number) =>
    later.values.find((v) => v.metricName === name && (le === undefined || v.labels.le === le))
      ?.value;
  assert.equal(value("t_seconds_count"), 3);
  assert.equal(value("t_seconds_bucket", 0.001), 1);
  assert.equal(value("t_seconds_bucket", 0.01), 2);
  assert.ok(Math.abs((value("t_seconds_sum") ?? 0) - 0.5055) < 1e-12);
});

test("deferredObserve loses nothing when one run observes more than its buffer holds", async () => {
  const h = histogram();
  const observe = deferredObserve(h);
  for (let i = 0; i < 1000; i++) observe(0.002);
  await Promise.resolve();
  const got = await h.get();
  assert.equal(got.values.find((v) => v.metricName === "t_seconds_count")?.value, 1000);
});

test("afterRun runs its function once after the run, however often the run asked", async () => {
  let runs = 0;
  const soon = afterRun(() => runs++);
  soon();
  soon();
  assert.equal(runs, 0);
  await Promise.resolve();
  assert.equal(runs, 1);
  soon();
  await Promise.resolve();
  assert.equal(runs, 2);
});
