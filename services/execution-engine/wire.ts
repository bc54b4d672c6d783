/**
 * wire maps between the execution engine's bus messages and its core: an approved
 * `OrderIntent` becomes `OrderApproved`, a core `OrderUpdateOut` becomes an `OrderUpdate`, and
 * a trade_updates event from the broker becomes `TradeUpdated`. Decimals cross as exact strings.
 */
import { create } from "@bufbuild/protobuf";
import type {
  WireOrder,
  OrderRequest as WireOrderRequest,
  WireTradeUpdate,
} from "../alpaca-client/index.ts";
import {
  type Header,
  IntentDecision,
  OrderEvent,
  type OrderIntent,
  OrderType,
  type OrderUpdate,
  OrderUpdateSchema,
  Side,
  TimeInForce,
} from "../core/messages/index.ts";
import { type Fixed, fromDecimal, toDecimal } from "../core/money.ts";
import type {
  BrokerOrderSnapshot,
  OrderApproved,
  OrderRequest,
  OrderStatus,
  OrderUpdateOut,
  TradeUpdated,
} from "./core/index.ts";

const TIME_IN_FORCE = {
  [TimeInForce.UNSPECIFIED]: "day",
  [TimeInForce.DAY]: "day",
  [TimeInForce.GTC]: "gtc",
  [TimeInForce.IOC]: "ioc",
  [TimeInForce.FOK]: "fok",
} as const;

/** IntentProblem: why an approved intent cannot become an order (logged and counted). */
export interface IntentProblem {
  reason: string;
  message: string;
}

/**
 * IntentView: the OrderIntent fields an approval is made of; both a decoded `OrderIntent` and
 * the hand-written decoder's fields (risk-manager/wire.ts `decodeIntent`) are one. Enums are
 * their order.proto numbers.
 */
export type IntentView = Pick<
  OrderIntent,
  "signalId" | "symbol" | "qty" | "limitPrice" | "decisionPrice" | "correlationId"
> & { decision: number; side: number; orderType: number; timeInForce: number };

/**
 * approvalFromIntent turns an approved OrderIntent into the core's OrderApproved, or names what
 * is wrong with it. `lastPrice` stands in for a missing decision price (see README: Shell).
 */
export function approvalFromIntent(m: IntentView, timeNs: bigint): OrderApproved | IntentProblem {
  if (m.decision !== IntentDecision.APPROVED) {
    return { reason: "not_approved", message: `intent ${m.signalId} is not an approval` };
  }
  const side = m.side === Side.BUY ? "buy" : m.side === Side.SELL ? "sell" : undefined;
  if (side === undefined) return bad("side", `signal ${m.signalId}: side is unspecified`);
  if (m.orderType !== OrderType.MARKET && m.orderType !== OrderType.LIMIT) {
    return bad("order_type", `signal ${m.signalId}: only market and limit orders are supported`);
  }
  const tif = TIME_IN_FORCE[m.timeInForce as keyof typeof TIME_IN_FORCE];
  if (tif === undefined) return bad("time_in_force", `signal ${m.signalId}: unknown time in force`);
  try {
    const qty = fromDecimal(m.qty);
    const limitPrice = m.limitPrice === "" ? null : fromDecimal(m.limitPrice);
    if (m.orderType === OrderType.LIMIT && (limitPrice === null || limitPrice <= 0n)) {
      return bad("limit_price", `signal ${m.signalId}: a limit order needs a positive limit_price`);
    }
    if (m.symbol === "") return bad("symbol", `signal ${m.signalId}: symbol is empty`);
    // The order is on the wire before its rows reach Postgres (journal-ahead): a value the
    // tables cannot hold must be refused here, not discovered by the write behind the send.
    if (!storable(qty) || (limitPrice !== null && !storable(limitPrice))) {
      return bad("qty", `signal ${m.signalId}: quantity or limit price exceeds numeric(38, 9)`);
    }
    const decision = m.decisionPrice !== "" ? fromDecimal(m.decisionPrice) : limitPrice;
    if (decision !== null && decision < 0n) {
      return bad("decision_price", `signal ${m.signalId}: decision_price is negative`);
    }
    return {
      type: "OrderApproved",
      timeNs,
      correlationId: m.correlationId !== "" ? m.correlationId : m.signalId,
      signalId: m.signalId,
      symbol: m.symbol,
      side,
      qty,
      orderType: m.orderType === OrderType.LIMIT ? "limit" : "market",
      limitPrice: m.orderType === OrderType.LIMIT ? limitPrice : null,
      timeInForce: tif,
      // 0 marks "no decision price": the shell substitutes the last price (README: Shell).
      decisionPrice: decision ?? 0n,
    };
  } catch (err) {
    return bad("decimal", `signal ${m.signalId}: ${(err as Error).message}`);
  }
}

/** Largest magnitude a tp_decimal column (numeric(38, 9)) holds, in fixed-point units. */
const STORABLE_BOUND = 10n ** 38n;
const storable = (v: bigint) => v < STORABLE_BOUND && v > -STORABLE_BOUND;

function bad(field: string, message: string): IntentProblem {
  return { reason: `invalid_${field}`, message };
}

const EVENT_OF_STATUS: Readonly<Record<OrderStatus, OrderEvent>> = {
  Created: OrderEvent.PENDING_NEW,
  Submitted: OrderEvent.PENDING_NEW,
  New: OrderEvent.NEW,
  PartiallyFilled: OrderEvent.PARTIAL_FILL,
  Filled: OrderEvent.FILL,
  Cancelled: OrderEvent.CANCELED,
  Rejected: OrderEvent.REJECTED,
  Expired: OrderEvent.EXPIRED,
  Replaced: OrderEvent.REPLACED,
};

/** BrokerExtras: what the shell knows about an update beyond the core's figures. */
export interface BrokerExtras {
  brokerOrderId: string;
  positionQty: string;
  brokerEventId: string;
}

/** orderUpdateMessage renders a core update as the bus's OrderUpdate. */
export function orderUpdateMessage(
  u: OrderUpdateOut,
  header: Header,
  extras: BrokerExtras,
): OrderUpdate {
  return create(OrderUpdateSchema, {
    header,
    clientOrderId: u.clientOrderId,
    brokerOrderId: extras.brokerOrderId,
    symbol: u.symbol,
    side: u.side === "buy" ? Side.BUY : Side.SELL,
    event: EVENT_OF_STATUS[u.status],
    fillPrice: u.fillQty > 0n && u.fillPrice !== null ? toDecimal(u.fillPrice) : "",
    fillQty: u.fillQty > 0n ? toDecimal(u.fillQty) : "",
    filledQty: toDecimal(u.filledQty),
    filledAvgPrice: u.filledAvgPrice === null ? "" : toDecimal(u.filledAvgPrice),
    qty: toDecimal(u.qty),
    positionQty: extras.positionQty,
    brokerEventId: extras.brokerEventId,
    reason: u.reason,
  });
}

const fixedOrNull = (v: string | null | undefined): Fixed | null =>
  v === null || v === undefined || v === "" ? null : fromDecimal(v);

/** snapshotOf is the core's view of a broker order. */
export function snapshotOf(o: WireOrder): BrokerOrderSnapshot {
  return {
    brokerOrderId: o.id,
    status: o.status,
    filledQty: fixedOrNull(o.filled_qty) ?? 0n,
    filledAvgPrice: fixedOrNull(o.filled_avg_price),
  };
}

/** tradeUpdated maps one trade_updates event to the core's event. */
export function tradeUpdated(u: WireTradeUpdate, timeNs: bigint): TradeUpdated {
  return {
    type: "TradeUpdated",
    timeNs,
    clientOrderId: u.order.client_order_id,
    event: u.event,
    order: snapshotOf(u.order),
    executionId: u.execution_id ?? "",
    fillQty: fixedOrNull(u.qty),
    fillPrice: fixedOrNull(u.price),
  };
}

/** orderRequestBody renders the core's request as Alpaca's POST body (decimals as strings). */
export function orderRequestBody(r: OrderRequest): WireOrderRequest & { client_order_id: string } {
  const body: WireOrderRequest & { client_order_id: string } = {
    symbol: r.symbol,
    side: r.side,
    type: r.orderType,
    time_in_force: r.timeInForce,
    qty: toDecimal(r.qty),
    client_order_id: r.clientOrderId,
  };
  if (r.limitPrice !== null) body.limit_price = toDecimal(r.limitPrice);
  return body;
}
