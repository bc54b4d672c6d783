/**
 * The engine's answers to events about orders it may not expect: unknown orders, stale retries,
 * invalid intents, a restart with the kill switch engaged; and the texts it reports them with.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { eventsForRisk, fillForTracker } from "./downstream.ts";
import { createCallWindow } from "./rate-limit.ts";
import { restoreExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import {
  approval,
  d,
  engine,
  ofType,
  SECOND,
  SPEC_EXECUTION,
  sentOrder,
  snapshot,
  T0,
  updates,
} from "./test-support.ts";
import type { Order } from "./types.ts";

test("answers about an order the engine does not know are reported with the event, not thrown", () => {
  const s = engine();
  const cases = [
    [
      { type: "SendSucceeded", timeNs: T0, clientOrderId: "tp-x", order: snapshot("new") },
      "send_succeeded",
    ],
    [
      { type: "OrderResolved", timeNs: T0, clientOrderId: "tp-x", order: snapshot("new") },
      "resolved",
    ],
    [{ type: "OrderResolved", timeNs: T0, clientOrderId: "tp-x", order: null }, "resolved"],
    [{ type: "CancelFailed", timeNs: T0, clientOrderId: "tp-x", message: "m" }, "cancel_failed"],
  ] as const;
  for (const [event, name] of cases) {
    assert.deepEqual(ofType(stepExecution(s, event), "ReportAnomaly"), [
      {
        type: "ReportAnomaly",
        kind: "unknown_order",
        clientOrderId: "tp-x",
        message: `${name} for an order this engine does not know: tp-x`,
      },
    ]);
  }
});

test("an acknowledgement and a lookup's answer are audited under their own names", () => {
  const s = engine();
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  const ack = stepExecution(s, {
    type: "SendSucceeded",
    timeNs: T0,
    clientOrderId: id,
    order: snapshot("new"),
  });
  assert.equal(ofType(ack, "WriteAudit")[0]?.record.event, "accepted");
  const looked = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: id,
    order: snapshot("new"),
  });
  const detail = ofType(looked, "WriteAudit")[0]?.record;
  assert.equal(detail?.event, "resolved");
  assert.equal("executionId" in (detail?.detail ?? {}), false, "a lookup carries no execution");
});

test("a retry that comes due for an order no longer waiting for one does nothing", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  assert.deepEqual(
    stepExecution(s, { type: "RetryDue", timeNs: T0 + SECOND, clientOrderId: id }),
    [],
  );
  assert.deepEqual(
    stepExecution(s, { type: "RetryDue", timeNs: T0, clientOrderId: "tp-gone" }),
    [],
  );
});

test("releasing the kill switch cancels nothing", () => {
  const s = engine();
  sentOrder(s, "sig-1");
  assert.deepEqual(stepExecution(s, { type: "KillSwitchChanged", timeNs: T0, engaged: false }), []);
});

test("invalid intents are reported with what is wrong and their correlation id", () => {
  const s = engine();
  const anomaly = (e: ReturnType<typeof approval>) => ofType(stepExecution(s, e), "ReportAnomaly");
  assert.deepEqual(anomaly({ ...approval("x"), signalId: "" }), [
    {
      type: "ReportAnomaly",
      kind: "invalid_intent",
      clientOrderId: "",
      message: "intent dropped: empty signal id (correlation corr-x)",
    },
  ]);
  assert.deepEqual(anomaly(approval("y", 0)), [
    {
      type: "ReportAnomaly",
      kind: "invalid_intent",
      clientOrderId: "",
      message: "intent dropped: quantity not positive (correlation corr-y)",
    },
  ]);
  sentOrder(s, "z");
  const again = ofType(
    stepExecution(s, { ...approval("z"), correlationId: "second" }),
    "WriteAudit",
  );
  assert.deepEqual(again[0]?.record.detail, { correlationId: "second" });
});

test("after a restart with the kill switch engaged, each order the lookup finds working is cancelled", () => {
  const working: Order = {
    clientOrderId: "w",
    signalId: "w",
    correlationId: "c",
    symbol: "XOM",
    side: "buy",
    qty: d(10),
    orderType: "limit",
    limitPrice: d(100),
    timeInForce: "day",
    decisionPrice: d(100),
    status: "New",
    brokerOrderId: "b-9",
    filledQty: 0n,
    filledNotional: 0n,
    attempts: 1,
    awaiting: "none",
    cancelRequested: false,
    createdNs: T0,
    updatedNs: T0,
  };
  const s = restoreExecutionState(SPEC_EXECUTION, [working], true);
  stepExecution(s, { type: "Started", timeNs: T0 });
  const answer = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: "w",
    order: snapshot("new"),
  });
  assert.deepEqual(ofType(answer, "CancelOrder"), [
    { type: "CancelOrder", clientOrderId: "w", brokerOrderId: "b-1" },
  ]);
});

test("an order held behind an opposite one is refused with the blocker's id in the message", () => {
  const s = engine({ oppositeOrderWaitSeconds: 1 });
  const buy = sentOrder(s, "buy");
  const held = stepExecution(s, approval("sell", 10, 100, "sell"));
  const retry = ofType(held, "ScheduleRetry")[0]!;
  const due = stepExecution(s, {
    type: "RetryDue",
    timeNs: retry.atNs,
    clientOrderId: retry.clientOrderId,
  });
  const refusal = ofType(due, "WriteAudit").find((c) => c.record.event === "rejected_locally");
  assert.equal(
    refusal?.record.detail["message"],
    `order ${buy} on the other side of XOM is still working`,
  );
  assert.equal(updates(due)[0]?.reason, "opposite_working_order");
});

test("the tracker gets no fill from an update without a fill quantity, and a whole event with one", () => {
  const u = {
    clientOrderId: "tp-1",
    signalId: "s",
    correlationId: "c",
    symbol: "XOM",
    side: "sell",
    status: "PartiallyFilled",
    event: "partial_fill",
    fillQty: 0n,
    fillPrice: d(100),
    filledQty: d(4),
    filledAvgPrice: null,
    qty: d(10),
    terminal: false,
    reason: "",
    timeNs: T0,
  } as const;
  assert.equal(fillForTracker(u), null);
  assert.deepEqual(fillForTracker({ ...u, fillQty: d(2) }), {
    type: "FillReceived",
    timeNs: T0,
    clientOrderId: "tp-1",
    symbol: "XOM",
    side: "sell",
    fillQty: d(2),
    fillPrice: d(100),
    filledQty: d(4),
  });
  assert.deepEqual(eventsForRisk(u), []);
});

test("a bad per-minute limit is a configuration error", () => {
  assert.throws(
    () => createCallWindow(0),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_CONFIG") &&
      /maxOrdersPerMinute: must be a positive integer, got 0/.test(e.message),
  );
});
