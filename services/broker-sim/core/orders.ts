/**
 * orders: the simulator's order record and the validation of order requests (POST /v2/orders,
 * PATCH /v2/orders/{id}). Validation is pure and returns Alpaca's error shape, so the HTTP shell
 * only has to write the answer.
 */
import { type Fixed, fromDecimal, ZERO } from "../../core/money.ts";
import type { Nanos } from "./time.ts";

export type Side = "buy" | "sell";
export type OrderType = "market" | "limit" | "stop" | "stop_limit" | "trailing_stop";
export type TimeInForce = "day" | "gtc" | "opg" | "cls" | "ioc" | "fok";
export type OrderStatus =
  | "new"
  | "partially_filled"
  | "filled"
  | "done_for_day"
  | "canceled"
  | "expired"
  | "replaced"
  | "pending_cancel"
  | "pending_replace"
  | "accepted"
  | "pending_new"
  | "rejected";
export type PositionIntent = "buy_to_open" | "buy_to_close" | "sell_to_open" | "sell_to_close";

export interface Order {
  id: string;
  clientOrderId: string;
  symbol: string;
  assetId: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  qty: Fixed | null;
  notional: Fixed | null;
  limitPrice: Fixed | null;
  stopPrice: Fixed | null;
  trailPrice: Fixed | null;
  trailPercent: Fixed | null;
  hwm: Fixed | null;
  filledQty: Fixed;
  filledNotional: Fixed;
  status: OrderStatus;
  extendedHours: boolean;
  positionIntent: PositionIntent;
  createdAt: Nanos;
  updatedAt: Nanos;
  submittedAt: Nanos;
  filledAt: Nanos | null;
  expiredAt: Nanos | null;
  expiresAt: Nanos;
  canceledAt: Nanos | null;
  failedAt: Nanos | null;
  replacedAt: Nanos | null;
  replacedBy: string | null;
  replaces: string | null;
  /** triggered is set once a stop (or trailing stop) has been elected. */
  triggered: boolean;
  /** reservePrice values the order's unfilled quantity against buying power. */
  reservePrice: Fixed;
}

export interface OrderRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  qty: Fixed | null;
  notional: Fixed | null;
  limitPrice: Fixed | null;
  stopPrice: Fixed | null;
  trailPrice: Fixed | null;
  trailPercent: Fixed | null;
  extendedHours: boolean;
  clientOrderId: string | null;
}

export interface ReplaceRequest {
  qty: Fixed | null;
  timeInForce: TimeInForce | null;
  limitPrice: Fixed | null;
  stopPrice: Fixed | null;
  trail: Fixed | null;
  clientOrderId: string | null;
}

/** ApiError is Alpaca's error body plus the HTTP status that carries it. */
export interface ApiError {
  status: number;
  body: { code: number; message: string; [extra: string]: unknown };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export const INVALID_INPUT_CODE = 40010001;

export function invalid(message: string, status = 422): ApiError {
  return { status, body: { code: INVALID_INPUT_CODE, message } };
}

const SIDES = new Set(["buy", "sell"]);
const TYPES = new Set(["market", "limit", "stop", "stop_limit", "trailing_stop"]);
const TIFS = new Set(["day", "gtc", "opg", "cls", "ioc", "fok"]);
const ORDER_FIELDS = new Set([
  "symbol",
  "qty",
  "notional",
  "side",
  "type",
  "time_in_force",
  "limit_price",
  "stop_price",
  "trail_price",
  "trail_percent",
  "extended_hours",
  "client_order_id",
  "order_class",
  "take_profit",
  "stop_loss",
  "position_intent",
  "legs",
  "advanced_instructions",
]);
const REPLACE_FIELDS = new Set([
  "qty",
  "time_in_force",
  "limit_price",
  "stop_price",
  "trail",
  "client_order_id",
  "notional",
  "advanced_instructions",
]);

class Invalid extends Error {}

/** decimalField reads a decimal given as a string or a number; null when absent. */
function decimalField(body: Record<string, unknown>, name: string): Fixed | null {
  const v = body[name];
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string" && typeof v !== "number") {
    throw new Invalid(`invalid ${name}: expected a decimal string, got ${typeOf(v)}`);
  }
  try {
    return fromDecimal(v);
  } catch {
    throw new Invalid(`invalid ${name}: ${JSON.stringify(v)} is not a decimal number`);
  }
}

function stringField(body: Record<string, unknown>, name: string): string | null {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string")
    throw new Invalid(`invalid ${name}: expected a string, got ${typeOf(v)}`);
  return v;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new Invalid("request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function checkFields(body: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) throw new Invalid(`unknown field "${key}"`);
  }
}

function checkClientOrderId(id: string | null): void {
  if (id !== null && id.length > 128)
    throw new Invalid("client_order_id must be no more than 128 characters");
}

/** parseOrderRequest validates a POST /v2/orders body the way Alpaca does (422 on bad input). */
export function parseOrderRequest(raw: unknown): Parsed<OrderRequest> {
  try {
    const body = asObject(raw);
    checkFields(body, ORDER_FIELDS);
    const symbol = stringField(body, "symbol");
    if (!symbol) throw new Invalid("symbol is required");
    const side = stringField(body, "side");
    if (!side || !SIDES.has(side))
      throw new Invalid(side ? `invalid side: ${side}` : "side is required");
    const type = stringField(body, "type");
    if (!type || !TYPES.has(type))
      throw new Invalid(type ? `invalid order type: ${type}` : "type is required");
    const tif = stringField(body, "time_in_force");
    if (!tif || !TIFS.has(tif)) {
      throw new Invalid(tif ? `invalid time_in_force: ${tif}` : "time_in_force is required");
    }
    const orderClass = stringField(body, "order_class");
    if (orderClass && orderClass !== "simple") {
      throw new Invalid(`order_class ${orderClass} is not supported by the simulator`);
    }
    if (body["extended_hours"] !== undefined && typeof body["extended_hours"] !== "boolean") {
      throw new Invalid(
        `invalid extended_hours: expected a boolean, got ${typeOf(body["extended_hours"])}`,
      );
    }
    const req: OrderRequest = {
      symbol: symbol.toUpperCase(),
      side: side as Side,
      type: type as OrderType,
      timeInForce: tif as TimeInForce,
      qty: decimalField(body, "qty"),
      notional: decimalField(body, "notional"),
      limitPrice: decimalField(body, "limit_price"),
      stopPrice: decimalField(body, "stop_price"),
      trailPrice: decimalField(body, "trail_price"),
      trailPercent: decimalField(body, "trail_percent"),
      extendedHours: body["extended_hours"] === true,
      clientOrderId: stringField(body, "client_order_id"),
    };
    checkClientOrderId(req.clientOrderId);
    checkOrderShape(req);
    return { ok: true, value: req };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: invalid(e.message) };
    throw e;
  }
}

function checkOrderShape(r: OrderRequest): void {
  if (r.qty !== null && r.notional !== null)
    throw new Invalid("qty and notional cannot both be specified");
  if (r.qty === null && r.notional === null) throw new Invalid("qty or notional is required");
  if (r.qty !== null && r.qty <= ZERO) throw new Invalid("qty must be > 0");
  if (r.notional !== null && r.notional <= ZERO) throw new Invalid("notional must be > 0");
  const needsLimit = r.type === "limit" || r.type === "stop_limit";
  const needsStop = r.type === "stop" || r.type === "stop_limit";
  if (needsLimit && r.limitPrice === null) throw new Invalid("limit_price is required");
  if (!needsLimit && r.limitPrice !== null)
    throw new Invalid(`limit_price is not allowed for ${r.type} orders`);
  if (needsStop && r.stopPrice === null) throw new Invalid("stop_price is required");
  if (!needsStop && r.stopPrice !== null)
    throw new Invalid(`stop_price is not allowed for ${r.type} orders`);
  for (const [name, v] of [
    ["limit_price", r.limitPrice],
    ["stop_price", r.stopPrice],
  ] as const) {
    if (v !== null && v <= ZERO) throw new Invalid(`${name} must be > 0`);
  }
  if (r.type === "trailing_stop") {
    if ((r.trailPrice === null) === (r.trailPercent === null)) {
      throw new Invalid("exactly one of trail_price or trail_percent is required");
    }
    if ((r.trailPrice ?? r.trailPercent ?? ZERO) <= ZERO) throw new Invalid("trail must be > 0");
  } else if (r.trailPrice !== null || r.trailPercent !== null) {
    throw new Invalid(`trail_price/trail_percent are not allowed for ${r.type} orders`);
  }
  if (r.timeInForce === "opg" || r.timeInForce === "cls") {
    throw new Invalid(`time_in_force ${r.timeInForce} is not supported by the simulator`);
  }
  const fractional = r.qty !== null && r.qty % 1_000_000_000n !== 0n;
  if ((fractional || r.notional !== null) && r.timeInForce !== "day") {
    throw new Invalid("fractional orders must be DAY orders");
  }
  if (r.notional !== null && r.type !== "market")
    throw new Invalid("notional orders must be market orders");
  if (
    r.extendedHours &&
    (r.type !== "limit" || (r.timeInForce !== "day" && r.timeInForce !== "gtc"))
  ) {
    throw new Invalid("extended hours order must be DAY or GTC limit orders");
  }
}

/** parseReplaceRequest validates a PATCH /v2/orders/{id} body. */
export function parseReplaceRequest(raw: unknown): Parsed<ReplaceRequest> {
  try {
    const body = asObject(raw);
    checkFields(body, REPLACE_FIELDS);
    if (body["notional"] !== undefined) throw new Invalid("notional orders cannot be replaced");
    const tif = stringField(body, "time_in_force");
    if (tif !== null && !TIFS.has(tif)) throw new Invalid(`invalid time_in_force: ${tif}`);
    const req: ReplaceRequest = {
      qty: decimalField(body, "qty"),
      timeInForce: tif as TimeInForce | null,
      limitPrice: decimalField(body, "limit_price"),
      stopPrice: decimalField(body, "stop_price"),
      trail: decimalField(body, "trail"),
      clientOrderId: stringField(body, "client_order_id"),
    };
    checkClientOrderId(req.clientOrderId);
    if (req.qty !== null && req.qty <= ZERO) throw new Invalid("qty must be > 0");
    for (const [name, v] of [
      ["limit_price", req.limitPrice],
      ["stop_price", req.stopPrice],
      ["trail", req.trail],
    ] as const) {
      if (v !== null && v <= ZERO) throw new Invalid(`${name} must be > 0`);
    }
    return { ok: true, value: req };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: invalid(e.message) };
    throw e;
  }
}

export const OPEN_STATUSES: ReadonlySet<OrderStatus> = new Set([
  "new",
  "partially_filled",
  "accepted",
  "pending_new",
  "pending_cancel",
  "pending_replace",
  "done_for_day",
]);

export function isOpen(o: Order): boolean {
  return OPEN_STATUSES.has(o.status);
}

/** remainingQty is what is left to fill; notional orders have no qty until they fill. */
export function remainingQty(o: Order): Fixed | null {
  return o.qty === null ? null : o.qty - o.filledQty;
}
