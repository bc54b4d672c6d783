/**
 * The three trading cores wired together through their downstream mappings, with a small
 * deterministic broker model in the test: signals → risk → execution → (broker) → fills →
 * position tracker → risk. Checks the seams the shells and the backtester rely on.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Fixed, fromDecimal, mul } from "../../core/money.ts";
import { mulberry32 } from "../../core/random.ts";
import { eventForRisk } from "../../position-tracker/core/downstream.ts";
import { canTrade, createPositionState } from "../../position-tracker/core/state.ts";
import { stepPositions } from "../../position-tracker/core/step.ts";
import type { PositionCommand, PositionEvent } from "../../position-tracker/core/types.ts";
import { approvalForExecution } from "../../risk-manager/core/downstream.ts";
import { createRiskState } from "../../risk-manager/core/state.ts";
import { stepRisk } from "../../risk-manager/core/step.ts";
import type { RiskCommand, RiskEvent } from "../../risk-manager/core/types.ts";
import { eventsForRisk, fillForTracker } from "./downstream.ts";
import { createExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import type { ExecutionCommand, ExecutionEvent, Side } from "./types.ts";

const SECOND = 1_000_000_000n;
const T0 = 1_772_461_800n * SECOND;
const SYMBOLS = ["AAPL", "MSFT", "XOM"];

interface BrokerOrder {
  symbol: string;
  side: Side;
  qty: Fixed;
  filled: Fixed;
  notional: Fixed;
  done: boolean;
}

function runLoop(seed: number, killAtTick: number | null) {
  const rnd = mulberry32(seed);
  const risk = createRiskState({
    pipelineName: "loop",
    maxPositionShares: 200,
    maxNotionalPerSymbol: "50000",
    maxOpenPositions: 5,
    maxDailyLoss: "5000",
    maxVar99: "10000",
    varWindowDays: 252,
    maxSectorConcentration: 1,
    circuitBreaker: { failureThreshold: 5, windowSeconds: 60, cooldownSeconds: 300 },
  });
  const exec = createExecutionState({
    pipelineName: "loop",
    maxOrdersPerMinute: 180,
    maxSlippageBps: 50,
    retries: { maxAttempts: 3, backoffSeconds: [1, 2, 4] },
  });
  const pos = createPositionState({
    reconcileIntervalSeconds: 300,
    drawdownAlertPct: 5,
    snapshotIntervalSeconds: 3600,
    startingEquity: "100000",
  });
  const prices = new Map(SYMBOLS.map((s) => [s, fromDecimal(100)]));
  const brokerOrders = new Map<string, BrokerOrder>();
  const brokerPositions = new Map<string, Fixed>();
  const due: { tick: number; make: () => ExecutionEvent | null }[] = [];
  const sent: string[] = [];
  const lastAudit = new Map<string, string>();
  let now = T0;

  const toRisk = (e: RiskEvent) => routeRisk(stepRisk(risk, e));
  const toTracker = (e: PositionEvent) => routeTracker(stepPositions(pos, e));
  const toExec = (e: ExecutionEvent) => routeExec(stepExecution(exec, e));

  function routeRisk(cmds: RiskCommand[]) {
    for (const c of cmds) {
      if (c.type !== "PublishDecision") continue;
      const approved = approvalForExecution(c.decision);
      if (approved !== null) toExec(approved);
    }
  }
  function routeTracker(cmds: PositionCommand[]) {
    for (const c of cmds) {
      const e = eventForRisk(c, now);
      if (e !== null) toRisk(e);
    }
  }
  function routeExec(cmds: ExecutionCommand[]) {
    for (const c of cmds) {
      switch (c.type) {
        case "WriteAudit":
          lastAudit.set(c.record.clientOrderId, c.record.event);
          break;
        case "SendOrder": {
          const id = c.request.clientOrderId;
          assert.ok(
            ["send", "resend"].includes(lastAudit.get(id) ?? ""),
            `${id} sent before its audit`,
          );
          sent.push(id);
          brokerOrders.set(id, {
            symbol: c.request.symbol,
            side: c.request.side,
            qty: c.request.qty,
            filled: 0n,
            notional: 0n,
            done: false,
          });
          due.push({
            tick: tickNo,
            make: () => ({
              type: "SendSucceeded",
              timeNs: now,
              clientOrderId: id,
              order: brokerSnapshot(id, "accepted"),
            }),
          });
          due.push({ tick: tickNo + 1, make: () => fillTo(id, c.request.qty / 2n) });
          due.push({ tick: tickNo + 2, make: () => fillTo(id, c.request.qty) });
          break;
        }
        case "CancelOrder": {
          const o = brokerOrders.get(c.clientOrderId);
          if (o !== undefined && !o.done) {
            o.done = true;
            const id = c.clientOrderId;
            due.push({
              tick: tickNo,
              make: () => ({
                type: "TradeUpdated",
                timeNs: now,
                clientOrderId: id,
                event: "canceled",
                order: brokerSnapshot(id, "canceled"),
                executionId: `${id}-cancel`,
                fillQty: null,
                fillPrice: null,
              }),
            });
          }
          break;
        }
        case "PublishOrderUpdate": {
          const fill = fillForTracker(c.update);
          if (fill !== null) toTracker(fill);
          for (const e of eventsForRisk(c.update)) toRisk(e);
          break;
        }
        default:
          break;
      }
    }
  }
  function brokerSnapshot(id: string, status: string) {
    const o = brokerOrders.get(id)!;
    return {
      brokerOrderId: `b-${id}`,
      status,
      filledQty: o.filled,
      filledAvgPrice: o.filled > 0n ? (o.notional * SECOND) / o.filled : null,
    };
  }
  // A fill is decided when it is due, at the price of that moment; a cancelled order fills no more.
  function fillTo(id: string, targetCum: Fixed): ExecutionEvent | null {
    const o = brokerOrders.get(id)!;
    const q = targetCum - o.filled;
    if (o.done || q <= 0n) return null;
    const price = prices.get(o.symbol)!;
    o.filled = targetCum;
    o.notional += mul(q, price);
    o.done = targetCum === o.qty;
    brokerPositions.set(
      o.symbol,
      (brokerPositions.get(o.symbol) ?? 0n) + (o.side === "buy" ? q : -q),
    );
    const status = o.done ? "filled" : "partially_filled";
    return {
      type: "TradeUpdated",
      timeNs: now,
      clientOrderId: id,
      event: o.done ? "fill" : "partial_fill",
      order: brokerSnapshot(id, status),
      executionId: `${id}-${targetCum}`,
      fillQty: q,
      fillPrice: price,
    };
  }
  function deliverDue() {
    const ready = due.filter((d) => d.tick <= tickNo);
    due.splice(0, due.length, ...due.filter((d) => d.tick > tickNo));
    for (const d of ready) {
      const e = d.make();
      if (e !== null) toExec(e);
    }
  }

  let tickNo = 0;
  toTracker({ type: "BrokerPositionsReceived", timeNs: now, positions: [] });
  assert.equal(canTrade(pos), true);
  for (tickNo = 0; tickNo < 600; tickNo++) {
    now = T0 + BigInt(tickNo) * SECOND;
    for (const symbol of SYMBOLS) {
      const p = prices.get(symbol)! + BigInt(Math.round((rnd() - 0.5) * 40)) * 10_000_000n;
      prices.set(symbol, p);
      toExec({ type: "TradeReceived", timeNs: now, symbol, price: p });
      toTracker({ type: "TradeReceived", timeNs: now, symbol, price: p });
    }
    deliverDue();
    if (tickNo === killAtTick) {
      toRisk({
        type: "ControlReceived",
        timeNs: now,
        command: "kill_switch_on",
        requestedBy: "test",
        reason: "loop",
      });
      toExec({ type: "KillSwitchChanged", timeNs: now, engaged: true });
    }
    if (rnd() < 0.4) {
      const symbol = SYMBOLS[Math.floor(rnd() * SYMBOLS.length)]!;
      toRisk({
        type: "OrderProposed",
        timeNs: now,
        correlationId: `t${tickNo}`,
        signalId: `${symbol}-${tickNo}`,
        symbol,
        side: rnd() < 0.5 ? "buy" : "sell",
        qty: fromDecimal(10 + Math.floor(rnd() * 40)),
        referencePrice: prices.get(symbol)!,
      });
    }
  }
  // drain the broker
  for (; due.length > 0; tickNo++) deliverDue();
  const recon = stepPositions(pos, {
    type: "BrokerPositionsReceived",
    timeNs: now,
    positions: [...brokerPositions].map(([symbol, qty]) => ({ symbol, qty, avgEntryPrice: 0n })),
  });
  return { risk, exec, pos, sent, recon };
}

test("signals flow through risk, execution and the tracker; positions reconcile with the broker", () => {
  const { risk, exec, sent, recon } = runLoop(42, null);
  assert.ok(sent.length > 50, `only ${sent.length} orders were sent`);
  assert.equal(new Set(sent).size, sent.length, "no client_order_id sent twice");
  const r = recon.find((c) => c.type === "PublishReconciliation");
  assert.equal(
    r?.type === "PublishReconciliation" && r.ok,
    true,
    "tracker positions equal the broker's",
  );
  assert.equal(exec.orders.size, 0, "every order finished");
  assert.equal(risk.pending.size, 0, "no working exposure left in the risk-manager");
  assert.ok(
    (risk.rejectsByReason["max_position_shares"] ?? 0) > 0,
    "the position limit was exercised",
  );
});

test("the kill switch mid-run cancels working orders and stops new ones; the books still agree", () => {
  const { exec, sent, recon, risk } = runLoop(7, 300);
  const afterKill = [...exec.finished.values()].filter((o) => o.createdNs >= T0 + 300n * SECOND);
  assert.equal(
    afterKill.filter((o) => o.attempts > 0).length,
    0,
    "nothing sent after the kill switch",
  );
  assert.ok((risk.rejectsByReason["kill_switch"] ?? 0) > 0);
  assert.ok(
    [...exec.finished.values()].some((o) => o.status === "Cancelled"),
    "a working order was cancelled",
  );
  assert.equal(new Set(sent).size, sent.length);
  const r = recon.find((c) => c.type === "PublishReconciliation");
  assert.equal(r?.type === "PublishReconciliation" && r.ok, true);
});

test("the same seed gives the same orders in the same order", () => {
  assert.deepEqual(runLoop(3, 200).sent, runLoop(3, 200).sent);
});
