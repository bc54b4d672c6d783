/**
 * account: buying power, reservations and the position checks an order must pass, the way
 * Alpaca paper does them (403 40310000 with the amounts when it fails).
 */
import { abs, type Fixed, fromDecimal, mul, ONE, toDecimal, ZERO } from "../../core/money.ts";
import type { Asset, BrokerState } from "./broker.ts";
import { avgEntryPrice, marketValues } from "./ledger.ts";
import { protectiveLimit } from "./matching.ts";
import {
  type ApiError,
  invalid,
  isOpen,
  type Order,
  type OrderRequest,
  type PositionIntent,
} from "./orders.ts";
import type { Quote } from "./types.ts";

const MARKET_BUY_CUSHION = fromDecimal("1.03");
const dec = (v: Fixed): string => toDecimal(v);

export function markPrice(state: BrokerState, symbol: string): Fixed | undefined {
  const q = state.quotes.get(symbol);
  return q ? (q.bidPrice + q.askPrice) / 2n : undefined;
}

/** isOpening tells whether an order adds exposure (and so reserves buying power). */
export function isOpening(intent: PositionIntent): boolean {
  return intent === "buy_to_open" || intent === "sell_to_open";
}

export function reservedFor(o: Order): Fixed {
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

/**
 * buyingPower is accountFigures(state).buyingPower without the long side, which it does not
 * depend on: planOrder asks for it on every order. Marks are never negative (quote mids, or the
 * average entry price), so a position's value is below zero only when it is short: the short
 * side is the short positions' values below zero.
 */
export function buyingPower(state: BrokerState): Fixed {
  let short = ZERO;
  for (const p of state.ledger.positions.values()) {
    if (p.qty >= ZERO) continue;
    const mv = mul(p.qty, markPrice(state, p.symbol) ?? avgEntryPrice(p));
    if (mv < ZERO) short += mv;
  }
  let reserved = ZERO;
  for (const set of state.openBySymbol.values()) for (const o of set) reserved += reservedFor(o);
  const bp = state.ledger.cash - 2n * abs(short) - reserved;
  return bp > ZERO ? bp : ZERO;
}

/** heldForOrders is the quantity of `symbol` already committed to open orders of `side`. */
export function heldForOrders(state: BrokerState, symbol: string, side: "buy" | "sell"): Fixed {
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

export interface Plan {
  intent: PositionIntent;
  reservePrice: Fixed;
}

/** planOrder checks position and buying power the way Alpaca does and values the reservation. */
export function planOrder(
  state: BrokerState,
  req: OrderRequest,
  asset: Asset,
  quote: Quote,
  excluding?: Order,
): Plan | ApiError {
  const pos = state.ledger.positions.get(req.symbol);
  const posQty = pos?.qty ?? ZERO;
  const qty = req.qty;
  if (req.side === "sell" && qty === null) {
    return invalid(
      posQty > ZERO
        ? "notional sell orders are not supported by the simulator; sell a qty"
        : "fractional orders cannot be sold short",
    );
  }
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
  const bp = buyingPower(state) + released;
  if (cost > bp) {
    return forbidden("insufficient buying power", { buying_power: dec(bp), cost_basis: dec(cost) });
  }
  return { intent: req.side === "buy" ? "buy_to_open" : "sell_to_open", reservePrice };
}
