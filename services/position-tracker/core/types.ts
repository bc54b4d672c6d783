/**
 * Types of the position-tracker core: parameters (the spec's `positions` block plus a few
 * stage knobs), the events it consumes and the commands it emits.
 *
 * Time: every event carries `timeNs`, nanoseconds since the Unix epoch as a bigint (the bus
 * header's event time); snapshots are due when event time crosses an interval boundary.
 */
import type { FeeSchedule } from "../../core/fees.ts";
import type { Fixed } from "../../core/money.ts";

export type Side = "buy" | "sell";

/** PositionParams mirror spec.positions, plus optional stage knobs. */
export interface PositionParams {
  reconcileIntervalSeconds: number;
  drawdownAlertPct: number;
  snapshotIntervalSeconds: number;
  /** startingEquity: equity before any P&L when the broker's cash is not known (decimal). */
  startingEquity?: string;
  /** drawdownRearmPct: the alert re-arms once drawdown falls below this (default alert − 1). */
  drawdownRearmPct?: number;
  /** portfolioPublishIntervalMs: least event time between portfolio updates caused by quotes. */
  portfolioPublishIntervalMs?: number;
  /** sectors maps symbol → sector, copied into published positions. */
  sectors?: Readonly<Record<string, string>>;
  /** fees: the regulatory fee schedule booked on every fill (`services/core/fees.ts`); none if absent. */
  fees?: FeeSchedule;
  /**
   * symbols: the pipeline's own universe. When given, the broker's positions in other symbols
   * belong to someone else on the account and are no break.
   */
  symbols?: readonly string[];
  /**
   * sharedAccount: other pipelines trade on the account, so its cash is not this pipeline's and
   * is never taken; equity is `startingEquity` (the pipeline's capital) + its own P&L.
   */
  sharedAccount?: boolean;
}

export const DEFAULT_POSITION_EXTRAS = { portfolioPublishIntervalMs: 1000 } as const;

// ---- events ---------------------------------------------------------------------------------

/**
 * FillReceived: a fill of one order; `filledQty` (cumulative) makes it idempotent. With
 * `filledAvgPrice` (the order's cumulative average), what is booked is the cumulative notional
 * filledQty × filledAvgPrice minus what the order already booked, so a later fill arriving first
 * is priced right; without it, the quantity not yet booked is priced at `fillPrice`.
 */
export interface FillReceived {
  type: "FillReceived";
  timeNs: bigint;
  clientOrderId: string;
  symbol: string;
  side: Side;
  fillQty: Fixed;
  fillPrice: Fixed;
  filledQty: Fixed;
  filledAvgPrice?: Fixed;
}

export interface QuoteReceived {
  type: "QuoteReceived";
  timeNs: bigint;
  symbol: string;
  bid: Fixed;
  ask: Fixed;
}

export interface TradeReceived {
  type: "TradeReceived";
  timeNs: bigint;
  symbol: string;
  price: Fixed;
}

export interface BrokerPosition {
  symbol: string;
  /** qty: signed (negative when short), as /v2/positions reports it with side. */
  qty: Fixed;
  avgEntryPrice: Fixed;
}

/**
 * BrokerPositionsReceived: GET /v2/positions, to reconcile against, with the account's cash
 * (GET /v2/account) when both were read from one state of the account. The cash is taken only
 * when the positions reconcile with what the tracker booked: cash read before (or after) a fill
 * the tracker has (or has not) booked would count that fill twice (or not at all).
 */
export interface BrokerPositionsReceived {
  type: "BrokerPositionsReceived";
  timeNs: bigint;
  positions: readonly BrokerPosition[];
  cash?: Fixed;
}

/** BrokerPositionsAdopted: an operator accepts the broker's positions as the truth. */
export interface BrokerPositionsAdopted {
  type: "BrokerPositionsAdopted";
  timeNs: bigint;
  positions: readonly BrokerPosition[];
}

export interface TimeAdvanced {
  type: "TimeAdvanced";
  timeNs: bigint;
}

export type PositionEvent =
  | FillReceived
  | QuoteReceived
  | TradeReceived
  | BrokerPositionsReceived
  | BrokerPositionsAdopted
  | TimeAdvanced;

// ---- commands -------------------------------------------------------------------------------

export interface PositionView {
  symbol: string;
  qty: Fixed;
  avgCost: Fixed;
  marketPrice: Fixed;
  marketValue: Fixed;
  realizedPnl: Fixed;
  unrealizedPnl: Fixed;
  sector: string;
}

export interface PortfolioView {
  /** equity: cash + market value when cash is known, else startingEquity + P&L, else null. */
  equity: Fixed | null;
  cash: Fixed | null;
  /** realizedPnl: net of the fees booked. */
  realizedPnl: Fixed;
  unrealizedPnl: Fixed;
  /** fees: every fee booked so far (already taken out of realizedPnl). */
  fees: Fixed;
  marketValue: Fixed;
  peakEquity: Fixed | null;
  /** drawdown: (peak − equity) / peak as a fraction (0.05 = 5%). */
  drawdown: Fixed;
  reconciled: boolean;
  canTrade: boolean;
  timeNs: bigint;
}

export interface ReconciliationBreak {
  symbol: string;
  ours: Fixed;
  theirs: Fixed;
}

export interface PublishPosition {
  type: "PublishPosition";
  position: PositionView;
}

export interface PublishPortfolio {
  type: "PublishPortfolio";
  portfolio: PortfolioView;
}

/** PublishDrawdownAlert: drawdown reached the alert level (once per crossing). */
export interface PublishDrawdownAlert {
  type: "PublishDrawdownAlert";
  drawdown: Fixed;
  peakEquity: Fixed;
  equity: Fixed;
  timeNs: bigint;
}

/** PublishDrawdownRecovered: drawdown fell below the re-arm level; the next crossing alerts. */
export interface PublishDrawdownRecovered {
  type: "PublishDrawdownRecovered";
  drawdown: Fixed;
  timeNs: bigint;
}

export interface PublishReconciliation {
  type: "PublishReconciliation";
  ok: boolean;
  breaks: readonly ReconciliationBreak[];
  timeNs: bigint;
}

/** PositionSnapshot: the periodic snapshot row (positions_snapshots), JSON-safe decimals. */
export interface PositionSnapshot {
  timeNs: string;
  positions: { symbol: string; qty: string; avgCost: string; mark: string; realizedPnl: string }[];
  cash: string | null;
  equity: string | null;
  realizedPnl: string;
  unrealizedPnl: string;
  peakEquity: string | null;
  drawdownAlerted: boolean;
}

export interface WriteSnapshot {
  type: "WriteSnapshot";
  snapshot: PositionSnapshot;
}

export type PositionCommand =
  | PublishPosition
  | PublishPortfolio
  | PublishDrawdownAlert
  | PublishDrawdownRecovered
  | PublishReconciliation
  | WriteSnapshot;
