import assert from "node:assert/strict";
import { test } from "node:test";
import { canTransition, isStale, isTerminal, statusFromBroker } from "./transitions.ts";
import type { OrderStatus } from "./types.ts";

const ALL: OrderStatus[] = [
  "Created",
  "Submitted",
  "New",
  "PartiallyFilled",
  "Filled",
  "Cancelled",
  "Rejected",
  "Expired",
  "Replaced",
];

test("the happy path is allowed, in order", () => {
  const path: OrderStatus[] = ["Created", "Submitted", "New", "PartiallyFilled", "Filled"];
  for (let i = 1; i < path.length; i++)
    assert.ok(canTransition(path[i - 1]!, path[i]!), `${path[i - 1]} → ${path[i]}`);
});

test("finished orders never move again, and nothing goes back to Created", () => {
  for (const from of ALL) {
    for (const to of ALL) {
      if (isTerminal(from) || to === "Created" || from === to) {
        assert.equal(canTransition(from, to), false, `${from} → ${to} must be refused`);
      }
    }
  }
  assert.equal(canTransition("Created", "Filled"), false, "an unsent order cannot fill");
  assert.equal(canTransition("PartiallyFilled", "New"), false);
  assert.equal(canTransition("PartiallyFilled", "Rejected"), false);
});

test("a live state already passed is stale, not invalid", () => {
  assert.equal(isStale("PartiallyFilled", "New"), true);
  assert.equal(isStale("Filled", "PartiallyFilled"), true);
  assert.equal(isStale("New", "PartiallyFilled"), false);
  assert.equal(isStale("Filled", "Cancelled"), false);
});

test("broker statuses map onto the machine's states", () => {
  assert.equal(statusFromBroker("accepted", false), "New");
  assert.equal(statusFromBroker("pending_cancel", true), "PartiallyFilled");
  assert.equal(statusFromBroker("filled", true), "Filled");
  assert.equal(statusFromBroker("canceled", true), "Cancelled");
  assert.equal(statusFromBroker("expired", false), "Expired");
  assert.equal(statusFromBroker("rejected", false), "Rejected");
  assert.equal(statusFromBroker("replaced", false), "Replaced");
});
