/** restoreExecutionState: finished orders are remembered, working ones count as working. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { restoreExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import { approval, d, ofType, SPEC_EXECUTION, T0, tradeUpdate } from "./test-support.ts";
import type { Order } from "./types.ts";

const order = (clientOrderId: string, over: Partial<Order>): Order => ({
  clientOrderId,
  signalId: clientOrderId,
  correlationId: "c",
  symbol: "XOM",
  side: "buy",
  qty: d(10),
  orderType: "limit",
  limitPrice: d(100),
  timeInForce: "day",
  decisionPrice: d(100),
  status: "New",
  brokerOrderId: "b-1",
  filledQty: 0n,
  filledNotional: 0n,
  attempts: 1,
  awaiting: "none",
  cancelRequested: false,
  createdNs: T0,
  updatedNs: T0,
  ...over,
});

test("a restored finished order is known: a late update for it is a duplicate, not unknown", () => {
  const done = order("done", { status: "Filled", filledQty: d(10), filledNotional: d(1000) });
  const s = restoreExecutionState(SPEC_EXECUTION, [done], false);
  const late = stepExecution(s, tradeUpdate("done", "fill", "filled", 10, "100"));
  assert.deepEqual(ofType(late, "ReportAnomaly"), []);
  assert.equal(ofType(late, "WriteAudit")[0]?.record.detail["effect"], "duplicate");
});

test("a restored working buy holds back a sell of its symbol", () => {
  const s = restoreExecutionState(SPEC_EXECUTION, [order("buy", {})], false);
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: d(100) });
  const sell = stepExecution(s, approval("sell", 10, 100, "sell"));
  assert.equal(ofType(sell, "SendOrder").length, 0);
  assert.equal(ofType(sell, "WriteAudit").at(-1)?.record.event, "held_for_opposite");
});

test("a restored finished buy does not count: a later working buy still holds back a sell", () => {
  const s = restoreExecutionState(SPEC_EXECUTION, [order("done", { status: "Cancelled" })], false);
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: d(100) });
  assert.equal(ofType(stepExecution(s, approval("buy", 10, 100, "buy")), "SendOrder").length, 1);
  assert.equal(ofType(stepExecution(s, approval("sell", 10, 100, "sell")), "SendOrder").length, 0);
});
