/**
 * Domain forms of the broker's answers: the same facts as the wire types, with every decimal
 * parsed into an exact `Fixed` and every time into epoch ns. The REST client returns wire
 * objects (the exact strings Alpaca sent, which the audit trail stores verbatim); the product's
 * stages convert here, once, at the edge.
 */
import { type Fixed, fromDecimal } from "../core/money.ts";
import { rfc3339ToNs } from "./timestamps.ts";
import type {
  OrderSide,
  OrderStatus,
  OrderType,
  TimeInForce,
  WireAccount,
  WireOrder,
  WirePosition,
  WireTradeUpdate,
} from "./wire-types.ts";

export interface BrokerOrder {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  timeInForce: TimeInForce;
  status: OrderStatus;
  qty: Fixed | null;
  notional: Fixed | null;
  filledQty: Fixed;
  filledAvgPrice: Fixed | null;
  limitPrice: Fixed | null;
  stopPrice: Fixed | null;
  createdAtNs: bigint;
  updatedAtNs: bigint | null;
  replacedBy: string | null;
  replaces: string | null;
}

export interface BrokerPosition {
  symbol: string;
  side: "long" | "short";
  /** qty is signed: negative for a short, as Alpaca sends it. */
  qty: Fixed;
  avgEntryPrice: Fixed;
  marketValue: Fixed;
  costBasis: Fixed;
  unrealizedPl: Fixed;
  currentPrice: Fixed;
}

export interface BrokerAccount {
  id: string;
  status: string;
  currency: string;
  cash: Fixed;
  buyingPower: Fixed;
  equity: Fixed;
  lastEquity: Fixed;
  longMarketValue: Fixed;
  shortMarketValue: Fixed;
  tradingBlocked: boolean;
  accountBlocked: boolean;
  patternDayTrader: boolean;
  daytradeCount: number;
}

export interface BrokerTradeUpdate {
  event: string;
  executionId: string | null;
  order: BrokerOrder;
  timestampNs: bigint;
  /** price, qty and positionQty are set on fill and partial_fill. */
  price: Fixed | null;
  qty: Fixed | null;
  positionQty: Fixed | null;
}

const fixedOrNull = (v: string | null | undefined): Fixed | null =>
  v === null || v === undefined || v === "" ? null : fromDecimal(v);
const fixedOrZero = (v: string | null | undefined): Fixed => fixedOrNull(v) ?? 0n;
const nsOrNull = (v: string | null | undefined): bigint | null =>
  v === null || v === undefined ? null : rfc3339ToNs(v);

export function orderFromWire(o: WireOrder): BrokerOrder {
  return {
    id: o.id,
    clientOrderId: o.client_order_id,
    symbol: o.symbol,
    side: o.side,
    type: o.type ?? o.order_type,
    timeInForce: o.time_in_force,
    status: o.status,
    qty: fixedOrNull(o.qty),
    notional: fixedOrNull(o.notional),
    filledQty: fixedOrZero(o.filled_qty),
    filledAvgPrice: fixedOrNull(o.filled_avg_price),
    limitPrice: fixedOrNull(o.limit_price),
    stopPrice: fixedOrNull(o.stop_price),
    createdAtNs: rfc3339ToNs(o.created_at),
    updatedAtNs: nsOrNull(o.updated_at),
    replacedBy: o.replaced_by,
    replaces: o.replaces,
  };
}

export function positionFromWire(p: WirePosition): BrokerPosition {
  return {
    symbol: p.symbol,
    side: p.side,
    qty: fromDecimal(p.qty),
    avgEntryPrice: fromDecimal(p.avg_entry_price),
    marketValue: fixedOrZero(p.market_value),
    costBasis: fixedOrZero(p.cost_basis),
    unrealizedPl: fixedOrZero(p.unrealized_pl),
    currentPrice: fixedOrZero(p.current_price),
  };
}

export function accountFromWire(a: WireAccount): BrokerAccount {
  return {
    id: a.id,
    status: a.status,
    currency: a.currency,
    cash: fixedOrZero(a.cash),
    buyingPower: fixedOrZero(a.buying_power),
    equity: fixedOrZero(a.equity),
    lastEquity: fixedOrZero(a.last_equity),
    longMarketValue: fixedOrZero(a.long_market_value),
    shortMarketValue: fixedOrZero(a.short_market_value),
    tradingBlocked: a.trading_blocked,
    accountBlocked: a.account_blocked,
    patternDayTrader: a.pattern_day_trader,
    daytradeCount: a.daytrade_count,
  };
}

export function tradeUpdateFromWire(u: WireTradeUpdate): BrokerTradeUpdate {
  return {
    event: u.event,
    executionId: u.execution_id ?? null,
    order: orderFromWire(u.order),
    timestampNs: rfc3339ToNs(u.timestamp),
    price: fixedOrNull(u.price),
    qty: fixedOrNull(u.qty),
    positionQty: fixedOrNull(u.position_qty),
  };
}

/**
 * OrderSnapshot is the part of an order that order-state machines fold in: cumulative filled
 * quantity is the idempotency key for fills (a duplicate or reordered event adds nothing).
 */
export interface OrderSnapshot {
  brokerOrderId: string;
  status: string;
  filledQty: Fixed;
  filledAvgPrice: Fixed | null;
}

export function orderSnapshotFromWire(o: WireOrder): OrderSnapshot {
  return {
    brokerOrderId: o.id,
    status: o.status,
    filledQty: fixedOrZero(o.filled_qty),
    filledAvgPrice: fixedOrNull(o.filled_avg_price),
  };
}
