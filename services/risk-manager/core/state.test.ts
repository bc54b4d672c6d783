import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { createRiskState, exportRiskState, restoreRiskState } from "./state.ts";
import { riskStatus } from "./status.ts";
import { stepRisk } from "./step.ts";
import {
  brokerFailure,
  d,
  proposal,
  propose,
  SECOND,
  SPEC_RISK,
  T0,
  tradableState,
} from "./test-support.ts";
import type { RiskCommand, RiskParams } from "./types.ts";

const HOUR = 3600n * SECOND;
const causes = (cmds: RiskCommand[]) =>
  cmds.flatMap((c) => (c.type === "PersistRiskState" ? [c.cause] : []));

function refused(overrides: Partial<RiskParams>, message: RegExp): void {
  assert.throws(
    () => createRiskState({ ...SPEC_RISK, ...overrides }),
    (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && message.test(e.message),
    `${JSON.stringify(overrides)} should be refused with ${message}`,
  );
}

test("every count and duration must be a positive integer; the error names the field and value", () => {
  refused({ maxPositionShares: 0 }, /^risk\.maxPositionShares: must be a positive integer, got 0$/);
  refused({ maxOpenPositions: 1.5 }, /^risk\.maxOpenPositions: .* got 1\.5$/);
  refused({ varWindowDays: -1 }, /^risk\.varWindowDays: .* got -1$/);
  refused({ varMinObservations: 0 }, /^risk\.varMinObservations: /);
  refused({ decisionRetention: 0 }, /^risk\.decisionRetention: /);
  const cb = SPEC_RISK.circuitBreaker;
  refused({ circuitBreaker: { ...cb, failureThreshold: 0 } }, /circuitBreaker\.failureThreshold/);
  refused({ circuitBreaker: { ...cb, windowSeconds: 0 } }, /circuitBreaker\.windowSeconds/);
  refused({ circuitBreaker: { ...cb, cooldownSeconds: 0.5 } }, /circuitBreaker\.cooldownSeconds/);
  // The smallest valid values are accepted.
  const s = createRiskState({
    ...SPEC_RISK,
    maxPositionShares: 1,
    maxOpenPositions: 1,
    circuitBreaker: { failureThreshold: 1, windowSeconds: 1, cooldownSeconds: 1 },
  });
  assert.equal(s.limits.maxPositionShares, d(1));
  assert.equal(s.limits.breakerWindowNs, SECOND);
  assert.equal(s.limits.breakerCooldownNs, SECOND);
});

test("sector concentration must lie in (0, 1], the roll hour in 0..23, the slippage guard ≥ 0 whole bps", () => {
  refused(
    { maxSectorConcentration: 0 },
    /risk\.maxSectorConcentration: must be in \(0, 1\], got 0/,
  );
  refused({ maxSectorConcentration: 1.01 }, /got 1\.01/);
  assert.equal(
    createRiskState({ ...SPEC_RISK, maxSectorConcentration: 1 }).limits.maxSectorConcentration,
    d(1),
  );
  for (const hour of [-1, 24, 7.5]) {
    refused(
      { tradingDayRollUtcHour: hour },
      new RegExp(`tradingDayRollUtcHour: must be an integer 0\\.\\.23, got ${hour}`),
    );
  }
  assert.equal(
    createRiskState({ ...SPEC_RISK, tradingDayRollUtcHour: 0 }).limits.dayRollOffsetNs,
    0n,
  );
  assert.equal(
    createRiskState({ ...SPEC_RISK, tradingDayRollUtcHour: 23 }).limits.dayRollOffsetNs,
    23n * HOUR,
  );
  for (const bps of [-1, 2.5]) {
    refused(
      { maxSlippageBps: bps },
      new RegExp(`execution\\.maxSlippageBps: must be a non-negative integer, got ${bps}`),
    );
  }
  assert.equal(createRiskState({ ...SPEC_RISK, maxSlippageBps: 0 }).limits.maxSlippageBps, 0n);
  assert.equal(createRiskState(SPEC_RISK).limits.maxSlippageBps, null, "no guard unless set");
});

test("optional knobs left undefined take their defaults; symbols outside the sector map share UNKNOWN", () => {
  const s = createRiskState({
    ...SPEC_RISK,
    varMinObservations: undefined,
    decisionRetention: undefined,
  });
  assert.equal(s.limits.varMinObservations, 20);
  assert.equal(s.limits.decisionRetention, 10_000);
  assert.equal(
    s.limits.dayRollOffsetNs,
    8n * HOUR,
    "the trading day rolls at 08:00 UTC by default",
  );
  assert.equal(s.limits.requireReconciliation, true);
  assert.equal(s.limits.sectors.get("AAPL"), "tech");
  const open = tradableState({ maxSectorConcentration: 1 });
  propose(open, proposal("ZZZZ", "buy", 1, 10));
  assert.equal(open.symbols.get("ZZZZ")?.sector, "UNKNOWN");
  assert.equal(createRiskState({ ...SPEC_RISK, sectors: undefined }).limits.sectors.size, 0);
});

test("the trading day rolls at the configured UTC hour: new baseline, rejects reset, roll persisted", () => {
  // T0 is 14:30 UTC; the default roll is at 08:00 UTC the next morning, 17.5 h later.
  const s = tradableState();
  stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0 + SECOND,
    equity: d(99000),
    realizedPnl: d(-1000),
    unrealizedPnl: 0n,
    canTrade: true,
  });
  assert.equal(propose(s, proposal("XOM", "buy", 5000, 10)).reason, "max_position_shares");
  assert.equal(riskStatus(s).rejectsToday, 1);
  assert.equal(riskStatus(s).dailyPnl, d(-1000));
  const before = stepRisk(s, { type: "TimeAdvanced", timeNs: T0 + 63_000n * SECOND - 1n });
  assert.deepEqual(causes(before), [], "one nanosecond before 08:00 it is still the same day");
  assert.equal(riskStatus(s).rejectsToday, 1);
  const roll = stepRisk(s, { type: "TimeAdvanced", timeNs: T0 + 63_000n * SECOND });
  assert.deepEqual(causes(roll), ["day_rolled"]);
  assert.equal(riskStatus(s).rejectsToday, 0);
  assert.equal(riskStatus(s).dailyPnl, 0n, "the day starts from the P&L at the roll");
  assert.equal(s.dayStartPnl, d(-1000));
  assert.deepEqual(
    causes(stepRisk(s, { type: "TimeAdvanced", timeNs: T0 + 64_000n * SECOND })),
    [],
  );
  // With the roll at midnight UTC the same day ends 9.5 h after T0.
  const midnight = tradableState({ tradingDayRollUtcHour: 0 });
  assert.deepEqual(
    causes(stepRisk(midnight, { type: "TimeAdvanced", timeNs: T0 + 34_200n * SECOND })),
    ["day_rolled"],
  );
});

test("a day that rolls before any P&L is known starts without a baseline, then takes the first P&L", () => {
  const s = createRiskState(SPEC_RISK);
  stepRisk(s, { type: "TimeAdvanced", timeNs: T0 });
  assert.equal(s.dayStartPnl, null);
  assert.equal(riskStatus(s).dailyPnl, 0n);
  const first = stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0 + SECOND,
    equity: d(100000),
    realizedPnl: d(250),
    unrealizedPnl: d(-50),
    canTrade: true,
  });
  assert.deepEqual(causes(first), ["day_baseline"]);
  assert.equal(s.dayStartPnl, d(200), "realized plus unrealized");
  const later = stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0 + 2n * SECOND,
    equity: d(100000),
    realizedPnl: d(100),
    unrealizedPnl: 0n,
    canTrade: true,
  });
  assert.deepEqual(causes(later), [], "the baseline is set once a day");
  assert.equal(riskStatus(s).dailyPnl, d(-100));
});

test("a restarted half-open breaker is open again, its cooldown counted from the first opening", () => {
  const params = {
    ...SPEC_RISK,
    circuitBreaker: { failureThreshold: 3, windowSeconds: 60, cooldownSeconds: 300 },
  };
  const s = createRiskState(params);
  for (let i = 0; i < 3; i++) brokerFailure(s, T0);
  stepRisk(s, { type: "TimeAdvanced", timeNs: T0 + 300n * SECOND });
  assert.equal(s.breaker.status, "half_open");
  const saved = JSON.parse(JSON.stringify(exportRiskState(s)));
  assert.equal(saved.breaker.status, "half_open");
  const r = restoreRiskState(params, saved);
  assert.equal(r.breaker.status, "open");
  assert.equal(riskStatus(r).breakerCooldownUntilNs, T0 + 300n * SECOND);
  stepRisk(r, { type: "TimeAdvanced", timeNs: T0 + 300n * SECOND - 1n });
  assert.equal(r.breaker.status, "open");
  stepRisk(r, { type: "TimeAdvanced", timeNs: T0 + 300n * SECOND });
  assert.equal(r.breaker.status, "half_open");
  assert.equal(riskStatus(r).breakerCooldownUntilNs, 0n, "no cooldown unless open");
});

test("a persisted state of an unknown version is refused, not guessed at", () => {
  const saved = JSON.parse(JSON.stringify(exportRiskState(createRiskState(SPEC_RISK))));
  assert.throws(
    () => restoreRiskState(SPEC_RISK, { ...saved, version: 2 }),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_CONFIG") && /risk_state: unknown version 2/.test(e.message),
  );
});

test("halts, rejects and the kill switch survive a restart as they were", () => {
  const s = tradableState();
  for (const [command, symbol] of [
    ["halt", "XOM"],
    ["halt", "AAPL"],
    ["kill_switch_on", undefined],
  ] as const) {
    stepRisk(s, {
      type: "ControlReceived",
      timeNs: T0 + 5n,
      command,
      requestedBy: "cli",
      reason: "why",
      symbol,
    });
  }
  propose(s, proposal("XOM", "buy", 1, 10));
  const saved = JSON.parse(JSON.stringify(exportRiskState(s)));
  assert.deepEqual(saved.halt, { all: false, symbols: ["AAPL", "XOM"], reason: "why" });
  assert.deepEqual(saved.killSwitch, {
    engaged: true,
    requestedBy: "cli",
    reason: "why",
    sinceNs: String(T0 + 5n),
  });
  assert.deepEqual(saved.rejectsByReason, { kill_switch: 1 });
  assert.equal(saved.rejectsToday, 1);
  const r = restoreRiskState(SPEC_RISK, saved);
  assert.equal(r.killSwitch.sinceNs, T0 + 5n);
  assert.deepEqual([...r.halt.symbols].sort(), ["AAPL", "XOM"]);
  assert.equal(r.rejectsToday, 1);
  assert.deepEqual(r.rejectsByReason, { kill_switch: 1 });
  assert.deepEqual(exportRiskState(r), saved);
});

test("decisions are remembered up to decisionRetention, the oldest forgotten first", () => {
  const s = tradableState({ decisionRetention: 2, maxSectorConcentration: 1 });
  const sent = Array.from({ length: 7 }, (_, i) => proposal("XOM", "buy", 1, 10 + i));
  for (const p of sent) assert.equal(propose(s, p).repeated, false);
  assert.equal(s.decisions.size, 2);
  assert.equal(propose(s, sent[6]!).repeated, true);
  assert.equal(propose(s, sent[5]!).repeated, true);
  const forgotten = propose(s, sent[4]!);
  assert.equal(forgotten.repeated, false, "a forgotten decision is decided afresh");
  // Eviction follows the order decisions were first made (a repeat does not refresh one):
  // the fresh decision pushed out the 6th, the oldest left; the 7th stays.
  assert.equal(propose(s, sent[6]!).repeated, true);
  assert.equal(propose(s, sent[5]!).repeated, false);
});

test("status lists halted symbols sorted, the whole-market halt, approvals and what a fresh state shows", () => {
  const fresh = riskStatus(createRiskState(SPEC_RISK));
  assert.deepEqual(
    { ...fresh, rejectsByReason: { ...fresh.rejectsByReason } },
    {
      breaker: "closed",
      killSwitch: false,
      halted: false,
      haltedSymbols: [],
      dailyPnl: 0n,
      valueAtRisk: 0n,
      openPositions: 0,
      rejectsToday: 0,
      rejectsByReason: {},
      breakerCooldownUntilNs: 0n,
      approvals: 0,
    },
  );
  const s = tradableState();
  const control = (command: "halt" | "resume", symbol?: string) =>
    stepRisk(s, {
      type: "ControlReceived",
      timeNs: T0,
      command,
      requestedBy: "cli",
      reason: "news",
      symbol,
    });
  control("halt", "XOM");
  control("halt", "AAPL");
  assert.deepEqual(riskStatus(s).haltedSymbols, ["AAPL", "XOM"]);
  assert.equal(riskStatus(s).halted, false);
  assert.match(propose(s, proposal("XOM", "buy", 1, 10)).message, /^XOM halted until resumed/);
  assert.equal(propose(s, proposal("MSFT", "buy", 1, 10)).reason, "approved");
  assert.equal(riskStatus(s).approvals, 1);
  assert.deepEqual(causes(control("resume", "XOM")), ["resume"]);
  assert.deepEqual(riskStatus(s).haltedSymbols, ["AAPL"]);
  assert.equal(propose(s, proposal("XOM", "buy", 1, 10)).reason, "approved");
  assert.equal(propose(s, proposal("AAPL", "buy", 1, 10)).reason, "halted");
  assert.deepEqual(causes(control("halt")), ["halt"]);
  assert.equal(riskStatus(s).halted, true);
  assert.match(
    propose(s, proposal("JPM", "buy", 1, 10)).message,
    /^trading halted until resumed \(only reducing orders pass\): news$/,
  );
  control("resume");
  assert.deepEqual(riskStatus(s).haltedSymbols, []);
  assert.equal(riskStatus(s).halted, false);
  assert.equal(s.halt.reason, "");
  assert.equal(propose(s, proposal("AAPL", "buy", 1, 10)).reason, "approved");
});
