/**
 * state holds the position-tracker core's state: positions, running totals, cash when known,
 * the drawdown tracker, reconciliation status and the snapshot clock.
 */
import { TradepipeError } from "../../core/errors.ts";
import { type FeeSchedule, NO_FEES } from "../../core/fees.ts";
import { type Fixed, fromDecimal, toDecimal, type Wide, ZERO } from "../../core/money.ts";
import { createDrawdown, type DrawdownState, setPeak } from "./drawdown.ts";
import { averageCost, type Position } from "./position.ts";
import {
  DEFAULT_POSITION_EXTRAS,
  type PortfolioView,
  type PositionParams,
  type PositionSnapshot,
  type PositionView,
  type ReconciliationBreak,
} from "./types.ts";

const NS_PER_SECOND = 1_000_000_000n;

export interface PositionConfig {
  snapshotIntervalNs: bigint;
  publishIntervalNs: bigint;
  startingEquity: Fixed | null;
  sectors: ReadonlyMap<string, string>;
  fees: FeeSchedule;
  /** ownSymbols: the universe reconciled against the broker (null: every symbol). */
  ownSymbols: ReadonlySet<string> | null;
  sharedAccount: boolean;
}

/** OrderBooked: what one order has booked so far: cumulative quantity and notional (unrounded). */
export interface OrderBooked {
  qty: Fixed;
  notional: Wide;
}

export interface PositionState {
  config: PositionConfig;
  positions: Map<string, Position>;
  /** applied: what each client_order_id has booked (fill idempotency and pricing). */
  applied: Map<string, OrderBooked>;
  cash: Fixed | null;
  /** realized: net of fees. */
  realized: Fixed;
  fees: Fixed;
  unrealized: Fixed;
  marketValue: Fixed;
  drawdown: DrawdownState;
  /** reconciled: the latest reconciliation passed (false until the first one does). */
  reconciled: boolean;
  breaks: ReconciliationBreak[];
  nextSnapshotNs: bigint | null;
  lastPortfolioNs: bigint;
}

function positiveInt(name: string, v: number): bigint {
  if (!Number.isInteger(v) || v < 1)
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `positions.${name}: must be a positive integer, got ${v}`,
    );
  return BigInt(v);
}

export function createPositionState(params: PositionParams): PositionState {
  positiveInt("reconcileIntervalSeconds", params.reconcileIntervalSeconds);
  if (params.sharedAccount === true && params.startingEquity === undefined) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      "positions.sharedAccountCapital: a pipeline sharing its account needs its own capital",
    );
  }
  const publishMs =
    params.portfolioPublishIntervalMs ?? DEFAULT_POSITION_EXTRAS.portfolioPublishIntervalMs;
  if (!Number.isInteger(publishMs) || publishMs < 0) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `positions.portfolioPublishIntervalMs: must be a non-negative integer, got ${publishMs}`,
    );
  }
  return {
    config: {
      snapshotIntervalNs:
        positiveInt("snapshotIntervalSeconds", params.snapshotIntervalSeconds) * NS_PER_SECOND,
      publishIntervalNs: BigInt(publishMs) * 1_000_000n,
      startingEquity:
        params.startingEquity === undefined ? null : fromDecimal(params.startingEquity),
      sectors: new Map(Object.entries(params.sectors ?? {})),
      fees: params.fees ?? NO_FEES,
      ownSymbols: params.symbols === undefined ? null : new Set(params.symbols),
      sharedAccount: params.sharedAccount === true,
    },
    positions: new Map(),
    applied: new Map(),
    cash: null,
    realized: ZERO,
    fees: ZERO,
    unrealized: ZERO,
    marketValue: ZERO,
    drawdown: createDrawdown(params.drawdownAlertPct, params.drawdownRearmPct),
    reconciled: false,
    breaks: [],
    nextSnapshotNs: null,
    lastPortfolioNs: -1n,
  };
}

/** equityOf: cash + market value when cash is known, else starting equity + P&L, else null. */
export function equityOf(s: PositionState): Fixed | null {
  if (s.cash !== null) return s.cash + s.marketValue;
  if (s.config.startingEquity !== null) return s.config.startingEquity + s.realized + s.unrealized;
  return null;
}

/** canTrade: the gate for orders; true only while the latest reconciliation passed. */
export function canTrade(s: PositionState): boolean {
  return s.reconciled;
}

export function positionView(s: PositionState, p: Position): PositionView {
  return {
    symbol: p.symbol,
    qty: p.qty,
    avgCost: averageCost(p),
    marketPrice: p.mark,
    marketValue: p.marketValue,
    realizedPnl: p.realized,
    unrealizedPnl: p.unrealized,
    sector: s.config.sectors.get(p.symbol) ?? "UNKNOWN",
  };
}

export function portfolioView(s: PositionState, timeNs: bigint, drawdown: Fixed): PortfolioView {
  return {
    equity: equityOf(s),
    cash: s.cash,
    realizedPnl: s.realized,
    unrealizedPnl: s.unrealized,
    fees: s.fees,
    marketValue: s.marketValue,
    peakEquity: s.drawdown.peak,
    drawdown,
    reconciled: s.reconciled,
    canTrade: canTrade(s),
    timeNs,
  };
}

export function snapshotOf(s: PositionState, timeNs: bigint): PositionSnapshot {
  const eq = equityOf(s);
  return {
    timeNs: timeNs.toString(),
    positions: [...s.positions.values()]
      .filter((p) => p.qty !== ZERO || p.realized !== ZERO)
      .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))
      .map((p) => ({
        symbol: p.symbol,
        qty: toDecimal(p.qty),
        avgCost: toDecimal(averageCost(p)),
        mark: toDecimal(p.mark),
        realizedPnl: toDecimal(p.realized),
      })),
    cash: s.cash === null ? null : toDecimal(s.cash),
    equity: eq === null ? null : toDecimal(eq),
    realizedPnl: toDecimal(s.realized),
    unrealizedPnl: toDecimal(s.unrealized),
    peakEquity: s.drawdown.peak === null ? null : toDecimal(s.drawdown.peak),
    drawdownAlerted: s.drawdown.alerted,
  };
}

/**
 * restorePositionState starts from the last snapshot's peak and alert flag; positions and
 * realized P&L are rebuilt by replaying every stored fill (FillReceived is idempotent), then a
 * reconciliation with the broker opens the gate again.
 */
export function restorePositionState(
  params: PositionParams,
  last: PositionSnapshot | null,
): PositionState {
  const s = createPositionState(params);
  if (last !== null && last.peakEquity !== null) {
    setPeak(s.drawdown, fromDecimal(last.peakEquity));
    s.drawdown.alerted = last.drawdownAlerted;
  }
  return s;
}
