/**
 * Types of the risk-manager core: its parameters (the spec's `risk` block), the events it
 * consumes, the commands it emits and the decisions it makes.
 *
 * Time: every event carries `timeNs`, nanoseconds since the Unix epoch as a bigint (the bus
 * header's event time), and the core never reads a clock.
 */
import type { Fixed } from "../../core/money.ts";

export type Side = "buy" | "sell";

/** CircuitBreakerParams mirror spec.risk.circuitBreaker. */
export interface CircuitBreakerParams {
  failureThreshold: number;
  windowSeconds: number;
  cooldownSeconds: number;
}

/**
 * RiskParams are the spec's `risk` fields (money as decimal strings) plus the sector map and a
 * few knobs the spec leaves to the stage (all optional, defaults in DEFAULT_RISK_EXTRAS).
 */
export interface RiskParams {
  pipelineName: string;
  maxPositionShares: number;
  maxNotionalPerSymbol: string;
  maxOpenPositions: number;
  maxDailyLoss: string;
  maxVar99: string;
  varWindowDays: number;
  maxSectorConcentration: number;
  circuitBreaker: CircuitBreakerParams;
  /** sectors maps symbol → sector (config/sectors.yaml); unknown symbols share "UNKNOWN". */
  sectors?: Readonly<Record<string, string>>;
  /** varMinObservations: returns a symbol needs before historical simulation covers it. */
  varMinObservations?: number;
  /** varFallbackDailyVolatility: daily σ assumed for symbols with too little history. */
  varFallbackDailyVolatility?: number;
  /** tradingDayRollUtcHour: UTC hour at which the trading day (and daily loss) rolls over. */
  tradingDayRollUtcHour?: number;
  /** requireReconciliation: refuse orders until the position tracker says it can trade. */
  requireReconciliation?: boolean;
  /** decisionRetention: recent decisions kept to answer a repeated proposal (oldest dropped). */
  decisionRetention?: number;
  /**
   * maxSlippageBps: the execution engine's slippage guard (spec.execution.maxSlippageBps): a
   * limit price a signal asks for is capped at the marketable limit it allows (limit-price.ts).
   * Absent: limit prices are only rounded to the tick.
   */
  maxSlippageBps?: number;
}

export const DEFAULT_RISK_EXTRAS = {
  varMinObservations: 20,
  varFallbackDailyVolatility: 0.03,
  tradingDayRollUtcHour: 8,
  requireReconciliation: true,
  decisionRetention: 10_000,
} as const;

/** RejectReason is a stable code for why an order was refused (metric label, API field). */
export type RejectReason =
  | "kill_switch"
  | "halted"
  | "not_reconciled"
  | "circuit_open"
  | "circuit_half_open"
  | "invalid_order"
  | "crosses_zero"
  | "equity_unknown"
  | "max_position_shares"
  | "max_notional_per_symbol"
  | "max_open_positions"
  | "max_daily_loss"
  | "max_var99"
  | "max_sector_concentration";

/** CHECK_REASONS are the six pre-trade checks, in the order they run. */
export const CHECK_REASONS = [
  "max_position_shares",
  "max_notional_per_symbol",
  "max_open_positions",
  "max_daily_loss",
  "max_var99",
  "max_sector_concentration",
] as const satisfies readonly RejectReason[];

export type BreakerStatus = "closed" | "open" | "half_open";

// ---- events ---------------------------------------------------------------------------------

/** OrderProposed: a signal turned into an order to check (qty > 0, referencePrice > 0). */
export interface OrderProposed {
  type: "OrderProposed";
  timeNs: bigint;
  correlationId: string;
  signalId: string;
  symbol: string;
  side: Side;
  qty: Fixed;
  /** referencePrice: the price the signal was computed at (the checks' price; the guard's). */
  referencePrice: Fixed;
  /** limitPrice: the limit the signal asked for (a limit order); null or absent: a market order. */
  limitPrice?: Fixed | null;
  /**
   * standardLot: `qty` is the pipeline's order quantity, not one the strategy asked for. A
   * reducing order of the standard lot that would go through zero is sized down to what closes
   * the position (see brokerRefusal); a quantity the strategy named is refused instead.
   */
  standardLot?: boolean;
}

/** PositionChanged: the position tracker's filled position and mark for one symbol. */
export interface PositionChanged {
  type: "PositionChanged";
  timeNs: bigint;
  symbol: string;
  qty: Fixed;
  marketPrice: Fixed;
}

/** PortfolioChanged: the tracker's totals and its trading gate (reconciled, not broken). */
export interface PortfolioChanged {
  type: "PortfolioChanged";
  timeNs: bigint;
  /** equity: null while the tracker knows neither cash nor a starting equity. */
  equity: Fixed | null;
  realizedPnl: Fixed;
  unrealizedPnl: Fixed;
  canTrade: boolean;
}

/** OrderProgressed: cumulative fill of an approved order; terminal when it can fill no more. */
export interface OrderProgressed {
  type: "OrderProgressed";
  timeNs: bigint;
  clientOrderId: string;
  filledQty: Fixed;
  terminal: boolean;
}

/** OrderAccepted: the broker acknowledged an order (counts as success for the breaker). */
export interface OrderAccepted {
  type: "OrderAccepted";
  timeNs: bigint;
  clientOrderId: string;
}

/**
 * OrderFailed: an approved order ended without reaching the market. `origin` says who refused
 * it: "broker" (the broker rejected it, or it could not be reached after every retry) counts
 * toward the circuit breaker; "engine" (the execution engine's own guards: kill switch,
 * slippage, no price) does not.
 */
export interface OrderFailed {
  type: "OrderFailed";
  timeNs: bigint;
  clientOrderId: string;
  reason: string;
  origin: "broker" | "engine";
}

/** DailyClose: one trading day's close; `day` counts days since 1970-01-01 (the bar's UTC date). */
export interface DailyClose {
  day: number;
  close: Fixed;
}

/**
 * DailyClosesRecorded: daily closes of a symbol, oldest first. With `replace` the history is
 * rebuilt from these closes alone (a reload of the split-adjusted window, which restates every
 * earlier close after a split); without it closes for days already recorded are skipped.
 */
export interface DailyClosesRecorded {
  type: "DailyClosesRecorded";
  timeNs: bigint;
  symbol: string;
  closes: readonly DailyClose[];
  replace?: boolean;
}

export type ControlCommandName =
  | "kill_switch_on"
  | "kill_switch_off"
  | "halt"
  | "resume"
  | "drawdown_alert";

/** ControlReceived: an operator or stage command (proto Control). */
export interface ControlReceived {
  type: "ControlReceived";
  timeNs: bigint;
  command: ControlCommandName;
  requestedBy: string;
  reason: string;
  /** symbol scopes a halt/resume to one symbol; empty or absent means all. */
  symbol?: string;
}

/** TimeAdvanced: a tick from the shell so cooldowns and day rolls happen without traffic. */
export interface TimeAdvanced {
  type: "TimeAdvanced";
  timeNs: bigint;
}

export type RiskEvent =
  | OrderProposed
  | PositionChanged
  | PortfolioChanged
  | OrderProgressed
  | OrderAccepted
  | OrderFailed
  | DailyClosesRecorded
  | ControlReceived
  | TimeAdvanced;

// ---- decisions and commands -----------------------------------------------------------------

/** RiskDecision: the outcome of one OrderProposed; `reason` is "approved" when approved. */
export interface RiskDecision {
  approved: boolean;
  reason: RejectReason | "approved";
  message: string;
  clientOrderId: string;
  signalId: string;
  correlationId: string;
  symbol: string;
  side: Side;
  qty: Fixed;
  referencePrice: Fixed;
  /** limitPrice: the order's limit (on the tick, capped by the slippage guard); null: market. */
  limitPrice: Fixed | null;
  timeNs: bigint;
  /** breakerTest: this approval is the half-open breaker's single test order. */
  breakerTest: boolean;
  /**
   * repeated: the proposal's client_order_id was decided before; this is that earlier decision,
   * returned unchanged, and nothing in the state moved.
   */
  repeated: boolean;
}

/** PersistedRiskState is what must survive a restart (risk_state row), JSON-safe. */
export interface PersistedRiskState {
  version: 1;
  killSwitch: { engaged: boolean; requestedBy: string; reason: string; sinceNs: string };
  halt: { all: boolean; symbols: string[]; reason: string };
  breaker: { status: BreakerStatus; openedAtNs: string; failuresNs: string[] };
  day: { index: number; startPnl: string | null };
  rejectsByReason: Record<string, number>;
  rejectsToday: number;
}

export interface PublishDecision {
  type: "PublishDecision";
  decision: RiskDecision;
}

/** PersistRiskState: write the risk_state row (kill switch, halt, breaker, day) and publish it. */
export interface PersistRiskState {
  type: "PersistRiskState";
  state: PersistedRiskState;
  cause: string;
}

export type RiskCommand = PublishDecision | PersistRiskState;
