/**
 * order-actions: what a client can do to live orders and positions besides placing an order —
 * cancel (one or all), replace, close positions — and the exchange reject the fault injector uses.
 * Each returns the trade updates it caused, like the rest of the broker core.
 */
import { abs, div, type Fixed, fromDecimal, mul, ONE, ZERO } from "../../core/money.ts";
import { planOrder } from "./account.ts";
import {
  activate,
  type BrokerState,
  expiresAt,
  findAsset,
  finish,
  type Outcome,
  register,
  removeOpen,
  type SessionInfo,
  snapshot,
  submitOrder,
  type TradeUpdate,
} from "./broker.ts";
import { updateTrail } from "./matching.ts";
import {
  type ApiError,
  INVALID_INPUT_CODE,
  invalid,
  isOpen,
  type Order,
  type OrderRequest,
  type ReplaceRequest,
} from "./orders.ts";
import type { Nanos } from "./time.ts";

const notFound = (): ApiError => ({
  status: 404,
  body: { code: 40410000, message: "order not found" },
});

function notCancelable(o: Order): ApiError {
  return {
    status: 422,
    body: { code: 42210000, message: `order is already in "${o.status}" state` },
  };
}

/** cancelOrder cancels a live order (DELETE /v2/orders/{id} → 204). */
export function cancelOrder(state: BrokerState, id: string, now: Nanos): Outcome<Order> {
  const o = state.orders.get(id);
  if (!o) return { ok: false, error: notFound() };
  if (!isOpen(o)) return { ok: false, error: notCancelable(o) };
  const updates: TradeUpdate[] = [];
  finish(state, o, "canceled", now, updates);
  return { ok: true, value: snapshot(o), updates };
}

/** cancelAll cancels every live order (DELETE /v2/orders → 207 [{id,status}]). */
export function cancelAll(
  state: BrokerState,
  now: Nanos,
): { results: { id: string; status: number }[]; updates: TradeUpdate[] } {
  const updates: TradeUpdate[] = [];
  const results: { id: string; status: number }[] = [];
  for (const o of [...state.orderLog]) {
    if (!isOpen(o)) continue;
    finish(state, o, "canceled", now, updates);
    results.push({ id: o.id, status: 200 });
  }
  return { results, updates };
}

/** rejectOrder fails a live order after acceptance, as an exchange reject would (event "rejected"). */
export function rejectOrder(state: BrokerState, id: string, now: Nanos): TradeUpdate[] {
  const o = state.orders.get(id);
  if (!o || !isOpen(o)) return [];
  o.status = "rejected";
  o.failedAt = now;
  o.updatedAt = now;
  removeOpen(state, o);
  return [{ event: "rejected", order: snapshot(o), t: now }];
}

const NOT_REPLACEABLE = new Set(["accepted", "pending_new", "pending_cancel", "pending_replace"]);

/** replaceOrder implements PATCH /v2/orders/{id}: a new order replaces the live one. */
export function replaceOrder(
  state: BrokerState,
  id: string,
  req: ReplaceRequest,
  now: Nanos,
  session: SessionInfo,
): Outcome<Order> {
  const old = state.orders.get(id);
  if (!old) return { ok: false, error: notFound() };
  if (!isOpen(old)) return { ok: false, error: notCancelable(old) };
  if (NOT_REPLACEABLE.has(old.status)) {
    return {
      ok: false,
      error: {
        status: 422,
        body: {
          code: 42210000,
          message: `order is in "${old.status}" state and cannot be replaced`,
        },
      },
    };
  }
  if (old.qty === null) return { ok: false, error: invalid("notional orders cannot be replaced") };
  if (req.clientOrderId !== null && state.byClientId.has(req.clientOrderId)) {
    return {
      ok: false,
      error: {
        status: 422,
        body: { code: INVALID_INPUT_CODE, message: "client_order_id must be unique" },
      },
    };
  }
  if (req.limitPrice !== null && old.type !== "limit" && old.type !== "stop_limit") {
    return { ok: false, error: invalid(`limit_price cannot be set on a ${old.type} order`) };
  }
  if (req.stopPrice !== null && old.type !== "stop" && old.type !== "stop_limit") {
    return { ok: false, error: invalid(`stop_price cannot be set on a ${old.type} order`) };
  }
  if (req.trail !== null && old.type !== "trailing_stop") {
    return { ok: false, error: invalid(`trail cannot be set on a ${old.type} order`) };
  }
  const qty = (req.qty ?? old.qty) - old.filledQty;
  if (qty <= ZERO) return { ok: false, error: invalid("qty must be greater than the filled qty") };
  const tif = req.timeInForce ?? old.timeInForce;
  const orderReq: OrderRequest = {
    symbol: old.symbol,
    side: old.side,
    type: old.type,
    timeInForce: tif,
    qty,
    notional: null,
    limitPrice: req.limitPrice ?? old.limitPrice,
    stopPrice: old.type === "trailing_stop" ? null : (req.stopPrice ?? old.stopPrice),
    trailPrice: old.trailPrice !== null ? (req.trail ?? old.trailPrice) : null,
    trailPercent: old.trailPercent !== null ? (req.trail ?? old.trailPercent) : null,
    extendedHours: old.extendedHours,
    clientOrderId: req.clientOrderId,
  };
  const asset = state.assets.get(old.symbol)!;
  const quote = state.quotes.get(old.symbol)!;
  const plan = planOrder(state, orderReq, asset, quote, old);
  if ("status" in plan) return { ok: false, error: plan };
  const updates: TradeUpdate[] = [];
  const fresh: Order = {
    ...old,
    id: state.prng.uuid(),
    clientOrderId: req.clientOrderId ?? state.prng.uuid(),
    timeInForce: tif,
    qty,
    limitPrice: orderReq.limitPrice,
    stopPrice: orderReq.stopPrice,
    trailPrice: orderReq.trailPrice,
    trailPercent: orderReq.trailPercent,
    hwm: null,
    filledQty: ZERO,
    filledNotional: ZERO,
    status: "pending_new",
    positionIntent: plan.intent,
    createdAt: now,
    updatedAt: now,
    submittedAt: now,
    filledAt: null,
    expiredAt: null,
    expiresAt: expiresAt({ timeInForce: tif }, session.close),
    canceledAt: null,
    failedAt: null,
    replacedAt: null,
    replacedBy: null,
    replaces: old.id,
    triggered: false,
    reservePrice: plan.reservePrice,
  };
  finish(state, old, "replaced", now, updates);
  old.replacedBy = fresh.id;
  updates.push({ event: "replaced", order: snapshot(old), t: now });
  if (fresh.type === "trailing_stop") updateTrail(fresh, quote);
  register(state, fresh);
  const response = snapshot(fresh);
  if (session.open) updates.push(...activate(state, fresh, now));
  return { ok: true, value: response, updates };
}

const noPosition = (): ApiError => ({
  status: 404,
  body: { code: 40410000, message: "position does not exist" },
});

/** closePosition liquidates all or part of a position with a market order (DELETE /v2/positions/{sym}). */
export function closePosition(
  state: BrokerState,
  symbolOrId: string,
  amount: { qty: Fixed | null; percentage: Fixed | null },
  now: Nanos,
  session: SessionInfo,
): Outcome<Order> {
  const asset = findAsset(state, symbolOrId);
  const pos = asset ? state.ledger.positions.get(asset.symbol) : undefined;
  if (!asset || !pos) return { ok: false, error: noPosition() };
  if (amount.qty !== null && amount.percentage !== null) {
    return { ok: false, error: invalid("qty and percentage cannot both be specified") };
  }
  const full = abs(pos.qty);
  let qty = full;
  if (amount.qty !== null) {
    if (amount.qty <= ZERO) return { ok: false, error: invalid("qty must be > 0") };
    qty = amount.qty;
  } else if (amount.percentage !== null) {
    if (amount.percentage <= ZERO || amount.percentage > fromDecimal(100)) {
      return { ok: false, error: invalid("percentage must be between 0 and 100") };
    }
    qty = div(mul(full, amount.percentage), fromDecimal(100));
    if (full % ONE === ZERO) qty -= qty % ONE;
    if (qty <= ZERO)
      return { ok: false, error: invalid("percentage is too small to sell a whole share") };
  }
  return submitOrder(
    state,
    {
      symbol: asset.symbol,
      side: pos.qty > ZERO ? "sell" : "buy",
      type: "market",
      timeInForce: "day",
      qty,
      notional: null,
      limitPrice: null,
      stopPrice: null,
      trailPrice: null,
      trailPercent: null,
      extendedHours: false,
      clientOrderId: null,
    },
    now,
    session,
  );
}

export interface ClosedPosition {
  symbol: string;
  status: number;
  order?: Order;
  error?: ApiError["body"];
}

/** closeAllPositions liquidates everything (DELETE /v2/positions → 207). */
export function closeAllPositions(
  state: BrokerState,
  cancelOrders: boolean,
  now: Nanos,
  session: SessionInfo,
): { results: ClosedPosition[]; updates: TradeUpdate[] } {
  const updates: TradeUpdate[] = [];
  if (cancelOrders) updates.push(...cancelAll(state, now).updates);
  const results: ClosedPosition[] = [];
  for (const symbol of [...state.ledger.positions.keys()].sort()) {
    const r = closePosition(state, symbol, { qty: null, percentage: null }, now, session);
    if (r.ok) {
      updates.push(...r.updates);
      results.push({ symbol, status: 200, order: r.value });
    } else {
      results.push({ symbol, status: r.error.status, error: r.error.body });
    }
  }
  return { results, updates };
}
