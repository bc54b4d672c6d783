import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  IntentDecision,
  newHeader,
  OrderEvent,
  type OrderIntent,
  OrderIntentSchema,
  OrderType,
  Side,
  TimeInForce,
} from "../core/messages/index.ts";
import { fromDecimal } from "../core/money.ts";
import type { OrderUpdateOut } from "./core/index.ts";
import { approvalFromIntent, orderRequestBody, orderUpdateMessage, tradeUpdated } from "./wire.ts";

const intent = (over: Partial<OrderIntent> = {}): OrderIntent => Object.assign(base(), over);

const base = (): OrderIntent =>
  create(OrderIntentSchema, {
    signalId: "s-1",
    symbol: "AAPL",
    side: Side.BUY,
    qty: "10",
    orderType: OrderType.MARKET,
    timeInForce: TimeInForce.DAY,
    decision: IntentDecision.APPROVED,
    decisionPrice: "187.25",
    correlationId: "c-1",
  });

test("approvalFromIntent maps an approved market intent exactly", () => {
  const a = approvalFromIntent(intent(), 5n);
  assert.deepEqual(a, {
    type: "OrderApproved",
    timeNs: 5n,
    correlationId: "c-1",
    signalId: "s-1",
    symbol: "AAPL",
    side: "buy",
    qty: fromDecimal("10"),
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: fromDecimal("187.25"),
  });
});

test("approvalFromIntent: missing decision price → the limit price, or 0 for a market order", () => {
  const limit = approvalFromIntent(
    intent({ orderType: OrderType.LIMIT, limitPrice: "180", decisionPrice: "" }),
    0n,
  );
  assert.ok("type" in limit);
  assert.equal(limit.decisionPrice, fromDecimal("180"));
  assert.equal(limit.limitPrice, fromDecimal("180"));
  const market = approvalFromIntent(intent({ decisionPrice: "", correlationId: "" }), 0n);
  assert.ok("type" in market);
  assert.equal(market.decisionPrice, 0n);
  assert.equal(market.correlationId, "s-1", "the signal id stands in for the correlation id");
});

test("approvalFromIntent names what is wrong with an unusable intent", () => {
  const cases: Array<[Parameters<typeof intent>[0], string]> = [
    [{ decision: IntentDecision.REJECTED }, "not_approved"],
    [{ side: Side.UNSPECIFIED }, "invalid_side"],
    [{ orderType: OrderType.STOP }, "invalid_order_type"],
    [{ orderType: OrderType.LIMIT, limitPrice: "" }, "invalid_limit_price"],
    [{ orderType: OrderType.LIMIT, limitPrice: "-1" }, "invalid_limit_price"],
    [{ symbol: "" }, "invalid_symbol"],
    [{ qty: "ten" }, "invalid_decimal"],
    [{ decisionPrice: "-3" }, "invalid_decision_price"],
  ];
  for (const [over, reason] of cases) {
    const r = approvalFromIntent(intent(over), 0n);
    assert.ok(!("type" in r), reason);
    assert.equal(r.reason, reason);
    assert.ok(r.message.includes("s-1"), r.message);
  }
});

test("orderUpdateMessage: event from the status, fills with exact strings, empty when no fill", () => {
  const base: OrderUpdateOut = {
    clientOrderId: "tp-1",
    signalId: "s-1",
    correlationId: "c-1",
    symbol: "AAPL",
    side: "sell",
    status: "PartiallyFilled",
    event: "partial_fill",
    fillQty: fromDecimal("3"),
    fillPrice: fromDecimal("187.255"),
    filledQty: fromDecimal("3"),
    filledAvgPrice: fromDecimal("187.255"),
    qty: fromDecimal("10"),
    terminal: false,
    reason: "",
    timeNs: 9n,
  };
  const extras = { brokerOrderId: "b-1", positionQty: "-3", brokerEventId: "e-1" };
  const m = orderUpdateMessage(base, newHeader("execution-engine", 9n), extras);
  assert.equal(m.event, OrderEvent.PARTIAL_FILL);
  assert.equal(m.side, Side.SELL);
  assert.equal(m.fillQty, "3");
  assert.equal(m.fillPrice, "187.255");
  assert.equal(m.qty, "10");
  assert.equal(m.brokerOrderId, "b-1");
  assert.equal(m.positionQty, "-3");
  assert.equal(m.brokerEventId, "e-1");
  const rejected = orderUpdateMessage(
    {
      ...base,
      status: "Rejected",
      fillQty: 0n,
      fillPrice: null,
      filledQty: 0n,
      filledAvgPrice: null,
      reason: "slippage",
    },
    newHeader("execution-engine", 9n),
    extras,
  );
  assert.equal(rejected.event, OrderEvent.REJECTED);
  assert.equal(rejected.fillQty, "");
  assert.equal(rejected.fillPrice, "");
  assert.equal(rejected.filledAvgPrice, "");
  assert.equal(rejected.reason, "slippage");
});

test("orderRequestBody and tradeUpdated speak Alpaca's wire strings", () => {
  const body = orderRequestBody({
    clientOrderId: "tp-1",
    symbol: "AAPL",
    side: "buy",
    qty: fromDecimal("2.5"),
    orderType: "limit",
    limitPrice: fromDecimal("187.1"),
    timeInForce: "gtc",
  });
  assert.deepEqual(body, {
    symbol: "AAPL",
    side: "buy",
    type: "limit",
    time_in_force: "gtc",
    qty: "2.5",
    client_order_id: "tp-1",
    limit_price: "187.1",
  });
  const e = tradeUpdated(
    {
      event: "fill",
      execution_id: "x-1",
      timestamp: "2026-03-02T15:00:00Z",
      price: "187.1",
      qty: "2.5",
      order: {
        id: "b-1",
        client_order_id: "tp-1",
        status: "filled",
        filled_qty: "2.5",
        filled_avg_price: "187.1",
      },
    } as unknown as Parameters<typeof tradeUpdated>[0],
    7n,
  );
  assert.deepEqual(e, {
    type: "TradeUpdated",
    timeNs: 7n,
    clientOrderId: "tp-1",
    event: "fill",
    order: {
      brokerOrderId: "b-1",
      status: "filled",
      filledQty: fromDecimal("2.5"),
      filledAvgPrice: fromDecimal("187.1"),
    },
    executionId: "x-1",
    fillQty: fromDecimal("2.5"),
    fillPrice: fromDecimal("187.1"),
  });
});
