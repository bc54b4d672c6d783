/**
 * broker: the simulated paper account as a deterministic state machine. Commands (submit,
 * cancel, replace, close, a new quote, the session opening or closing) take the current
 * simulated time and return the trade updates they caused; the HTTP and WebSocket shell only
 * serialises them. One PRNG (seeded from the simulator seed) draws ids and partial fills, so the
 * same order flow against the same quotes gives the same fills.
 */
import { type FeeSchedule, fillFees } from "../../core/fees.ts";
import { type Fixed, mul, ONE, ZERO } from "../../core/money.ts";
import { accountFigures, planOrder } from "./account.ts";
import { applyFill, createLedger, type Ledger } from "./ledger.ts";
import { elect, executablePrice, type FillModel, fillQty, updateTrail } from "./matching.ts";
import {
  type ApiError,
  INVALID_INPUT_CODE,
  invalid,
  isOpen,
  type Order,
  type OrderRequest,
} from "./orders.ts";
import { createPrng, type Prng } from "./prng.ts";
import { type Nanos, NS_PER_DAY } from "./time.ts";
import type { Quote, Trade } from "./types.ts";

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
  /**
   * fillModel replaces Alpaca paper's fill rules (fill at the quote, at random partly) with
   * another model, e.g. the backtester's depth-limited and trade-through models (fill-models.ts).
   * Absent: paper's rules.
   */
  fillModel?: FillModel;
  /** fees: the regulatory fees charged on each execution (none when absent). */
  fees?: FeeSchedule;
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

export const snapshot = (o: Order): Order => ({ ...o });

export function findAsset(state: BrokerState, symbolOrId: string): Asset | undefined {
  const bySymbol = state.assets.get(symbolOrId.toUpperCase());
  if (bySymbol) return bySymbol;
  for (const a of state.assets.values()) if (a.id === symbolOrId) return a;
  return undefined;
}

export function expiresAt(req: { timeInForce: string }, sessionClose: Nanos): Nanos {
  return req.timeInForce === "gtc" ? sessionClose + GTC_LIFETIME : sessionClose;
}

export function addOpen(state: BrokerState, o: Order): void {
  let set = state.openBySymbol.get(o.symbol);
  if (!set) {
    set = new Set();
    state.openBySymbol.set(o.symbol, set);
  }
  set.add(o);
}

export function removeOpen(state: BrokerState, o: Order): void {
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
  const wash = washTradeConflict(state, req);
  if (wash !== undefined) return { ok: false, error: wash };
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

/** WASH_TRADE_CODE: Alpaca's code on its "potential wash trade detected" refusal. */
export const WASH_TRADE_CODE = 42210000;

/** limitOf: the most an order may pay (buy) or the least it may take (sell); null: any price. */
function limitOf(o: { type: string; limitPrice: Fixed | null }): Fixed | null {
  return o.type === "limit" || o.type === "stop_limit" ? o.limitPrice : null;
}

/**
 * washTradeConflict: Alpaca refuses an order that could execute against one of the account's
 * own working orders on the other side of the same symbol (422 "potential wash trade
 * detected. use complex orders"). The two could meet when either has no limit (market, stop,
 * trailing stop) or the buy's limit is at or above the sell's.
 */
export function washTradeConflict(state: BrokerState, req: OrderRequest): ApiError | undefined {
  const mine = limitOf(req);
  for (const o of state.openBySymbol.get(req.symbol) ?? []) {
    if (o.side === req.side) continue;
    const theirs = limitOf(o);
    const buy = req.side === "buy" ? mine : theirs;
    const sell = req.side === "sell" ? mine : theirs;
    if (buy === null || sell === null || buy >= sell) {
      return {
        status: 422,
        body: {
          code: WASH_TRADE_CODE,
          message: "potential wash trade detected. use complex orders",
          related_orders: [o.id],
        },
      };
    }
  }
  return undefined;
}

export function register(state: BrokerState, order: Order): void {
  state.orders.set(order.id, order);
  state.orderLog.push(order);
  state.byClientId.set(order.clientOrderId, order);
  addOpen(state, order);
}

/** activate routes an accepted order (status new) and tries it against the current quote. */
export function activate(state: BrokerState, order: Order, now: Nanos): TradeUpdate[] {
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
  const model = state.options.fillModel;
  if (model !== undefined) {
    const fill = model.onQuote(o, q, arriving);
    if (fill !== undefined && fill.qty > ZERO)
      execute(state, o, fill.qty, fill.price, now, updates);
  } else {
    const price = executablePrice(o, q);
    if (price !== undefined) {
      const qty = fillQty(o, price, state.prng, state.options.partialFillProbability);
      if (qty > ZERO) execute(state, o, qty, price, now, updates);
    }
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
  if (state.options.fees !== undefined) {
    // Alpaca deducts accrued fees from the balance as they arise (and bills them at day end).
    const fees = fillFees(
      state.options.fees,
      o.side,
      o.filledQty,
      o.filledQty + qty,
      mul(qty, price),
    );
    state.ledger.cash -= fees.total;
  }
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

export function finish(
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

/**
 * onTrade shows a print on the tape to the fill model, which may fill resting orders against it
 * (a limit the market traded through, a queue position the print consumed). Paper's rules fill
 * on quotes only, so without a fill model a trade changes nothing.
 */
export function onTrade(
  state: BrokerState,
  trade: Trade,
  now: Nanos,
  open: boolean,
): TradeUpdate[] {
  const model = state.options.fillModel;
  const set = state.openBySymbol.get(trade.symbol);
  if (model === undefined || !open || !set || set.size === 0) return [];
  const updates: TradeUpdate[] = [];
  for (const o of [...set]) {
    if (o.status !== "new" && o.status !== "partially_filled") continue;
    const fill = model.onTrade(o, trade);
    if (fill !== undefined && fill.qty > ZERO)
      execute(state, o, fill.qty, fill.price, now, updates);
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
