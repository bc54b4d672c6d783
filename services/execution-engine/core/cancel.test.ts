/** Cancelling: a broker's refusal to cancel, an operator's cancel-all, the kill switch during a retry or a lookup. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stepExecution } from "./step.ts";
import {
  approval,
  engine,
  ofType,
  SECOND,
  sentOrder,
  T0,
  tradeUpdate,
  updates,
} from "./test-support.ts";

test("a cancel the broker refused is audited and reported; the order keeps its status", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const cmds = stepExecution(s, {
    type: "CancelFailed",
    timeNs: T0,
    clientOrderId: id,
    message: "order is already filled",
  });
  const audit = ofType(cmds, "WriteAudit")[0]!.record;
  assert.deepEqual(
    [audit.event, audit.fromStatus, audit.toStatus, audit.detail],
    ["cancel_failed", "New", "New", { message: "order is already filled" }],
  );
  assert.deepEqual(ofType(cmds, "ReportAnomaly"), [
    {
      type: "ReportAnomaly",
      kind: "cancel_failed",
      clientOrderId: id,
      message: "order is already filled",
    },
  ]);
  assert.equal(s.orders.get(id)?.status, "New");
  const unknown = stepExecution(s, {
    type: "CancelFailed",
    timeNs: T0,
    clientOrderId: "tp-x",
    message: "m",
  });
  assert.equal(ofType(unknown, "ReportAnomaly")[0]?.kind, "unknown_order");
  assert.equal(ofType(unknown, "WriteAudit").length, 0);
});

test("cancel-all cancels working orders at the broker and unsent ones locally, with its reason", () => {
  const s = engine();
  const working = sentOrder(s, "w");
  const unsent = ofType(stepExecution(s, approval("u")), "SendOrder")[0]!.request.clientOrderId;
  stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: unsent,
    failure: "retryable",
    httpStatus: 503,
    message: "busy",
  });
  const cmds = stepExecution(s, { type: "CancelAllRequested", timeNs: T0 + SECOND });
  assert.deepEqual(
    ofType(cmds, "CancelOrder").map((c) => c.clientOrderId),
    [working],
  );
  const requested = ofType(cmds, "WriteAudit").find((c) => c.record.event === "cancel_requested");
  assert.equal(requested?.record.detail["reason"], "cancel_all");
  const local = updates(cmds).find((u) => u.clientOrderId === unsent);
  assert.deepEqual([local?.status, local?.reason], ["Cancelled", "cancel_all"]);
  assert.equal(s.killSwitch, false, "cancel-all does not stop new orders");
  assert.equal(ofType(stepExecution(s, approval("next")), "SendOrder").length, 1);
});

test("with the kill switch engaged, a failed send is cancelled instead of retried", () => {
  const s = engine();
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  stepExecution(s, { type: "KillSwitchChanged", timeNs: T0, engaged: true });
  const cmds = stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: id,
    failure: "retryable",
    httpStatus: 503,
    message: "busy",
  });
  assert.equal(ofType(cmds, "ScheduleRetry").length, 0);
  assert.deepEqual(
    updates(cmds).map((u) => [u.status, u.reason]),
    [["Cancelled", "kill_switch"]],
  );
});

test("an order the broker does not know though it was acknowledged is reported, not resent", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1"); // New at the broker
  stepExecution(s, { type: "Started", timeNs: T0 }); // a restart: resolve it
  const cmds = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: id,
    order: null,
  });
  assert.deepEqual(ofType(cmds, "ReportAnomaly"), [
    {
      type: "ReportAnomaly",
      kind: "unknown_order",
      clientOrderId: id,
      message: `order ${id} is New here but the broker does not know it`,
    },
  ]);
  assert.equal(ofType(cmds, "SendOrder").length + ofType(cmds, "ScheduleRetry").length, 0);
});

test("a lookup answered for an order nobody waited on is applied but starts nothing", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const none = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: id,
    order: null,
  });
  assert.equal(ofType(none, "WriteAudit").length, 0, "no lookup was pending");
  assert.equal(ofType(none, "SendOrder").length, 0);
  stepExecution(s, tradeUpdate(id, "fill", "filled", 10, "100"));
  assert.equal(s.finished.get(id)?.status, "Filled");
});
