/**
 * state holds the risk-manager core's state: compiled limits, the exposure it checks against,
 * the circuit breaker, kill switch and halts, and counters. createRiskState builds it from
 * params; exportRiskState/restoreRiskState carry the part that must survive a restart.
 */
import { TradepipeError } from "../../core/errors.ts";
import { abs, type Fixed, fromDecimal, max, toDecimal, ZERO } from "../../core/money.ts";
import { type BreakerState, createBreaker } from "./breaker.ts";
import {
  type CircuitBreakerParams,
  DEFAULT_RISK_EXTRAS,
  type PersistedRiskState,
  type RiskDecision,
  type RiskParams,
  type Side,
} from "./types.ts";
import type { ReturnSeries } from "./var.ts";

const NS_PER_SECOND = 1_000_000_000n;

/** RiskLimits are the params compiled to exact values and nanoseconds once. */
export interface RiskLimits {
  pipelineName: string;
  maxPositionShares: Fixed;
  maxNotionalPerSymbol: Fixed;
  maxOpenPositions: number;
  maxDailyLoss: Fixed;
  maxVar99: Fixed;
  varWindowDays: number;
  varMinObservations: number;
  varFallbackDailyVolatility: number;
  maxSectorConcentration: Fixed;
  breakerThreshold: number;
  breakerWindowNs: bigint;
  breakerCooldownNs: bigint;
  dayRollOffsetNs: bigint;
  requireReconciliation: boolean;
  decisionRetention: number;
  sectors: ReadonlyMap<string, string>;
  /** maxSlippageBps: the execution guard that caps a signal's limit price (null: not capped). */
  maxSlippageBps: Fixed | null;
}

/**
 * SymbolExposure: filled position (from the tracker), working orders per side, and its mark.
 * Working buys and sells are kept apart: either side may fill while the other does not, so the
 * position can end anywhere between `shortEnd` and `longEnd` (see below), never at their net.
 */
export interface SymbolExposure {
  symbol: string;
  sector: string;
  filledQty: Fixed;
  /** pendingBuy: remaining quantity of approved buys that may still fill (≥ 0). */
  pendingBuy: Fixed;
  /** pendingSell: remaining quantity of approved sells that may still fill (≥ 0). */
  pendingSell: Fixed;
  price: Fixed;
  returns: ReturnSeries | null;
}

/** longEnd: the position if every working buy fills and no working sell does. */
export function longEnd(s: SymbolExposure): Fixed {
  return s.filledQty + s.pendingBuy;
}

/** shortEnd: the position if every working sell fills and no working buy does. */
export function shortEnd(s: SymbolExposure): Fixed {
  return s.filledQty - s.pendingSell;
}

/** worstShares: the largest |position| the symbol can reach with the orders working now. */
export function worstShares(s: SymbolExposure): Fixed {
  return max(abs(longEnd(s)), abs(shortEnd(s)));
}

/** isExposed: the symbol holds a position or has a working order. */
export function isExposed(s: SymbolExposure): boolean {
  return s.filledQty !== ZERO || s.pendingBuy !== ZERO || s.pendingSell !== ZERO;
}

/** PendingOrder: an approved order whose remaining quantity still counts as exposure. */
export interface PendingOrder {
  symbol: string;
  sign: 1n | -1n;
  qty: Fixed;
  filledQty: Fixed;
}

export interface RiskState {
  limits: RiskLimits;
  symbols: Map<string, SymbolExposure>;
  pending: Map<string, PendingOrder>;
  /** decisions: recent decisions by client_order_id. */
  decisions: Map<string, RiskDecision>;
  /** decisionIds: the ids in `decisions`, oldest first from `decisionHead` (eviction order). */
  decisionIds: string[];
  decisionHead: number;
  equity: Fixed | null;
  totalPnl: Fixed;
  pnlKnown: boolean;
  dayIndex: number;
  /** nextDayNs: event time at which the trading day next rolls (checked on every event). */
  nextDayNs: bigint;
  dayStartPnl: Fixed | null;
  canTrade: boolean;
  killSwitch: { engaged: boolean; requestedBy: string; reason: string; sinceNs: bigint };
  halt: { all: boolean; symbols: Set<string>; reason: string };
  breaker: BreakerState;
  rejectsByReason: Record<string, number>;
  rejectsToday: number;
  approvals: number;
  lastTimeNs: bigint;
}

function requirePositiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new TradepipeError("TP_ERR_CONFIG", `risk.${name}: must be a positive integer, got ${v}`);
  return v;
}

function compileBreaker(cb: CircuitBreakerParams) {
  return {
    breakerThreshold: requirePositiveInt("circuitBreaker.failureThreshold", cb.failureThreshold),
    breakerWindowNs:
      BigInt(requirePositiveInt("circuitBreaker.windowSeconds", cb.windowSeconds)) * NS_PER_SECOND,
    breakerCooldownNs:
      BigInt(requirePositiveInt("circuitBreaker.cooldownSeconds", cb.cooldownSeconds)) *
      NS_PER_SECOND,
  };
}

/** compileRiskLimits validates params and turns them into exact limits (throws TP_ERR_CONFIG naming the field). */
export function compileRiskLimits(params: RiskParams): RiskLimits {
  const extras = { ...DEFAULT_RISK_EXTRAS, ...stripUndefined(params) };
  const conc = params.maxSectorConcentration;
  if (!(conc > 0 && conc <= 1))
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `risk.maxSectorConcentration: must be in (0, 1], got ${conc}`,
    );
  const rollHour = extras.tradingDayRollUtcHour;
  if (!Number.isInteger(rollHour) || rollHour < 0 || rollHour > 23) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `risk.tradingDayRollUtcHour: must be an integer 0..23, got ${rollHour}`,
    );
  }
  return {
    pipelineName: params.pipelineName,
    maxPositionShares: fromDecimal(
      requirePositiveInt("maxPositionShares", params.maxPositionShares),
    ),
    maxNotionalPerSymbol: fromDecimal(params.maxNotionalPerSymbol),
    maxOpenPositions: requirePositiveInt("maxOpenPositions", params.maxOpenPositions),
    maxDailyLoss: fromDecimal(params.maxDailyLoss),
    maxVar99: fromDecimal(params.maxVar99),
    varWindowDays: requirePositiveInt("varWindowDays", params.varWindowDays),
    varMinObservations: requirePositiveInt("varMinObservations", extras.varMinObservations),
    varFallbackDailyVolatility: extras.varFallbackDailyVolatility,
    maxSectorConcentration: fromDecimal(conc),
    ...compileBreaker(params.circuitBreaker),
    dayRollOffsetNs: BigInt(rollHour) * 3600n * NS_PER_SECOND,
    requireReconciliation: extras.requireReconciliation,
    decisionRetention: requirePositiveInt("decisionRetention", extras.decisionRetention),
    sectors: new Map(Object.entries(params.sectors ?? {})),
    maxSlippageBps: compileSlippage(params.maxSlippageBps),
  };
}

function compileSlippage(bps: number | undefined): Fixed | null {
  if (bps === undefined) return null;
  if (!Number.isInteger(bps) || bps < 0)
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `execution.maxSlippageBps: must be a non-negative integer, got ${bps}`,
    );
  return fromDecimal(bps);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** createRiskState builds a fresh state: breaker closed, kill switch off, not yet tradable. */
export function createRiskState(params: RiskParams): RiskState {
  return {
    limits: compileRiskLimits(params),
    symbols: new Map(),
    pending: new Map(),
    decisions: new Map(),
    decisionIds: [],
    decisionHead: 0,
    equity: null,
    totalPnl: ZERO,
    pnlKnown: false,
    dayIndex: -1,
    nextDayNs: -1n,
    dayStartPnl: null,
    canTrade: false,
    killSwitch: { engaged: false, requestedBy: "", reason: "", sinceNs: 0n },
    halt: { all: false, symbols: new Set(), reason: "" },
    breaker: createBreaker(),
    rejectsByReason: {},
    rejectsToday: 0,
    approvals: 0,
    lastTimeNs: 0n,
  };
}

/** symbolExposure returns (creating if needed) the exposure record of a symbol. */
export function symbolExposure(state: RiskState, symbol: string): SymbolExposure {
  let s = state.symbols.get(symbol);
  if (s === undefined) {
    s = {
      symbol,
      sector: state.limits.sectors.get(symbol) ?? "UNKNOWN",
      filledQty: ZERO,
      pendingBuy: ZERO,
      pendingSell: ZERO,
      price: ZERO,
      returns: null,
    };
    state.symbols.set(symbol, s);
  }
  return s;
}

/** exportRiskState is the JSON-safe part of the state a restart needs (the risk_state row). */
export function exportRiskState(state: RiskState): PersistedRiskState {
  const b = state.breaker;
  return {
    version: 1,
    killSwitch: { ...state.killSwitch, sinceNs: state.killSwitch.sinceNs.toString() },
    halt: {
      all: state.halt.all,
      symbols: [...state.halt.symbols].sort(),
      reason: state.halt.reason,
    },
    breaker: {
      status: b.status,
      openedAtNs: b.openedAtNs.toString(),
      failuresNs: b.failuresNs.map((t) => t.toString()),
    },
    day: {
      index: state.dayIndex,
      startPnl: state.dayStartPnl === null ? null : toDecimal(state.dayStartPnl),
    },
    rejectsByReason: { ...state.rejectsByReason },
    rejectsToday: state.rejectsToday,
  };
}

/** OpenOrderForRisk: an order still working at the broker, to restore pending exposure. */
export interface OpenOrderForRisk {
  clientOrderId: string;
  symbol: string;
  side: Side;
  qty: Fixed;
  filledQty: Fixed;
}

/**
 * restoreRiskState rebuilds the state after a restart from the persisted row and the orders
 * still open. Positions, P&L and price history arrive afterwards as ordinary events.
 * A half-open breaker restarts as open (its test order's outcome is unknown): the cooldown
 * runs again from its original opening time.
 */
export function restoreRiskState(
  params: RiskParams,
  persisted: PersistedRiskState,
  openOrders: readonly OpenOrderForRisk[] = [],
): RiskState {
  if (persisted.version !== 1)
    throw new TradepipeError("TP_ERR_CONFIG", `risk_state: unknown version ${persisted.version}`);
  const state = createRiskState(params);
  state.killSwitch = { ...persisted.killSwitch, sinceNs: BigInt(persisted.killSwitch.sinceNs) };
  state.halt = {
    all: persisted.halt.all,
    symbols: new Set(persisted.halt.symbols),
    reason: persisted.halt.reason,
  };
  state.breaker.status =
    persisted.breaker.status === "half_open" ? "open" : persisted.breaker.status;
  state.breaker.openedAtNs = BigInt(persisted.breaker.openedAtNs);
  state.breaker.failuresNs = persisted.breaker.failuresNs.map((t) => BigInt(t));
  state.dayIndex = persisted.day.index;
  state.dayStartPnl = persisted.day.startPnl === null ? null : fromDecimal(persisted.day.startPnl);
  state.rejectsByReason = { ...persisted.rejectsByReason };
  state.rejectsToday = persisted.rejectsToday;
  for (const o of openOrders) {
    addPending(state, o.clientOrderId, o.symbol, o.side, o.qty, o.filledQty);
    // A proposal repeated after the restart must not add the order a second time.
    rememberDecision(state, {
      approved: true,
      reason: "approved",
      message: "approved before the restart; still working",
      clientOrderId: o.clientOrderId,
      signalId: "",
      correlationId: "",
      symbol: o.symbol,
      side: o.side,
      qty: o.qty,
      referencePrice: ZERO,
      limitPrice: null,
      timeNs: 0n,
      breakerTest: false,
      repeated: false,
    });
  }
  return state;
}

/** rememberDecision keeps a decision to answer a repeated proposal (bounded, oldest dropped). */
export function rememberDecision(state: RiskState, d: RiskDecision): void {
  if (d.clientOrderId === "") return;
  if (!state.decisions.has(d.clientOrderId)) state.decisionIds.push(d.clientOrderId);
  state.decisions.set(d.clientOrderId, d);
  if (state.decisions.size > state.limits.decisionRetention) {
    state.decisions.delete(state.decisionIds[state.decisionHead++]!);
    if (state.decisionHead * 2 > state.decisionIds.length) {
      state.decisionIds.splice(0, state.decisionHead);
      state.decisionHead = 0;
    }
  }
}

/** addPending counts an approved order's unfilled remainder as exposure. */
export function addPending(
  state: RiskState,
  clientOrderId: string,
  symbol: string,
  side: Side,
  qty: Fixed,
  filledQty: Fixed,
): void {
  const sign = side === "buy" ? 1n : -1n;
  state.pending.set(clientOrderId, { symbol, sign, qty, filledQty });
  movePending(symbolExposure(state, symbol), sign, qty - filledQty);
}

/** movePending adds `delta` (negative to release) to the working quantity of one side. */
export function movePending(s: SymbolExposure, sign: 1n | -1n, delta: Fixed): void {
  if (sign === 1n) s.pendingBuy += delta;
  else s.pendingSell += delta;
}
