import assert from "node:assert/strict";
import { test } from "node:test";
import { proposalFromSignal } from "./proposal.ts";
import { riskStatus } from "./status.ts";
import { stepRisk } from "./step.ts";
import {
  brokerFailure,
  d,
  hold,
  proposal,
  propose,
  SECOND,
  T0,
  tradableState,
} from "./test-support.ts";

test("status reports open positions, today's P&L, VaR, rejects and the breaker's cooldown", () => {
  const s = tradableState({
    circuitBreaker: { failureThreshold: 1, windowSeconds: 60, cooldownSeconds: 30 },
  });
  hold(s, "XOM", 100, 100);
  stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: d(99000),
    realizedPnl: d(-1000),
    unrealizedPnl: 0n,
    canTrade: true,
  });
  assert.equal(propose(s, proposal("XOM", "buy", 5000, 100)).reason, "max_position_shares");
  brokerFailure(s, T0);
  const st = riskStatus(s);
  assert.equal(st.openPositions, 1);
  assert.equal(st.dailyPnl, d(-1000));
  assert.equal(st.valueAtRisk, d("697.90"), "10000 USD with no history: 2.326 · 3% · 10000");
  assert.equal(st.rejectsToday, 1);
  assert.equal(st.breaker, "open");
  assert.equal(st.breakerCooldownUntilNs, T0 + 30n * SECOND);
});

test("a signal becomes a proposal of orderQty shares; HOLD proposes nothing", () => {
  const sig = { signalId: "XOM-1", symbol: "XOM", action: "sell" as const, referencePrice: d(100) };
  const p = proposalFromSignal(sig, d(10), T0, "trace-1");
  assert.equal(p?.side, "sell");
  assert.equal(p?.qty, d(10));
  assert.equal(proposalFromSignal({ ...sig, action: "hold" }, d(10), T0, "trace-1"), null);
});
