/**
 * ExecutionParams.auditTrail false (a backtest nobody reads the trail of) drops the WriteAudit
 * commands and nothing else: the same events give the same other commands, in the same order,
 * and leave the orders in the same state.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import { clientOrderIdFor } from "./client-order-id.ts";
import { createExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import type { ExecutionCommand, ExecutionEvent, OrderApproved } from "./types.ts";

const SECOND = 1_000_000_000n;
const T0 = 1_772_461_800n * SECOND;
const params = {
  pipelineName: "trail",
  maxOrdersPerMinute: 180,
  maxSlippageBps: 50,
  retries: { maxAttempts: 2, backoffSeconds: [1, 2] },
};

function approved(signalId: string, side: "buy" | "sell", limit: string | null): OrderApproved {
  return {
    type: "OrderApproved",
    timeNs: T0,
    correlationId: `c-${signalId}`,
    signalId,
    symbol: "AAPL",
    side,
    qty: fromDecimal(100),
    orderType: limit === null ? "market" : "limit",
    limitPrice: limit === null ? null : fromDecimal(limit),
    timeInForce: "day",
    decisionPrice: fromDecimal("100.01"),
  };
}

/** An order's whole life and its detours: fills (one repeated), a retry, a failed cancel, the kill switch. */
function events(): ExecutionEvent[] {
  const buy = clientOrderIdFor(params.pipelineName, "s1");
  const sell = clientOrderIdFor(params.pipelineName, "s2");
  const snap = (id: string, status: string, filled: string, avg: string | null) => ({
    brokerOrderId: `b-${id}`,
    status,
    filledQty: fromDecimal(filled),
    filledAvgPrice: avg === null ? null : fromDecimal(avg),
  });
  const update = (
    id: string,
    event: string,
    s: ReturnType<typeof snap>,
    qty: string | null,
    price: string | null,
    t: bigint,
  ): ExecutionEvent => ({
    type: "TradeUpdated",
    timeNs: t,
    clientOrderId: id,
    event,
    order: s,
    executionId: qty === null ? "" : `x-${event}-${qty}`,
    fillQty: qty === null ? null : fromDecimal(qty),
    fillPrice: price === null ? null : fromDecimal(price),
  });
  return [
    {
      type: "QuoteReceived",
      timeNs: T0,
      symbol: "AAPL",
      bid: fromDecimal(100),
      ask: fromDecimal("100.02"),
    },
    approved("s1", "buy", null),
    {
      type: "SendSucceeded",
      timeNs: T0 + 1n,
      clientOrderId: buy,
      order: snap(buy, "accepted", "0", null),
    },
    update(buy, "new", snap(buy, "new", "0", null), null, null, T0 + 2n),
    update(
      buy,
      "partial_fill",
      snap(buy, "partially_filled", "40", "100.02"),
      "40",
      "100.02",
      T0 + 3n,
    ),
    update(
      buy,
      "partial_fill",
      snap(buy, "partially_filled", "40", "100.02"),
      "40",
      "100.02",
      T0 + 4n,
    ),
    update(buy, "fill", snap(buy, "filled", "100", "100.014"), "60", "100.01", T0 + 5n),
    { ...approved("s2", "sell", "100.5"), timeNs: T0 + 6n },
    {
      type: "SendFailed",
      timeNs: T0 + 7n,
      clientOrderId: sell,
      failure: "retryable",
      httpStatus: 503,
      message: "busy",
    },
    { type: "RetryDue", timeNs: T0 + 2n * SECOND, clientOrderId: sell },
    {
      type: "SendSucceeded",
      timeNs: T0 + 3n * SECOND,
      clientOrderId: sell,
      order: snap(sell, "new", "0", null),
    },
    { type: "CancelFailed", timeNs: T0 + 4n * SECOND, clientOrderId: sell, message: "too late" },
    { type: "KillSwitchChanged", timeNs: T0 + 5n * SECOND, engaged: true },
    update(sell, "canceled", snap(sell, "canceled", "0", null), null, null, T0 + 6n * SECOND),
    { ...approved("s3", "buy", null), timeNs: T0 + 7n * SECOND },
  ];
}

function run(auditTrail: boolean | undefined) {
  const state = createExecutionState(auditTrail === undefined ? params : { ...params, auditTrail });
  const steps: ExecutionCommand[][] = events().map((e) => stepExecution(state, e));
  return { state, steps };
}

test("without an audit trail the core emits every other command alike, and no WriteAudit", () => {
  const kept = run(undefined);
  const skipped = run(false);
  const audits = kept.steps.flat().filter((c) => c.type === "WriteAudit");
  assert.ok(audits.length >= 15, `the trail is kept by default (${audits.length} records)`);
  assert.ok(
    audits.some((c) => c.type === "WriteAudit" && c.record.detail["effect"] === "duplicate"),
    "a repeated update is audited as a duplicate",
  );
  assert.equal(skipped.steps.flat().filter((c) => c.type === "WriteAudit").length, 0);
  const others = (steps: ExecutionCommand[][]) =>
    steps.map((cmds) => cmds.filter((c) => c.type !== "WriteAudit"));
  assert.deepEqual(others(skipped.steps), others(kept.steps));
  assert.ok(others(kept.steps).flat().length >= 10, "the events cause commands");
  assert.deepEqual([...skipped.state.finished.values()], [...kept.state.finished.values()]);
  assert.deepEqual([...skipped.state.orders.values()], [...kept.state.orders.values()]);
  assert.equal(skipped.state.auditSeq, kept.state.auditSeq);
});
