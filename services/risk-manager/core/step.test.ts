import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { createRiskState, exportRiskState, restoreRiskState } from "./state.ts";
import { stepRisk } from "./step.ts";
import {
  brokerFailure,
  d,
  decisionOf,
  hold,
  proposal,
  propose,
  SECOND,
  SPEC_RISK,
  T0,
  tradableState,
} from "./test-support.ts";
import type { RiskCommand } from "./types.ts";

const breakerParams = {
  circuitBreaker: { failureThreshold: 3, windowSeconds: 60, cooldownSeconds: 300 },
};
const persisted = (cmds: RiskCommand[]) => cmds.filter((c) => c.type === "PersistRiskState");

test("orders are refused until the tracker reports the first reconciliation", () => {
  const s = createRiskState(SPEC_RISK);
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "not_reconciled");
  stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: d(1000),
    realizedPnl: 0n,
    unrealizedPnl: 0n,
    canTrade: true,
  });
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "approved");
});

test("a reconciliation break after trading began refuses orders again, until it heals", () => {
  const s = tradableState();
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "approved");
  const gate = (canTrade: boolean, t: bigint) =>
    stepRisk(s, {
      type: "PortfolioChanged",
      timeNs: t,
      equity: d(100000),
      realizedPnl: 0n,
      unrealizedPnl: 0n,
      canTrade,
    });
  gate(false, T0 + SECOND);
  assert.equal(
    propose(s, proposal("XOM", "buy", 1, 10, T0 + 2n * SECOND)).reason,
    "not_reconciled",
  );
  // A restart must not forget the break either.
  const restored = restoreRiskState(SPEC_RISK, exportRiskState(s));
  assert.equal(
    propose(restored, proposal("XOM", "buy", 1, 10, T0 + 2n * SECOND)).reason,
    "not_reconciled",
  );
  gate(true, T0 + 3n * SECOND);
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10, T0 + 4n * SECOND)).reason, "approved");
});

test("circuit breaker: closed → open → half-open → open → half-open → closed", () => {
  const s = tradableState(breakerParams);
  const fail = (t: bigint, id = "x") => brokerFailure(s, t, id);
  // failures spread wider than the window never open it
  fail(T0);
  fail(T0 + 40n * SECOND);
  assert.equal(persisted(fail(T0 + 61n * SECOND)).length, 0);
  assert.equal(s.breaker.status, "closed");
  // three within 60 s do
  const opened = persisted(fail(T0 + 70n * SECOND));
  assert.equal(s.breaker.status, "open");
  assert.equal(opened[0]?.type === "PersistRiskState" && opened[0].state.breaker.status, "open");
  const openedAt = T0 + 70n * SECOND;
  assert.equal(
    propose(s, proposal("XOM", "buy", 1, 10, openedAt + 299n * SECOND)).reason,
    "circuit_open",
  );
  // cooldown over: half-open, one test order only
  const tick = stepRisk(s, { type: "TimeAdvanced", timeNs: openedAt + 300n * SECOND });
  assert.equal(s.breaker.status, "half_open");
  assert.equal(persisted(tick).length, 1);
  const test1 = propose(s, proposal("XOM", "buy", 1, 10, openedAt + 301n * SECOND));
  assert.equal(test1.reason, "approved");
  assert.equal(test1.breakerTest, true);
  assert.equal(
    propose(s, proposal("XOM", "buy", 1, 10, openedAt + 302n * SECOND)).reason,
    "circuit_half_open",
  );
  // an unrelated failure does not decide the test; the test's failure reopens
  fail(openedAt + 303n * SECOND, "other");
  assert.equal(s.breaker.status, "half_open");
  fail(openedAt + 304n * SECOND, test1.clientOrderId);
  assert.equal(s.breaker.status, "open");
  // second cooldown, the test succeeds: closed, orders flow again
  const reopenedAt = openedAt + 304n * SECOND;
  stepRisk(s, { type: "TimeAdvanced", timeNs: reopenedAt + 300n * SECOND });
  const test2 = propose(s, proposal("XOM", "buy", 1, 10, reopenedAt + 301n * SECOND));
  assert.equal(test2.breakerTest, true);
  const closed = stepRisk(s, {
    type: "OrderAccepted",
    timeNs: reopenedAt + 302n * SECOND,
    clientOrderId: test2.clientOrderId,
  });
  assert.equal(s.breaker.status, "closed");
  assert.equal(persisted(closed).length, 1);
  const after = propose(s, proposal("XOM", "buy", 1, 10, reopenedAt + 303n * SECOND));
  assert.equal(after.reason, "approved");
  assert.equal(after.breakerTest, false);
});

test("refusals by the six checks never open the breaker, so reducing orders still pass", () => {
  const s = tradableState(breakerParams);
  hold(s, "XOM", 1000, 10);
  for (let i = 0; i < 10; i++)
    assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "max_position_shares");
  assert.equal(s.breaker.status, "closed");
  assert.deepEqual({ ...s.rejectsByReason }, { max_position_shares: 10 });
  assert.equal(propose(s, proposal("XOM", "sell", 1, 10)).reason, "approved");
  assert.equal(s.rejectsToday, 10);
});

test("a half-open test whose outcome never arrives is forgotten after a cooldown", () => {
  const s = tradableState(breakerParams);
  for (let i = 0; i < 3; i++) brokerFailure(s, T0);
  const t = T0 + 300n * SECOND;
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10, t)).breakerTest, true);
  assert.equal(
    propose(s, proposal("XOM", "buy", 1, 10, t + 299n * SECOND)).reason,
    "circuit_half_open",
  );
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10, t + 300n * SECOND)).breakerTest, true);
});

test("kill switch refuses every order, reducing ones too, and is persisted on change", () => {
  const s = tradableState();
  hold(s, "XOM", 100, 10);
  const on = stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "kill_switch_on",
    requestedBy: "cli",
    reason: "test",
  });
  const p = persisted(on);
  assert.equal(p.length, 1);
  assert.equal(p[0]?.type === "PersistRiskState" && p[0].state.killSwitch.engaged, true);
  for (const side of ["buy", "sell"] as const) {
    const r = propose(s, proposal("XOM", side, 1, 10));
    assert.equal(r.reason, "kill_switch");
    assert.match(r.message, /engaged by cli: test/);
  }
  assert.equal(
    persisted(
      stepRisk(s, {
        type: "ControlReceived",
        timeNs: T0,
        command: "kill_switch_on",
        requestedBy: "cli",
        reason: "again",
      }),
    ).length,
    0,
    "no change, nothing to persist",
  );
  stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "kill_switch_off",
    requestedBy: "cli",
    reason: "",
  });
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "approved");
});

test("a drawdown alert halts new risk until resumed; reducing orders still pass", () => {
  const s = tradableState();
  hold(s, "XOM", 100, 10);
  stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "drawdown_alert",
    requestedBy: "position-tracker",
    reason: "5.2%",
  });
  const r = propose(s, proposal("AAPL", "buy", 1, 10));
  assert.equal(r.reason, "halted");
  assert.match(r.message, /drawdown alert: 5\.2%/);
  assert.equal(propose(s, proposal("XOM", "sell", 10, 10)).reason, "approved");
  stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "resume",
    requestedBy: "cli",
    reason: "",
  });
  assert.equal(propose(s, proposal("AAPL", "buy", 1, 10)).reason, "approved");
});

test("a halt can apply to one symbol", () => {
  const s = tradableState();
  stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "halt",
    requestedBy: "cli",
    reason: "news",
    symbol: "XOM",
  });
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "halted");
  assert.equal(propose(s, proposal("AAPL", "buy", 1, 10)).reason, "approved");
});

test("the persisted state restores kill switch, halt, breaker and the day's baseline", () => {
  const s = tradableState(breakerParams);
  stepRisk(s, {
    type: "ControlReceived",
    timeNs: T0,
    command: "kill_switch_on",
    requestedBy: "spec",
    reason: "maintenance",
  });
  for (let i = 0; i < 3; i++) brokerFailure(s, T0);
  const saved = JSON.parse(JSON.stringify(exportRiskState(s)));
  const r = restoreRiskState({ ...SPEC_RISK, ...breakerParams }, saved, [
    { clientOrderId: "o1", symbol: "XOM", side: "buy", qty: d(900), filledQty: d(100) },
  ]);
  assert.equal(r.killSwitch.engaged, true);
  assert.equal(r.breaker.status, "open");
  assert.equal(r.dayStartPnl, 0n);
  assert.equal(r.symbols.get("XOM")?.pendingBuy, d(800));
  assert.deepEqual(exportRiskState(r), saved);
});

test("the same events give the same command log, whole, over a long manual-clock run (determinism)", () => {
  // A manual clock: every event's time is derived from its index, never read from the machine.
  const run = () => {
    const s = tradableState(breakerParams);
    const log: RiskCommand[] = [];
    const step = (e: Parameters<typeof stepRisk>[1]) => {
      const cmds = stepRisk(s, e);
      log.push(...cmds);
      return cmds;
    };
    for (let i = 0; i < 300; i++) {
      const t = T0 + BigInt(i) * 7n * SECOND;
      const symbol = i % 3 === 0 ? "XOM" : "AAPL";
      const p = proposal(symbol, i % 2 ? "buy" : "sell", 10 + (i % 13) * 40, 100 + (i % 7), t);
      const decision = decisionOf(step({ ...p, signalId: `s${i}`, correlationId: `c${i}` }));
      if (decision.approved && i % 4 !== 3) {
        step({ type: "OrderAccepted", timeNs: t, clientOrderId: decision.clientOrderId });
        step({
          type: "OrderProgressed",
          timeNs: t + SECOND,
          clientOrderId: decision.clientOrderId,
          filledQty: decision.qty,
          terminal: true,
        });
        step({
          type: "PositionChanged",
          timeNs: t + SECOND,
          symbol,
          qty: d(i % 5),
          marketPrice: decision.referencePrice,
        });
      } else if (decision.approved) {
        step({
          type: "OrderFailed",
          timeNs: t + SECOND,
          clientOrderId: decision.clientOrderId,
          reason: "rejected",
          origin: "broker",
        });
      }
      if (i % 5 === 0) brokerFailure(s, t, "z", "x");
      step({ type: "TimeAdvanced", timeNs: t + 3n * SECOND });
    }
    return log;
  };
  const first = run();
  const second = run();
  const kinds = new Map<string, number>();
  for (const c of first) kinds.set(c.type, (kinds.get(c.type) ?? 0) + 1);
  assert.ok(first.length >= 300, `a substantial log: ${first.length} commands`);
  assert.ok((kinds.get("PublishDecision") ?? 0) >= 300, "every proposal decided");
  assert.ok((kinds.get("PersistRiskState") ?? 0) > 0, "state persisted along the way");
  const decisions = first.flatMap((c) => (c.type === "PublishDecision" ? [c.decision] : []));
  assert.ok(decisions.some((x) => x.approved) && decisions.some((x) => !x.approved));
  const text = (log: RiskCommand[]) =>
    JSON.stringify(log, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  assert.equal(text(second), text(first));
});

test("a half-open test order that fills closes the breaker even without an acknowledgement", () => {
  const s = tradableState(breakerParams);
  for (let i = 0; i < 3; i++) brokerFailure(s, T0);
  const t = T0 + 300n * SECOND;
  const probe = propose(s, proposal("XOM", "buy", 10, 10, t));
  assert.equal(probe.breakerTest, true);
  stepRisk(s, {
    type: "OrderProgressed",
    timeNs: t,
    clientOrderId: probe.clientOrderId,
    filledQty: d(10),
    terminal: true,
  });
  assert.equal(s.breaker.status, "closed");
});

test("bad limits are refused as TP_ERR_CONFIG naming the field", () => {
  assert.throws(
    () => createRiskState({ ...SPEC_RISK, maxSectorConcentration: 1.5 }),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_CONFIG") && /risk\.maxSectorConcentration/.test(e.message),
  );
  assert.throws(
    () => createRiskState({ ...SPEC_RISK, maxDailyLoss: "lots" }),
    /not a decimal number/,
  );
});
