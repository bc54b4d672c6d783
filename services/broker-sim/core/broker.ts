/**
 * broker: the simulated paper account as a deterministic state machine. Commands (submit,
 * cancel, replace, close, a new quote, the session opening or closing) take the current
 * simulated time and return the trade updates they caused; the HTTP and WebSocket shell only
 * serialises them. One PRNG (seeded from the simulator seed) draws ids and partial fills, so the
 * same order flow against the same quotes gives the same fills.
 */
import { abs, div, type Fixed, fromDecimal, mul, ONE, ZERO } from "../../core/money.ts";
import { applyFill, createLedger, type Ledger, marketValues } from "./ledger.ts";
import { elect, executablePrice, fillQty, protectiveLimit, updateTrail } from "./matching.ts";
import {
  type ApiError,
  INVALID_INPUT_CODE,
  invalid,
  isOpen,
  type Order,
  type OrderRequest,
  type PositionIntent,
  type ReplaceRequest,
} from "./orders.ts";
import { createPrng, type Prng } from "./prng.ts";
import { type Nanos, NS_PER_DAY } from "./time.ts";
import type { Quote } from "./types.ts";

export interface Asset {
  id: string;
  symbol: string;
  name: string;
  exchange: string;
  tradable: boolean;
  shortable: boolean;
  marginable: boolean;
  fractionable: boolean;
  easyToBorrow: boolean;
}

export type TradeEvent =
  | "new"
  | "partial_fill"
  | "fill"
  | "canceled"
  | "expired"
  | "rejected"
  | "replaced"
  | "done_for_day";

export interface TradeUpdate {
  event: TradeEvent;
  /** order is a snapshot taken when the event happened. */
  order: Order;
  t: Nanos;
  price?: Fixed;
  qty?: Fixed;
  positionQty?: Fixed;
  executionId?: string;
}

export interface Execution {
  executionId: string;
  orderId: string;
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  qty: Fixed;
  price: Fixed;
  t: Nanos;
  positionQty: Fixed;
}

export interface BrokerOptions {
  seed: number;
  startingCash: Fixed;
  partialFillProbability: number;
  shortingEnabled: boolean;
}

export interface BrokerState {
  options: BrokerOptions;
  prng: Prng;
  accountId: string;
  accountNumber: string;
  createdAt: Nanos;
  lastEquity: Fixed;
  assets: Map<string, Asset>;
  ledger: Ledger;
  orders: Map<string, Order>;
  /** orderLog keeps every order in submission order (GET /v2/orders sorts from it). */
  orderLog: Order[];
  byClientId: Map<string, Order>;
  openBySymbol: Map<string, Set<Order>>;
  quotes: Map<string, Quote>;
  executions: Execution[];
}

export type Outcome<T> =
  | { ok: true; value: T; updates: TradeUpdate[] }
  | { ok: false; error: ApiError };

const MARKET_BUY_CUSHION = fromDecimal("1.03");
const GTC_LIFETIME = 90n * NS_PER_DAY;

export function createBroker(options: BrokerOptions, assets: Asset[], now: Nanos): BrokerState {
  const prng = createPrng(options.seed, "broker");
  const accountId = prng.uuid();
  return {
    options,
    prng,
    accountId,
    accountNumber: `PA${String(prng.int(10_000_000, 99_999_999))}`,
    createdAt: now,
    lastEquity: options.startingCash,
    assets: new Map(assets.map((a) => [a.symbol, a])),
    ledger: createLedger(options.startingCash),
    orders: new Map(),
    orderLog: [],
    byClientId: new Map(),
    openBySymbol: new Map(),
    quotes: new Map(),
    executions: [],
  };
}

const snapshot = (o: Order): Order => ({ ...o });

export function findAsset(state: BrokerState, symbolOrId: string): Asset | undefined {
  const bySymbol = state.assets.get(symbolOrId.toUpperCase());
  if (bySymbol) return bySymbol;
  for (const a of state.assets.values()) if (a.id === symbolOrId) return a;
  return undefined;
}

function markPrice(state: BrokerState, symbol: string): Fixed | undefined {
  const q = state.quotes.get(symbol);
  return q ? (q.bidPrice + q.askPrice) / 2n : undefined;
}

/** isOpening tells whether an order adds exposure (and so reserves buying power). */
function isOpening(intent: PositionIntent): boolean {
  return intent === "buy_to_open" || intent === "sell_to_open";
}

function reservedFor(o: Order): Fixed {
  if (!isOpen(o) || !isOpening(o.positionIntent)) return ZERO;
  if (o.qty === null) return (o.notional ?? ZERO) - o.filledNotional;
  return mul(o.qty - o.filledQty, o.reservePrice);
}

/** accountFigures computes the money fields of GET /v2/account. */
export function accountFigures(state: BrokerState): {
  cash: Fixed;
  equity: Fixed;
  longMarketValue: Fixed;
  shortMarketValue: Fixed;
  buyingPower: Fixed;
  reserved: Fixed;
} {
  const { long, short } = marketValues(state.ledger, (s) => markPrice(state, s));
  let reserved = ZERO;
  for (const set of state.openBySymbol.values()) for (const o of set) reserved += reservedFor(o);
  const cash = state.ledger.cash;
  const bp = cash - 2n * abs(short) - reserved;
  return {
    cash,
    equity: cash + long + short,
    longMarketValue: long,
    shortMarketValue: short,
    buyingPower: bp > ZERO ? bp : ZERO,
    reserved,
  };
}

/** heldForOrders is the quantity of `symbol` already committed to open orders of `side`. */
function heldForOrders(state: BrokerState, symbol: string, side: "buy" | "sell"): Fixed {
  let held = ZERO;
  for (const o of state.openBySymbol.get(symbol) ?? []) {
    if (o.side === side && !isOpening(o.positionIntent) && o.qty !== null)
      held += o.qty - o.filledQty;
  }
  return held;
}

export function qtyAvailable(state: BrokerState, symbol: string): Fixed {
  const pos = state.ledger.positions.get(symbol);
  if (!pos) return ZERO;
  return pos.qty > ZERO
    ? pos.qty - heldForOrders(state, symbol, "sell")
    : pos.qty + heldForOrders(state, symbol, "buy");
}

function forbidden(message: string, extra: Record<string, unknown> = {}): ApiError {
  return { status: 403, body: { code: 40310000, message, ...extra } };
}

function dec(v: Fixed): string {
  const s = v.toString();
  return s === "0" ? "0" : formatFixed(v);
}

function formatFixed(v: Fixed): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const int = a / ONE;
  const frac = (a % ONE).toString().padStart(9, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${int}${frac ? `.${frac}` : ""}`;
}

interface Plan {
  intent: PositionIntent;
  reservePrice: Fixed;
}

/** planOrder checks position and buying power the way Alpaca does and values the reservation. */
function planOrder(
  state: BrokerState,
  req: OrderRequest,
  asset: Asset,
  quote: Quote,
  excluding?: Order,
): Plan | ApiError {
  const pos = state.ledger.positions.get(req.symbol);
  const posQty = pos?.qty ?? ZERO;
  const qty = req.qty;
  if (req.side === "sell" && posQty > ZERO) {
    const available =
      qtyAvailable(state, req.symbol) +
      (excluding && excluding.side === "sell" ? excluding.qty! - excluding.filledQty : ZERO);
    if (qty === null || qty > available) {
      const held = heldForOrders(state, req.symbol, "sell");
      return forbidden(
        `insufficient qty available for order (requested: ${dec(qty ?? ZERO)}, available: ${dec(available)})`,
        {
          available: dec(available),
          existing_qty: dec(posQty),
          held_for_orders: dec(held),
          symbol: req.symbol,
          related_orders: [...(state.openBySymbol.get(req.symbol) ?? [])]
            .filter((o) => o.side === "sell")
            .map((o) => o.id),
        },
      );
    }
    return { intent: "sell_to_close", reservePrice: ZERO };
  }
  if (req.side === "buy" && posQty < ZERO) {
    const available =
      -qtyAvailable(state, req.symbol) +
      (excluding && excluding.side === "buy" ? excluding.qty! - excluding.filledQty : ZERO);
    if (qty === null || qty > available) {
      return forbidden(
        `insufficient qty available for order (requested: ${dec(qty ?? ZERO)}, available: ${dec(available)})`,
        {
          available: dec(available),
          existing_qty: dec(posQty),
          held_for_orders: dec(heldForOrders(state, req.symbol, "buy")),
          symbol: req.symbol,
          related_orders: [],
        },
      );
    }
    return { intent: "buy_to_close", reservePrice: ZERO };
  }
  let reservePrice: Fixed;
  if (req.side === "buy") {
    if (req.type === "limit" || req.type === "stop_limit") reservePrice = req.limitPrice!;
    else if (req.type === "stop") reservePrice = protectiveLimit(req.stopPrice!);
    else reservePrice = mul(quote.askPrice, MARKET_BUY_CUSHION);
  } else {
    if (!state.options.shortingEnabled || !asset.shortable) {
      return forbidden(`asset "${req.symbol}" cannot be sold short`);
    }
    if (qty === null || qty % ONE !== ZERO) {
      return invalid("fractional orders cannot be sold short");
    }
    const cushion = mul(quote.askPrice, MARKET_BUY_CUSHION);
    reservePrice = req.limitPrice !== null && req.limitPrice > cushion ? req.limitPrice : cushion;
  }
  const cost = qty === null ? req.notional! : mul(qty, reservePrice);
  const released = excluding ? reservedFor(excluding) : ZERO;
  const bp = accountFigures(state).buyingPower + released;
  if (cost > bp) {
    return forbidden("insufficient buying power", { buying_power: dec(bp), cost_basis: dec(cost) });
  }
  return { intent: req.side === "buy" ? "buy_to_open" : "sell_to_open", reservePrice };
}

function expiresAt(req: { timeInForce: string }, sessionClose: Nanos): Nanos {
  return req.timeInForce === "gtc" ? sessionClose + GTC_LIFETIME : sessionClose;
}

function addOpen(state: BrokerState, o: Order): void {
  let set = state.openBySymbol.get(o.symbol);
  if (!set) {
    set = new Set();
    state.openBySymbol.set(o.symbol, set);
  }
  set.add(o);
}

function removeOpen(state: BrokerState, o: Order): void {
  state.openBySymbol.get(o.symbol)?.delete(o);
}

export interface SessionInfo {
  /** open tells whether orders may execute now. */
  open: boolean;
  /** close is the end of the current (or next) session, used for expires_at. */
  close: Nanos;
}

/** submitOrder places a new order; on success the order is live and may already have filled. */
export function submitOrder(
  state: BrokerState,
  req: OrderRequest,
  now: Nanos,
  session: SessionInfo,
): Outcome<Order> {
  const asset = state.assets.get(req.symbol);
  if (!asset) return { ok: false, error: invalid(`asset "${req.symbol}" not found`) };
  if (!asset.tradable)
    return { ok: false, error: invalid(`asset "${req.symbol}" is not tradable`) };
  if (req.clientOrderId !== null && state.byClientId.has(req.clientOrderId)) {
    return {
      ok: false,
      error: {
        status: 422,
        body: { code: INVALID_INPUT_CODE, message: "client_order_id must be unique" },
      },
    };
  }
  const fractional = req.notional !== null || (req.qty !== null && req.qty % ONE !== ZERO);
  if (fractional && !asset.fractionable) {
    return { ok: false, error: invalid(`asset "${req.symbol}" is not fractionable`) };
  }
  const quote = state.quotes.get(req.symbol);
  if (!quote) return { ok: false, error: invalid(`no quote for "${req.symbol}" yet`) };
  const plan = planOrder(state, req, asset, quote);
  if ("status" in plan) return { ok: false, error: plan };
  const order: Order = {
    id: state.prng.uuid(),
    clientOrderId: req.clientOrderId ?? state.prng.uuid(),
    symbol: req.symbol,
    assetId: asset.id,
    side: req.side,
    type: req.type,
    timeInForce: req.timeInForce,
    qty: req.qty,
    notional: req.notional,
    limitPrice: req.limitPrice,
    stopPrice: req.stopPrice,
    trailPrice: req.trailPrice,
    trailPercent: req.trailPercent,
    hwm: null,
    filledQty: ZERO,
    filledNotional: ZERO,
    status: session.open ? "pending_new" : "accepted",
    extendedHours: req.extendedHours,
    positionIntent: plan.intent,
    createdAt: now,
    updatedAt: now,
    submittedAt: now,
    filledAt: null,
    expiredAt: null,
    expiresAt: expiresAt(req, session.close),
    canceledAt: null,
    failedAt: null,
    replacedAt: null,
    replacedBy: null,
    replaces: null,
    triggered: false,
    reservePrice: plan.reservePrice,
  };
  if (order.type === "trailing_stop") updateTrail(order, quote);
  register(state, order);
  const response = snapshot(order);
  const updates = session.open ? activate(state, order, now) : [];
  return { ok: true, value: response, updates };
}

function register(state: BrokerState, order: Order): void {
  state.orders.set(order.id, order);
  state.orderLog.push(order);
  state.byClientId.set(order.clientOrderId, order);
  addOpen(state, order);
}

/** activate routes an accepted order (status new) and tries it against the current quote. */
function activate(state: BrokerState, order: Order, now: Nanos): TradeUpdate[] {
  order.status = "new";
  order.updatedAt = now;
  const updates: TradeUpdate[] = [{ event: "new", order: snapshot(order), t: now }];
  const quote = state.quotes.get(order.symbol);
  if (quote) evaluate(state, order, quote, now, updates, true);
  return updates;
}

/** evaluate tries to execute one live order against a quote, appending the resulting updates. */
function evaluate(
  state: BrokerState,
  o: Order,
  q: Quote,
  now: Nanos,
  updates: TradeUpdate[],
  arriving: boolean,
): void {
  updateTrail(o, q);
  elect(o, q);
  const price = executablePrice(o, q);
  if (price !== undefined) {
    const qty = fillQty(o, price, state.prng, state.options.partialFillProbability);
    if (qty > ZERO) execute(state, o, qty, price, now, updates);
  }
  const immediate = o.timeInForce === "ioc" || o.timeInForce === "fok";
  if (arriving && immediate && isOpen(o)) finish(state, o, "canceled", now, updates);
}

function execute(
  state: BrokerState,
  o: Order,
  qty: Fixed,
  price: Fixed,
  now: Nanos,
  updates: TradeUpdate[],
): void {
  const positionQty = applyFill(state.ledger, o.symbol, o.assetId, o.side, qty, price);
  o.filledQty += qty;
  o.filledNotional += mul(qty, price);
  o.updatedAt = now;
  const done = o.qty === null || o.filledQty >= o.qty;
  if (done) {
    o.status = "filled";
    o.filledAt = now;
    removeOpen(state, o);
  } else {
    o.status = "partially_filled";
  }
  const executionId = state.prng.uuid();
  state.executions.push({
    executionId,
    orderId: o.id,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    qty,
    price,
    t: now,
    positionQty,
  });
  updates.push({
    event: done ? "fill" : "partial_fill",
    order: snapshot(o),
    t: now,
    price,
    qty,
    positionQty,
    executionId,
  });
}

function finish(
  state: BrokerState,
  o: Order,
  status: "canceled" | "expired" | "replaced",
  now: Nanos,
  updates: TradeUpdate[],
): void {
  o.status = status;
  o.updatedAt = now;
  if (status === "canceled") o.canceledAt = now;
  if (status === "expired") o.expiredAt = now;
  if (status === "replaced") o.replacedAt = now;
  removeOpen(state, o);
  if (status !== "replaced") updates.push({ event: status, order: snapshot(o), t: now });
}

/** onQuote records a new NBBO and re-evaluates the symbol's live orders in submission order. */
export function onQuote(
  state: BrokerState,
  quote: Quote,
  now: Nanos,
  open: boolean,
): TradeUpdate[] {
  state.quotes.set(quote.symbol, quote);
  const set = state.openBySymbol.get(quote.symbol);
  if (!open || !set || set.size === 0) return [];
  const updates: TradeUpdate[] = [];
  for (const o of [...set]) {
    if (o.status === "accepted") {
      updates.push(...activate(state, o, now));
      continue;
    }
    if (o.status === "new" || o.status === "partially_filled")
      evaluate(state, o, quote, now, updates, false);
  }
  return updates;
}

/** openSession routes every order accepted while the market was closed. */
export function openSession(state: BrokerState, now: Nanos): TradeUpdate[] {
  const updates: TradeUpdate[] = [];
  for (const o of [...state.orderLog])
    if (o.status === "accepted") updates.push(...activate(state, o, now));
  return updates;
}

/** expireDayOrders ends every live day order at the close. */
export function expireDayOrders(state: BrokerState, now: Nanos): TradeUpdate[] {
  const updates: TradeUpdate[] = [];
  for (const set of state.openBySymbol.values()) {
    for (const o of [...set])
      if (o.timeInForce === "day") finish(state, o, "expired", now, updates);
  }
  const { equity } = accountFigures(state);
  state.lastEquity = equity;
  return updates;
}

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
