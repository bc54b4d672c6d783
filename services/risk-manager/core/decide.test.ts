import assert from "node:assert/strict";
import { test } from "node:test";
import { approvalForExecution } from "./downstream.ts";
import { onTick } from "./limit-price.ts";
import { exportRiskState, restoreRiskState } from "./state.ts";
import { stepRisk } from "./step.ts";
import {
  brokerFailure,
  d,
  hold,
  proposal,
  propose,
  SECOND,
  SPEC_RISK,
  T0,
  tradableState,
} from "./test-support.ts";

const roomy = { maxVar99: "1000000", maxSectorConcentration: 1 };

test("a position report without a price keeps the last known price", () => {
  const s = tradableState(roomy);
  hold(s, "XOM", 100, 10);
  stepRisk(s, { type: "PositionChanged", timeNs: T0, symbol: "XOM", qty: d(200), marketPrice: 0n });
  assert.equal(s.symbols.get("XOM")?.price, d(10));
  assert.equal(s.symbols.get("XOM")?.filledQty, d(200));
});

test("price history arrives in batches that extend it; its last close prices a symbol not yet priced", () => {
  const s = tradableState(roomy);
  const closes = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ day: from + i, close: d(100 + from + i) }));
  stepRisk(s, { type: "DailyClosesRecorded", timeNs: T0, symbol: "XOM", closes: closes(0, 5) });
  assert.equal(s.symbols.get("XOM")?.price, d(104));
  stepRisk(s, { type: "DailyClosesRecorded", timeNs: T0, symbol: "XOM", closes: closes(5, 5) });
  assert.equal(s.symbols.get("XOM")?.returns?.count, 9, "ten closes in two batches: nine returns");
  assert.equal(s.symbols.get("XOM")?.price, d(104), "a priced symbol keeps its price");
  stepRisk(s, { type: "DailyClosesRecorded", timeNs: T0, symbol: "JPM", closes: [] });
  assert.equal(s.symbols.get("JPM")?.price, 0n, "no closes, no price");
});

test("fills are counted once, capped at the order, and never undone by a late or repeated report", () => {
  const s = tradableState(roomy);
  const buy = propose(s, proposal("XOM", "buy", 10, 10));
  const progressed = (filled: number, terminal = false) =>
    stepRisk(s, {
      type: "OrderProgressed",
      timeNs: T0,
      clientOrderId: buy.clientOrderId,
      filledQty: d(filled),
      terminal,
    });
  const pending = () => s.symbols.get("XOM")?.pendingBuy;
  progressed(4);
  assert.equal(pending(), d(6));
  progressed(7);
  assert.equal(pending(), d(3), "the increment since the last report, not the total");
  progressed(5);
  assert.equal(pending(), d(3), "an out-of-order report does not give exposure back");
  progressed(15);
  assert.equal(pending(), 0n, "more than ordered is capped at the order");
  progressed(15, true);
  assert.equal(pending(), 0n);
  stepRisk(s, {
    type: "OrderFailed",
    timeNs: T0,
    clientOrderId: buy.clientOrderId,
    reason: "late",
    origin: "broker",
  });
  assert.equal(pending(), 0n, "an ended order is forgotten: a late failure releases nothing twice");
  stepRisk(s, {
    type: "OrderProgressed",
    timeNs: T0,
    clientOrderId: "unknown",
    filledQty: d(1),
    terminal: true,
  });
  assert.equal(pending(), 0n, "a report for an order never approved here changes nothing");
});

test("the gates come first: a kill switch or halt is the reason even when the broker would refuse too", () => {
  const s = tradableState({
    ...roomy,
    circuitBreaker: { failureThreshold: 1, windowSeconds: 60, cooldownSeconds: 300 },
  });
  hold(s, "XOM", 10, 10);
  stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "halt",
    requestedBy: "cli",
    reason: "news",
  });
  brokerFailure(s, T0);
  assert.equal(s.breaker.status, "open");
  assert.equal(
    propose(s, proposal("AAPL", "buy", 1, 10)).reason,
    "halted",
    "halt before an open breaker",
  );
  stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "kill_switch_on",
    requestedBy: "cli",
    reason: "stop",
  });
  assert.equal(
    propose(s, proposal("XOM", "sell", 50, 10)).reason,
    "kill_switch",
    "before through-zero",
  );
});

test("a drawdown alert naming a symbol still halts everything, with the alert as the reason", () => {
  const s = tradableState(roomy);
  const cmds = stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "drawdown_alert",
    requestedBy: "position-tracker",
    reason: "6%",
    symbol: "XOM",
  });
  assert.equal(s.halt.all, true);
  assert.equal(s.halt.reason, "drawdown alert: 6%");
  assert.deepEqual(
    cmds.flatMap((c) => (c.type === "PersistRiskState" ? [c.cause] : [])),
    ["drawdown_alert"],
  );
  assert.equal(propose(s, proposal("AAPL", "buy", 1, 10)).reason, "halted");
});

test("through zero counts working orders: what is left to close is the position less what already closes it", () => {
  const s = tradableState(roomy);
  hold(s, "XOM", 100, 10);
  assert.equal(propose(s, proposal("XOM", "sell", 60, 10)).approved, true);
  const r = propose(s, proposal("XOM", "sell", 50, 10));
  assert.equal(r.reason, "crosses_zero");
  assert.match(
    r.message,
    /^selling 50 XOM would go through zero from 100 \(available to close: 40\)/,
  );
  assert.equal(propose(s, proposal("XOM", "sell", 40, 10)).approved, true);
  hold(s, "MSFT", -100, 10);
  assert.equal(propose(s, proposal("MSFT", "buy", 60, 10)).approved, true);
  const b = propose(s, proposal("MSFT", "buy", 50, 10));
  assert.equal(b.reason, "crosses_zero");
  assert.match(
    b.message,
    /^buying 50 MSFT would go through zero from -100 \(available to close: 40\)/,
  );
});

test("an order that reduces a position passes the notional limit it is above", () => {
  const s = tradableState(roomy);
  hold(s, "XOM", 600, 100);
  assert.equal(propose(s, proposal("XOM", "buy", 1, 100)).reason, "max_notional_per_symbol");
  assert.equal(propose(s, proposal("XOM", "sell", 10, 100)).reason, "approved");
});

test("sector concentration counts the order's own symbol once", () => {
  const s = tradableState({
    maxVar99: "1000000",
    maxPositionShares: 10_000,
    maxNotionalPerSymbol: "1000000",
  });
  hold(s, "XOM", 2000, 10);
  assert.equal(propose(s, proposal("XOM", "buy", 900, 10)).reason, "approved", "29000 of 100000");
  const r = propose(s, proposal("XOM", "buy", 101, 10));
  assert.equal(r.reason, "max_sector_concentration", "30010 of 100000");
});

test("a repeat after a restart carries the new proposal's trace; a plain repeat keeps the first", () => {
  const s = tradableState(roomy);
  const p = proposal("XOM", "buy", 10, 10);
  const first = propose(s, p);
  const plain = propose(s, { ...p, correlationId: "other", referencePrice: d(11) });
  assert.equal(plain.correlationId, first.correlationId);
  assert.equal(plain.referencePrice, d(10));
  const r = restoreRiskState({ ...SPEC_RISK, ...roomy }, exportRiskState(s), [
    { clientOrderId: first.clientOrderId, symbol: "XOM", side: "buy", qty: d(10), filledQty: 0n },
  ]);
  const again = propose(r, { ...p, correlationId: "after-restart", timeNs: T0 + SECOND });
  assert.equal(again.repeated, true);
  assert.equal(again.correlationId, "after-restart");
  assert.equal(again.approved, true);
  assert.equal(again.message, "approved before the restart; still working");
});

test("a price below a dollar never rounds to zero: a buy takes the smallest tick", () => {
  assert.equal(onTick("buy", d("0.00005")), d("0.0001"));
  assert.equal(onTick("buy", d("0.00015")), d("0.0001"));
  assert.equal(onTick("sell", d("0.00005")), d("0.0001"));
  assert.equal(onTick("buy", d("1")), d("1"));
  assert.equal(onTick("sell", d("1.001")), d("1.01"), "a cent at a dollar and above");
});

test("an approved decision becomes a day order for the engine, limit when it has a limit; a refusal nothing", () => {
  const s = tradableState(roomy);
  const market = propose(s, proposal("XOM", "buy", 10, 10));
  assert.deepEqual(approvalForExecution(market), {
    type: "OrderApproved",
    timeNs: market.timeNs,
    correlationId: market.correlationId,
    signalId: market.signalId,
    symbol: "XOM",
    side: "buy",
    qty: d(10),
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: d(10),
  });
  const limit = propose(s, { ...proposal("XOM", "buy", 10, 10), limitPrice: d("9.5") });
  assert.equal(approvalForExecution(limit)?.orderType, "limit");
  assert.equal(approvalForExecution(limit)?.limitPrice, d("9.5"));
  assert.equal(approvalForExecution(propose(s, proposal("XOM", "buy", 5000, 10))), null);
});
