/**
 * breaker is the circuit breaker: Closed → Open when `failureThreshold` failures AT THE BROKER
 * (rejects, and orders that could not be placed after every retry) fall within `windowSeconds`;
 * refusals by the pre-trade checks, by the gates and by the execution engine's own guards are
 * not failures (see step.ts);
 * Open → HalfOpen once `cooldownSeconds` have passed (on the first event at or after that time);
 * HalfOpen lets exactly one test order through: its acceptance closes the breaker, its failure
 * opens it again for another cooldown. A test order whose outcome never arrives within a cooldown
 * is forgotten, so another proposal can become the test.
 */
import type { BreakerStatus } from "./types.ts";

export interface BreakerState {
  status: BreakerStatus;
  /** failuresNs: event times of recent failures, oldest first, pruned to the window. */
  failuresNs: bigint[];
  openedAtNs: bigint;
  testClientOrderId: string | null;
  testSinceNs: bigint;
}

export interface BreakerTiming {
  breakerThreshold: number;
  breakerWindowNs: bigint;
  breakerCooldownNs: bigint;
}

export function createBreaker(): BreakerState {
  return {
    status: "closed",
    failuresNs: [],
    openedAtNs: 0n,
    testClientOrderId: null,
    testSinceNs: 0n,
  };
}

/** advanceBreaker applies the passage of time; returns true when the status changed. */
export function advanceBreaker(b: BreakerState, t: BreakerTiming, nowNs: bigint): boolean {
  if (b.status === "open" && nowNs >= b.openedAtNs + t.breakerCooldownNs) {
    b.status = "half_open";
    b.testClientOrderId = null;
    return true;
  }
  if (
    b.status === "half_open" &&
    b.testClientOrderId !== null &&
    nowNs >= b.testSinceNs + t.breakerCooldownNs
  ) {
    b.testClientOrderId = null;
  }
  return false;
}

function open(b: BreakerState, nowNs: bigint): void {
  b.status = "open";
  b.openedAtNs = nowNs;
  b.failuresNs = [];
  b.testClientOrderId = null;
}

/**
 * recordBreakerFailure counts one failure; `clientOrderId` lets a half-open breaker recognise
 * its test order. Returns true when the status changed.
 */
export function recordBreakerFailure(
  b: BreakerState,
  t: BreakerTiming,
  nowNs: bigint,
  clientOrderId: string | null,
): boolean {
  if (b.status === "open") return false;
  if (b.status === "half_open") {
    if (clientOrderId !== null && clientOrderId === b.testClientOrderId) {
      open(b, nowNs);
      return true;
    }
    return false;
  }
  const cutoff = nowNs - t.breakerWindowNs;
  const f = b.failuresNs;
  let drop = 0;
  while (drop < f.length && f[drop]! <= cutoff) drop++;
  if (drop > 0) f.splice(0, drop);
  f.push(nowNs);
  if (f.length >= t.breakerThreshold) {
    open(b, nowNs);
    return true;
  }
  return false;
}

/** recordBreakerSuccess closes a half-open breaker when its test order was accepted. */
export function recordBreakerSuccess(b: BreakerState, clientOrderId: string): boolean {
  if (b.status === "half_open" && clientOrderId === b.testClientOrderId) {
    b.status = "closed";
    b.failuresNs = [];
    b.testClientOrderId = null;
    return true;
  }
  return false;
}

/** forgetBreakerTest drops the half-open test when its order ended without a broker verdict. */
export function forgetBreakerTest(b: BreakerState, clientOrderId: string): void {
  if (b.status === "half_open" && clientOrderId === b.testClientOrderId) b.testClientOrderId = null;
}

/** startBreakerTest marks an approved order as the half-open breaker's one test order. */
export function startBreakerTest(b: BreakerState, clientOrderId: string, nowNs: bigint): void {
  b.testClientOrderId = clientOrderId;
  b.testSinceNs = nowNs;
}
