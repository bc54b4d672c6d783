import assert from "node:assert/strict";
import { test } from "node:test";
import { type DbPodView, evaluateDatabaseRoles } from "./failover.ts";

const pod = (name: string, o: Partial<DbPodView> = {}): DbPodView => ({
  name,
  ordinal: Number(name.slice(-1)),
  ready: true,
  role: undefined,
  notReadySinceMs: undefined,
  deleting: false,
  ...o,
});
const base = {
  recordedPrimary: undefined,
  primaryHasServed: true,
  failoverDelaySeconds: 10,
  switchoverTo: undefined,
  nowMs: 100_000,
};

test("the lowest ordinal becomes primary, the others replicas", () => {
  const d = evaluateDatabaseRoles({ ...base, pods: [pod("db-1"), pod("db-0")] });
  assert.equal(d.primary, "db-0");
  assert.deepEqual(d.labels, [
    { pod: "db-0", role: "primary" },
    { pod: "db-1", role: "replica" },
  ]);
  assert.equal(d.failover, undefined);
});

test("a healthy labelled primary changes nothing", () => {
  const d = evaluateDatabaseRoles({
    ...base,
    recordedPrimary: "db-0",
    pods: [pod("db-0", { role: "primary" }), pod("db-1", { role: "replica" })],
  });
  assert.deepEqual(d.labels, []);
  assert.equal(d.requeueAfterMs, undefined);
});

test("a primary not ready for less than the delay waits, then fails over to a ready replica", () => {
  const down = (since: number) => ({
    ...base,
    recordedPrimary: "db-0",
    pods: [
      pod("db-0", { role: "primary", ready: false, notReadySinceMs: since }),
      pod("db-1", { role: "replica" }),
    ],
  });
  const early = evaluateDatabaseRoles(down(96_000));
  assert.equal(early.failover, undefined);
  assert.equal(early.requeueAfterMs, 6_000);
  const late = evaluateDatabaseRoles(down(90_000));
  assert.deepEqual(late.failover, { from: "db-0", to: "db-1", reason: "PrimaryUnavailable" });
  assert.equal(late.primary, "db-1");
  assert.deepEqual(late.labels, [
    { pod: "db-0", role: "fenced" },
    { pod: "db-1", role: "primary" },
  ]);
});

test("a primary that never served is not failed over, however long it takes to start", () => {
  const d = evaluateDatabaseRoles({
    ...base,
    primaryHasServed: false,
    recordedPrimary: "db-0",
    pods: [
      pod("db-0", { role: "primary", ready: false, notReadySinceMs: 0 }),
      pod("db-1", { role: "replica" }),
    ],
  });
  assert.equal(d.failover, undefined);
  assert.equal(d.primary, "db-0");
});

test("no failover without a ready replica", () => {
  const d = evaluateDatabaseRoles({
    ...base,
    recordedPrimary: "db-0",
    pods: [
      pod("db-0", { role: "primary", ready: false, notReadySinceMs: 0 }),
      pod("db-1", { role: "replica", ready: false }),
    ],
  });
  assert.equal(d.failover, undefined);
  assert.equal(d.primary, "db-0");
  assert.match(d.waiting ?? "", /not ready/);
});

test("a vanished primary fails over at once", () => {
  const d = evaluateDatabaseRoles({
    ...base,
    recordedPrimary: "db-0",
    pods: [pod("db-1", { role: "replica" })],
  });
  assert.deepEqual(d.failover, { from: "db-0", to: "db-1", reason: "PrimaryUnavailable" });
});

test("switchover to a named ready replica; the fenced pod is deleted once the new primary is ready", () => {
  const d = evaluateDatabaseRoles({
    ...base,
    recordedPrimary: "db-0",
    switchoverTo: "db-1",
    pods: [pod("db-0", { role: "primary" }), pod("db-1", { role: "replica" })],
  });
  assert.deepEqual(d.failover, { from: "db-0", to: "db-1", reason: "Switchover" });
  const after = evaluateDatabaseRoles({
    ...base,
    recordedPrimary: "db-1",
    pods: [pod("db-0", { role: "fenced" }), pod("db-1", { role: "primary" })],
  });
  assert.deepEqual(after.deletePods, ["db-0"]);
  assert.deepEqual(after.labels, []);
  const recreated = evaluateDatabaseRoles({
    ...base,
    recordedPrimary: "db-1",
    pods: [pod("db-0"), pod("db-1", { role: "primary" })],
  });
  assert.deepEqual(recreated.labels, [{ pod: "db-0", role: "replica" }]);
});

test("a stale primary label does not undo a recorded failover: that pod is fenced", () => {
  // Just after db-0 failed over to db-1, the cache can still show db-0 labelled primary.
  const d = evaluateDatabaseRoles({
    ...base,
    recordedPrimary: "db-1",
    pods: [pod("db-0", { role: "primary" }), pod("db-1", { role: "replica" })],
  });
  assert.equal(d.primary, "db-1");
  assert.equal(d.failover, undefined);
  assert.deepEqual(d.labels, [
    { pod: "db-0", role: "fenced" },
    { pod: "db-1", role: "primary" },
  ]);
});
