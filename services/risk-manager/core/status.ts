/**
 * status derives the figures the risk-manager publishes as its `RiskState` message and shows on
 * the status screen: breaker, kill switch, halt, today's P&L, current VaR, open positions and
 * reject counters. Pure: reading it changes nothing.
 */
import { type Fixed, ZERO } from "../../core/money.ts";
import { isExposed, type RiskState, type SymbolExposure } from "./state.ts";
import type { BreakerStatus } from "./types.ts";
import { dollarsToCentsFixed, var99PrePost } from "./var.ts";

export interface RiskStatus {
  breaker: BreakerStatus;
  killSwitch: boolean;
  halted: boolean;
  haltedSymbols: string[];
  dailyPnl: Fixed;
  valueAtRisk: Fixed;
  openPositions: number;
  rejectsToday: number;
  rejectsByReason: Record<string, number>;
  /** breakerCooldownUntilNs: when an open breaker may half-open; 0 otherwise. */
  breakerCooldownUntilNs: bigint;
  approvals: number;
}

const NO_ORDER: SymbolExposure = {
  symbol: "",
  sector: "",
  filledQty: ZERO,
  pendingBuy: ZERO,
  pendingSell: ZERO,
  price: ZERO,
  returns: null,
};

export function riskStatus(state: RiskState): RiskStatus {
  let open = 0;
  for (const s of state.symbols.values()) if (isExposed(s)) open++;
  const v = var99PrePost(state.symbols, NO_ORDER, ZERO, ZERO, state.limits);
  const b = state.breaker;
  return {
    breaker: b.status,
    killSwitch: state.killSwitch.engaged,
    halted: state.halt.all,
    haltedSymbols: [...state.halt.symbols].sort(),
    dailyPnl:
      state.dayStartPnl === null || !state.pnlKnown ? ZERO : state.totalPnl - state.dayStartPnl,
    valueAtRisk: dollarsToCentsFixed(v.pre),
    openPositions: open,
    rejectsToday: state.rejectsToday,
    rejectsByReason: { ...state.rejectsByReason },
    breakerCooldownUntilNs:
      b.status === "open" ? b.openedAtNs + state.limits.breakerCooldownNs : 0n,
    approvals: state.approvals,
  };
}
