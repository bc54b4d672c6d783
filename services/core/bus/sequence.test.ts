import assert from "node:assert/strict";
import { test } from "node:test";
import { SequenceTracker, Verdict } from "./sequence.ts";

test("SequenceTracker classifies start, order, gaps and stale per (publisher, topic)", () => {
  const t = new SequenceTracker();
  assert.equal(t.observe(1, "a", 5), Verdict.Started);
  assert.equal(t.observe(1, "a", 6), Verdict.InOrder);
  assert.equal(t.observe(1, "b", 1), Verdict.Started);
  assert.equal(t.observe(1, "a", 10), Verdict.Gap);
  assert.equal(t.lastMissing, 3);
  assert.equal(t.observe(1, "a", 10), Verdict.Stale);
  assert.equal(t.observe(1, "a", 2), Verdict.Stale);
  assert.equal(t.observe(2, "a", 1), Verdict.Started, "another publisher is another stream");
  assert.deepEqual(t.positions(), [
    { publisherId: 1, topic: "a", sequence: 10 },
    { publisherId: 1, topic: "b", sequence: 1 },
    { publisherId: 2, topic: "a", sequence: 1 },
  ]);
});

test("SequenceTracker resumes from persisted positions", () => {
  const t = new SequenceTracker();
  t.resume([{ publisherId: 7, topic: "control", sequence: 4 }]);
  assert.equal(t.observe(7, "control", 9), Verdict.Gap);
  assert.equal(t.lastMissing, 4);
  assert.equal(t.observe(8, "control", 9), Verdict.Started);
});
