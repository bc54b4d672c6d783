/** test-support builds risk-manager states and events for the unit tests (not product code). */
import { type Fixed, fromDecimal } from "../../core/money.ts";
import { createRiskState, type RiskState } from "./state.ts";
import { stepRisk } from "./step.ts";
import type { OrderProposed, RiskCommand, RiskDecision, RiskParams, Side } from "./types.ts";

export const SECOND = 1_000_000_000n;
/** T0 is 2026-03-02 14:30 UTC, a trading-day morning. */
export const T0 = 1_772_461_800n * SECOND;

export const SPEC_RISK: RiskParams = {
  pipelineName: "demo",
  maxPositionShares: 1000,
  maxNotionalPerSymbol: "50000",
  maxOpenPositions: 5,
  maxDailyLoss: "5000",
  maxVar99: "10000",
  varWindowDays: 252,
  maxSectorConcentration: 0.3,
  circuitBreaker: { failureThreshold: 5, windowSeconds: 60, cooldownSeconds: 300 },
  sectors: { AAPL: "tech", MSFT: "tech", NVDA: "tech", XOM: "energy", JPM: "financials" },
};

export const d = (s: string | number): Fixed => fromDecimal(s);

/** tradableState: params applied, reconciled, equity 100k, flat, P&L 0 at T0. */
export function tradableState(overrides: Partial<RiskParams> = {}, equity = "100000"): RiskState {
  const state = createRiskState({ ...SPEC_RISK, ...overrides });
  stepRisk(state, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: d(equity),
    realizedPnl: 0n,
    unrealizedPnl: 0n,
    canTrade: true,
  });
  return state;
}

let seq = 0;
export function proposal(
  symbol: string,
  side: Side,
  qty: string | number,
  price: string | number,
  timeNs = T0,
): OrderProposed {
  seq++;
  return {
    type: "OrderProposed",
    timeNs,
    correlationId: `corr-${seq}`,
    signalId: `sig-${seq}`,
    symbol,
    side,
    qty: d(qty),
    referencePrice: d(price),
  };
}

export function decisionOf(commands: RiskCommand[]): RiskDecision {
  const c = commands.find((x) => x.type === "PublishDecision");
  if (c === undefined || c.type !== "PublishDecision")
    throw new Error("no decision among the commands");
  return c.decision;
}

/** propose steps one proposal and returns its decision. */
export function propose(state: RiskState, p: OrderProposed): RiskDecision {
  return decisionOf(stepRisk(state, p));
}

/** hold sets the tracker's filled position of a symbol. */
export function hold(
  state: RiskState,
  symbol: string,
  qty: string | number,
  price: string | number,
): void {
  stepRisk(state, {
    type: "PositionChanged",
    timeNs: T0,
    symbol,
    qty: d(qty),
    marketPrice: d(price),
  });
}

/** settle ends an approved order as filled and sets the tracker's resulting position. */
export function settle(
  state: RiskState,
  decision: RiskDecision,
  positionQty: string | number,
): void {
  stepRisk(state, {
    type: "OrderProgressed",
    timeNs: decision.timeNs,
    clientOrderId: decision.clientOrderId,
    filledQty: decision.qty,
    terminal: true,
  });
  stepRisk(state, {
    type: "PositionChanged",
    timeNs: decision.timeNs,
    symbol: decision.symbol,
    qty: d(positionQty),
    marketPrice: decision.referencePrice,
  });
}

/** brokerFailure steps an OrderFailed the broker caused (a reject), which the breaker counts. */
export function brokerFailure(
  state: RiskState,
  timeNs: bigint,
  clientOrderId = "x",
  reason = "500",
): RiskCommand[] {
  return stepRisk(state, { type: "OrderFailed", timeNs, clientOrderId, reason, origin: "broker" });
}
