import assert from "node:assert/strict";
import { test } from "node:test";
import { findCondition, setCondition, setConditions, toRfc3339 } from "./conditions.ts";
import { derivePhase } from "./phase.ts";

const t0 = new Date("2026-01-02T03:04:05.678Z");
const t1 = new Date("2026-01-02T03:09:00.000Z");

test("setCondition stamps the transition time only when the status changes", () => {
  const first = setCondition(
    [],
    { type: "Ready", status: "False", reason: "Provisioning", message: "a" },
    1,
    t0,
  );
  assert.equal(first[0]?.lastTransitionTime, "2026-01-02T03:04:05Z");
  const same = setCondition(
    first,
    { type: "Ready", status: "False", reason: "StillWaiting", message: "b" },
    2,
    t1,
  );
  assert.equal(same[0]?.lastTransitionTime, "2026-01-02T03:04:05Z");
  assert.equal(same[0]?.reason, "StillWaiting");
  assert.equal(same[0]?.observedGeneration, 2);
  const flipped = setCondition(
    same,
    { type: "Ready", status: "True", reason: "AllReady", message: "" },
    2,
    t1,
  );
  assert.equal(flipped[0]?.lastTransitionTime, toRfc3339(t1));
  assert.equal(flipped.length, 1);
});

test("setCondition refuses a reason that is not CamelCase", () => {
  assert.throws(
    () => setCondition([], { type: "Ready", status: "True", reason: "not ok", message: "" }, 1, t0),
    /reason "not ok"/,
  );
});

test("setConditions keeps one condition per type, sorted", () => {
  const out = setConditions(
    [],
    [
      { type: "Trading", status: "False", reason: "A", message: "" },
      { type: "DatabaseReady", status: "True", reason: "B", message: "" },
      { type: "Trading", status: "True", reason: "C", message: "" },
    ],
    3,
    t0,
  );
  assert.deepEqual(
    out.map((c) => [c.type, c.status]),
    [
      ["DatabaseReady", "True"],
      ["Trading", "True"],
    ],
  );
  assert.equal(findCondition(out, "Trading")?.reason, "C");
});

test("derivePhase summarises the conditions", () => {
  const c = (
    type: "Ready" | "KillSwitch" | "StagesReady",
    status: "True" | "False",
    reason = "X",
  ) => ({ type, status, reason, message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }) as const;
  assert.equal(derivePhase({ conditions: [], deleting: true, fresh: false }), "Terminating");
  assert.equal(derivePhase({ conditions: [], deleting: false, fresh: true }), "Pending");
  assert.equal(
    derivePhase({ conditions: [c("KillSwitch", "True")], deleting: false, fresh: false }),
    "Halted",
  );
  assert.equal(
    derivePhase({ conditions: [c("Ready", "True")], deleting: false, fresh: false }),
    "Running",
  );
  assert.equal(
    derivePhase({
      conditions: [c("Ready", "False"), c("StagesReady", "False", "InstancesUnavailable")],
      deleting: false,
      fresh: false,
      previous: "Running",
    }),
    "Degraded",
  );
  assert.equal(
    derivePhase({ conditions: [c("Ready", "False")], deleting: false, fresh: false }),
    "Provisioning",
  );
  assert.equal(
    derivePhase({
      conditions: [c("Ready", "False", "ReconcileFailed")],
      deleting: false,
      fresh: false,
    }),
    "Failed",
  );
});
