import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_TIMING,
  decide,
  type Lease,
  released,
  toMicroTime,
  validateTiming,
} from "./lease-record.ts";

const lease = (spec: Lease["spec"], epoch?: number): Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: {
    name: "l",
    namespace: "ns",
    resourceVersion: "7",
    ...(epoch !== undefined
      ? { annotations: { "tradepipe.io/fencing-epoch": String(epoch) } }
      : {}),
  },
  spec,
});
const me = (nowMs: number, leading = false) => ({
  identity: "me",
  leading,
  nowMs,
  // The wall clock is another clock than the monotonic one decisions use.
  wallMs: WALL_EPOCH + nowMs,
  leaseDurationMs: 2000,
});
const WALL_EPOCH = Date.UTC(2026, 0, 1);

test("a free Lease is acquired with epoch 1 and microsecond times", () => {
  const d = decide(lease({}), { resourceVersion: "7", observedAtMs: 0 }, me(1000), new Map());
  assert.equal(d.act, "write");
  if (d.act !== "write") return;
  assert.equal(d.epoch, 1);
  assert.equal(d.acquired, true);
  assert.equal(d.lease.spec?.holderIdentity, "me");
  assert.equal(d.lease.spec?.leaseDurationSeconds, 2);
  assert.match(d.lease.spec?.renewTime ?? "", /\.\d{6}Z$/);
  assert.equal(d.lease.metadata.annotations?.["tradepipe.io/fencing-epoch"], "1");
});

test("another holder's Lease is respected until it expires by the local observation", () => {
  const held = lease(
    { holderIdentity: "other", leaseDurationSeconds: 2, renewTime: toMicroTime(0) },
    4,
  );
  const early = decide(held, { resourceVersion: "7", observedAtMs: 10_000 }, me(11_500), new Map());
  assert.deepEqual(early, { act: "wait", holder: "other", expiresInMs: 500 });
  const late = decide(held, { resourceVersion: "7", observedAtMs: 10_000 }, me(12_000), new Map());
  assert.equal(late.act, "write");
  if (late.act === "write") {
    assert.equal(late.epoch, 5, "a takeover bumps the fencing epoch");
    assert.equal(late.lease.spec?.leaseTransitions, 1);
  }
});

test("renewal keeps epoch and acquire time and applies pending annotations", () => {
  const mine = lease({ holderIdentity: "me", acquireTime: "A", leaseTransitions: 3 }, 9);
  const d = decide(
    mine,
    { resourceVersion: "7", observedAtMs: 0 },
    me(5000, true),
    new Map([["tradepipe.io/halted", "9"]]),
  );
  assert.equal(d.act, "write");
  if (d.act !== "write") return;
  assert.equal(d.epoch, 9);
  assert.equal(d.acquired, false);
  assert.equal(d.lease.spec?.acquireTime, "A");
  assert.equal(d.lease.spec?.leaseTransitions, 3);
  assert.equal(d.lease.metadata.annotations?.["tradepipe.io/halted"], "9");
});

test("a restarted process with the same identity is a new acquisition (new epoch)", () => {
  const mine = lease({ holderIdentity: "me", acquireTime: "A" }, 9);
  const d = decide(mine, { resourceVersion: "7", observedAtMs: 0 }, me(5000, false), new Map());
  assert.equal(d.act === "write" && d.epoch, 10);
});

test("release empties the holder; timing rules follow client-go", () => {
  const r = released(lease({ holderIdentity: "me", leaseDurationSeconds: 2 }), 0);
  assert.equal(r.spec?.holderIdentity, "");
  assert.equal(r.spec?.leaseDurationSeconds, 1);
  validateTiming({ leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 500 });
  assert.throws(() =>
    validateTiming({ leaseDurationMs: 1500, renewDeadlineMs: 1500, retryPeriodMs: 500 }),
  );
  assert.throws(() =>
    validateTiming({ leaseDurationMs: 2000, renewDeadlineMs: 600, retryPeriodMs: 500 }),
  );
});

test("a wall-clock jump never shortens another holder's lease (the monotonic observation decides)", () => {
  // The record says it was renewed an hour ago by the wall clock; this candidate saw it change
  // 1 s ago on its monotonic clock, so the 2 s lease still blocks it.
  const held = lease(
    {
      holderIdentity: "other",
      leaseDurationSeconds: 2,
      renewTime: toMicroTime(WALL_EPOCH - 3_600_000),
    },
    4,
  );
  const d = decide(held, { resourceVersion: "7", observedAtMs: 10_000 }, me(11_000), new Map());
  assert.equal(d.act, "wait");
  assert.equal(d.act === "wait" && d.expiresInMs, 1000);
});

test("the operator's default timing keeps Kubernetes' margins (15/10/2 s)", () => {
  assert.deepEqual(DEFAULT_TIMING, {
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
  validateTiming(DEFAULT_TIMING);
  assert.ok(DEFAULT_TIMING.leaseDurationMs - DEFAULT_TIMING.renewDeadlineMs >= 5_000);
});
