import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventQueue } from "./event-queue.ts";

describe("EventQueue", () => {
  it("runs events by time, and events at the same time in the order they were scheduled", () => {
    const q = new EventQueue();
    const seen: string[] = [];
    const times = [5n, 1n, 3n, 3n, 1n, 9n, 3n];
    for (const [i, t] of times.entries()) q.schedule(t, () => seen.push(`${t}:${i}`));
    q.runUntil(3n, false);
    assert.deepEqual(seen, ["1:1", "1:4"]);
    q.runUntil(3n, true);
    assert.deepEqual(seen.slice(2), ["3:2", "3:3", "3:6"]);
    q.schedule(4n, () => seen.push("4:new"));
    q.runUntil(100n, true);
    assert.deepEqual(seen.slice(5), ["4:new", "5:0", "9:5"]);
    assert.equal(q.size, 0);
  });
});
