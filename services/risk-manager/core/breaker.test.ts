import assert from "node:assert/strict";
import { test } from "node:test";
import { createRiskState } from "./state.ts";
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
import type { RiskCommand } from "./types.ts";

const params = { circuitBreaker: { failureThreshold: 3, windowSeconds: 60, cooldownSeconds: 300 } };
const causes = (cmds: RiskCommand[]) =>
  cmds.flatMap((c) => (c.type === "PersistRiskState" ? [c.cause] : []));

/** openAt: a tradable state whose breaker opened at `t` (three broker failures). */
function openAt(t: bigint) {
  const s = tradableState(params);
  for (let i = 0; i < 3; i++) brokerFailure(s, t, `f-${i}`);
  assert.equal(s.breaker.status, "open");
  return s;
}

test("a failure exactly one window old no longer counts", () => {
  const s = tradableState(params);
  brokerFailure(s, T0);
  brokerFailure(s, T0 + 30n * SECOND);
  assert.deepEqual(causes(brokerFailure(s, T0 + 60n * SECOND)), []);
  assert.equal(s.breaker.status, "closed", "the first failure is 60 s old: two remain");
  assert.deepEqual(causes(brokerFailure(s, T0 + 61n * SECOND)), ["breaker_opened"]);
});

test("failures while open neither reopen it nor extend the cooldown", () => {
  const s = openAt(T0);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(causes(brokerFailure(s, T0 + 100n * SECOND, `late-${i}`)), []);
  }
  assert.deepEqual(causes(stepRisk(s, { type: "TimeAdvanced", timeNs: T0 + 300n * SECOND })), [
    "breaker_half_open",
  ]);
});

test("an acceptance while closed does not wipe the failures counted so far", () => {
  const s = tradableState(params);
  brokerFailure(s, T0);
  brokerFailure(s, T0 + SECOND);
  const ok = stepRisk(s, { type: "OrderAccepted", timeNs: T0 + 2n * SECOND, clientOrderId: "ok" });
  assert.deepEqual(causes(ok), [], "nothing changed, nothing to persist");
  const fill = stepRisk(s, {
    type: "OrderProgressed",
    timeNs: T0 + 2n * SECOND,
    clientOrderId: "ok",
    filledQty: d(1),
    terminal: true,
  });
  assert.deepEqual(causes(fill), []);
  assert.deepEqual(causes(brokerFailure(s, T0 + 3n * SECOND)), ["breaker_opened"]);
});

test("a breaker closed by its test order starts counting failures from zero", () => {
  const s = openAt(T0);
  const t = T0 + 300n * SECOND;
  const probe = propose(s, proposal("XOM", "buy", 1, 10, t));
  assert.equal(probe.breakerTest, true);
  stepRisk(s, { type: "OrderAccepted", timeNs: t, clientOrderId: probe.clientOrderId });
  assert.equal(s.breaker.status, "closed");
  brokerFailure(s, t + SECOND);
  brokerFailure(s, t + SECOND);
  assert.equal(s.breaker.status, "closed", "two failures after closing, under the threshold of 3");
});

test("a half-open breaker reopens only on its test order's broker failure, and says so", () => {
  const s = openAt(T0);
  const t = T0 + 300n * SECOND;
  const probe = propose(s, proposal("XOM", "buy", 1, 10, t));
  assert.deepEqual(causes(brokerFailure(s, t + SECOND, "another-order")), []);
  assert.equal(s.breaker.status, "half_open");
  assert.deepEqual(causes(brokerFailure(s, t + 2n * SECOND, probe.clientOrderId)), [
    "breaker_opened",
  ]);
  assert.equal(s.breaker.status, "open");
  assert.equal(
    s.breaker.openedAtNs,
    t + 2n * SECOND,
    "the cooldown starts again from the reopening",
  );
});

test("a test order the engine refused before the broker is no test: the next order may be one", () => {
  const s = openAt(T0);
  const t = T0 + 300n * SECOND;
  hold(s, "MSFT", 10, 10);
  const probe = propose(s, proposal("XOM", "buy", 1, 10, t));
  const other = propose(s, proposal("MSFT", "sell", 1, 10, t));
  assert.equal(other.reason, "approved", "a reducing order is not held back by the test");
  const engineRefusal = (clientOrderId: string) =>
    stepRisk(s, {
      type: "OrderFailed",
      timeNs: t + SECOND,
      clientOrderId,
      reason: "slippage",
      origin: "engine",
    });
  assert.deepEqual(causes(engineRefusal(other.clientOrderId)), []);
  assert.equal(
    propose(s, proposal("XOM", "buy", 1, 10, t + SECOND)).reason,
    "circuit_half_open",
    "another order's refusal leaves the test in place",
  );
  engineRefusal(probe.clientOrderId);
  assert.equal(s.breaker.status, "half_open", "an engine refusal is no broker verdict");
  const next = propose(s, proposal("XOM", "buy", 1, 10, t + 2n * SECOND));
  assert.equal(next.breakerTest, true);
  assert.equal(next.message, "approved as the breaker's test order");
});

test("a test order's fill closes the breaker only once something filled", () => {
  const s = openAt(T0);
  const t = T0 + 300n * SECOND;
  const probe = propose(s, proposal("XOM", "buy", 10, 10, t));
  const progressed = (filled: string) =>
    stepRisk(s, {
      type: "OrderProgressed",
      timeNs: t + SECOND,
      clientOrderId: probe.clientOrderId,
      filledQty: d(filled),
      terminal: false,
    });
  assert.deepEqual(causes(progressed("0")), []);
  assert.equal(s.breaker.status, "half_open");
  assert.deepEqual(causes(progressed("1")), ["breaker_closed"]);
});

test("a fresh state's first event sets the day without persisting a roll", () => {
  const s = createRiskState(SPEC_RISK);
  assert.deepEqual(causes(stepRisk(s, { type: "TimeAdvanced", timeNs: T0 })), []);
  assert.equal(s.dayIndex, Number((T0 - 8n * 3600n * SECOND) / (86_400n * SECOND)));
  assert.equal(s.nextDayNs, T0 + 63_000n * SECOND, "the next 08:00 UTC");
  assert.equal(s.lastTimeNs, T0);
  stepRisk(s, { type: "TimeAdvanced", timeNs: T0 - SECOND });
  assert.equal(s.lastTimeNs, T0, "time never goes back");
  stepRisk(s, { type: "TimeAdvanced", timeNs: T0 + SECOND });
  assert.equal(s.lastTimeNs, T0 + SECOND);
});
