/**
 * trading: the Trading API v2 routes (account, clock, orders, positions, assets). Each handler
 * syncs the simulated clock first, so the broker state it reads or changes is as of "now".
 */
import { type Fixed, fromDecimal } from "../../core/money.ts";
import * as broker from "../core/broker.ts";
import * as actions from "../core/order-actions.ts";
import { isOpen, type Order, parseOrderRequest, parseReplaceRequest } from "../core/orders.ts";
import { formatRfc3339, parseTime } from "../core/time.ts";
import type { SimContext } from "../shell/context.ts";
import { getActivities, getActivitiesOfType } from "./activities.ts";
import { type ApiRequest, type ApiResponse, ERR, json } from "./respond.ts";
import { accountJson, assetJson, clockJson, type Marks, orderJson, positionJson } from "./views.ts";

type Handler = (ctx: SimContext, req: ApiRequest) => ApiResponse;

function marks(ctx: SimContext): Marks {
  return {
    current: (s) => {
      const q = ctx.engine.state.quotes.get(s);
      return q ? (q.bidPrice + q.askPrice) / 2n : undefined;
    },
    lastday: (s) => ctx.lastday.get(s),
  };
}

function outcome(ctx: SimContext, r: broker.Outcome<Order>, status = 200): ApiResponse {
  if (!r.ok) return json(r.error.status, r.error.body);
  ctx.engine.emitTrade(r.updates);
  return status === 204 ? { status: 204 } : json(status, orderJson(r.value));
}

const getAccount: Handler = (ctx) => {
  const now = ctx.engine.now();
  return json(200, accountJson(ctx.engine.state, now, ctx.shortingEnabled));
};

const getClock: Handler = (ctx) => {
  const now = ctx.engine.now();
  return json(200, clockJson(now, ctx.engine.isOpen(now)));
};

const postOrder: Handler = (ctx, req) => {
  const parsed = parseOrderRequest(req.body);
  if (!parsed.ok) return json(parsed.error.status, parsed.error.body);
  const now = ctx.engine.now();
  const state = ctx.engine.state;
  if (ctx.faults.config.rejectNext > 0) {
    // An exchange reject: POST succeeds, then the stream reports `rejected` instead of `new`.
    const r = broker.submitOrder(state, parsed.value, now, {
      ...ctx.engine.session(now),
      open: false,
    });
    if (!r.ok) return json(r.error.status, r.error.body);
    if (ctx.faults.takeReject()) ctx.engine.emitTrade(actions.rejectOrder(state, r.value.id, now));
    return json(200, orderJson(r.value));
  }
  return outcome(ctx, broker.submitOrder(state, parsed.value, now, ctx.engine.session(now)));
};

const ORDER_STATUS_FILTERS = new Set(["open", "closed", "all"]);

const listOrders: Handler = (ctx, req) => {
  ctx.engine.sync();
  const q = req.query;
  const status = q.get("status") ?? "open";
  if (!ORDER_STATUS_FILTERS.has(status)) return ERR.invalidParam(`invalid status: ${status}`);
  const limitText = q.get("limit");
  const limit = limitText === null ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    return ERR.invalidParam("limit must be an integer between 1 and 500");
  const direction = q.get("direction") ?? "desc";
  if (direction !== "asc" && direction !== "desc")
    return ERR.invalidParam(`invalid direction: ${direction}`);
  const side = q.get("side");
  if (side !== null && side !== "buy" && side !== "sell")
    return ERR.invalidParam(`invalid side: ${side}`);
  const after = q.get("after");
  const until = q.get("until");
  const afterNs = after === null ? undefined : parseTime(after);
  const untilNs = until === null ? undefined : parseTime(until);
  if (after !== null && afterNs === undefined) return ERR.invalidParam(`invalid after: ${after}`);
  if (until !== null && untilNs === undefined) return ERR.invalidParam(`invalid until: ${until}`);
  const symbols = q
    .get("symbols")
    ?.split(",")
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  let list = ctx.engine.state.orderLog.filter((o) => {
    if (status === "open" && !isOpen(o)) return false;
    if (status === "closed" && isOpen(o)) return false;
    if (side !== null && o.side !== side) return false;
    if (symbols && symbols.length > 0 && !symbols.includes(o.symbol)) return false;
    if (afterNs !== undefined && o.submittedAt <= afterNs) return false;
    if (untilNs !== undefined && o.submittedAt > untilNs) return false;
    return true;
  });
  if (direction === "desc") list = list.slice().reverse();
  return json(200, list.slice(0, limit).map(orderJson));
};

const cancelAllOrders: Handler = (ctx) => {
  const now = ctx.engine.now();
  const r = actions.cancelAll(ctx.engine.state, now);
  ctx.engine.emitTrade(r.updates);
  return json(207, r.results);
};

const getOrder: Handler = (ctx, req) => {
  ctx.engine.sync();
  const o = ctx.engine.state.orders.get(req.params["id"]!);
  return o ? json(200, orderJson(o)) : json(404, { code: 40410000, message: "order not found" });
};

const getOrderByClientId: Handler = (ctx, req) => {
  ctx.engine.sync();
  const id = req.query.get("client_order_id");
  if (!id) return ERR.invalidParam("client_order_id is required");
  const o = ctx.engine.state.byClientId.get(id);
  return o ? json(200, orderJson(o)) : json(404, { code: 40410000, message: "order not found" });
};

const patchOrder: Handler = (ctx, req) => {
  const parsed = parseReplaceRequest(req.body);
  if (!parsed.ok) return json(parsed.error.status, parsed.error.body);
  const now = ctx.engine.now();
  return outcome(
    ctx,
    actions.replaceOrder(
      ctx.engine.state,
      req.params["id"]!,
      parsed.value,
      now,
      ctx.engine.session(now),
    ),
  );
};

const deleteOrder: Handler = (ctx, req) => {
  const now = ctx.engine.now();
  return outcome(ctx, actions.cancelOrder(ctx.engine.state, req.params["id"]!, now), 204);
};

const listPositions: Handler = (ctx) => {
  ctx.engine.sync();
  const state = ctx.engine.state;
  const m = marks(ctx);
  const positions = [...state.ledger.positions.values()].sort((a, b) =>
    a.symbol < b.symbol ? -1 : 1,
  );
  return json(
    200,
    positions.map((p) => positionJson(state, p, m)),
  );
};

const noPosition = (): ApiResponse =>
  json(404, { code: 40410000, message: "position does not exist" });

const getPosition: Handler = (ctx, req) => {
  ctx.engine.sync();
  const state = ctx.engine.state;
  const asset = broker.findAsset(state, req.params["symbol"]!);
  const p = asset ? state.ledger.positions.get(asset.symbol) : undefined;
  return p ? json(200, positionJson(state, p, marks(ctx))) : noPosition();
};

function decimalParam(req: ApiRequest, name: string): Fixed | null | ApiResponse {
  const v = req.query.get(name);
  if (v === null || v === "") return null;
  try {
    return fromDecimal(v);
  } catch {
    return ERR.invalidParam(`invalid ${name}: ${JSON.stringify(v)} is not a decimal number`);
  }
}

const closePosition: Handler = (ctx, req) => {
  const qty = decimalParam(req, "qty");
  if (qty !== null && typeof qty === "object") return qty;
  const percentage = decimalParam(req, "percentage");
  if (percentage !== null && typeof percentage === "object") return percentage;
  const now = ctx.engine.now();
  return outcome(
    ctx,
    actions.closePosition(
      ctx.engine.state,
      req.params["symbol"]!,
      { qty, percentage },
      now,
      ctx.engine.session(now),
    ),
  );
};

const closeAllPositions: Handler = (ctx, req) => {
  const cancel = req.query.get("cancel_orders");
  if (cancel !== null && cancel !== "true" && cancel !== "false")
    return ERR.invalidParam("cancel_orders must be true or false");
  const now = ctx.engine.now();
  const r = actions.closeAllPositions(
    ctx.engine.state,
    cancel === "true",
    now,
    ctx.engine.session(now),
  );
  ctx.engine.emitTrade(r.updates);
  return json(
    207,
    r.results.map((x) => ({
      symbol: x.symbol,
      status: x.status,
      body: x.order ? orderJson(x.order) : x.error,
    })),
  );
};

const getAsset: Handler = (ctx, req) => {
  const a = broker.findAsset(ctx.engine.state, req.params["symbol"]!);
  return a ? json(200, assetJson(a)) : json(404, { code: 40410000, message: "asset not found" });
};

const listAssets: Handler = (ctx) =>
  json(200, [...ctx.engine.state.assets.values()].map(assetJson));

/** logged records each order request (refused ones too) so tests can prove nothing was sent twice. */
function logged(kind: "submit" | "replace", handler: Handler): Handler {
  return (ctx, req) => {
    const out = handler(ctx, req);
    const body = req.body as { client_order_id?: unknown } | undefined;
    const clientId = typeof body?.client_order_id === "string" ? body.client_order_id : null;
    const orderId = out.status === 200 ? ((out.body as { id?: string }).id ?? null) : null;
    ctx.orderRequests.push({
      kind,
      client_order_id: clientId,
      status: out.status,
      order_id: orderId,
      at: formatRfc3339(ctx.engine.clockInfo().now),
    });
    return out;
  };
}

export interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

function route(method: string, path: string, handler: Handler): Route {
  const keys: string[] = [];
  const source = path
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\\\{(\w+)\\\}/g, (_, k: string) => {
      keys.push(k);
      return "([^/]+)";
    });
  return { method, pattern: new RegExp(`^${source}$`), keys, handler };
}

export const TRADING_ROUTES: Route[] = [
  route("GET", "/v2/account", getAccount),
  route("GET", "/v2/account/activities", getActivities),
  route("GET", "/v2/account/activities/{activity_type}", getActivitiesOfType),
  route("GET", "/v2/clock", getClock),
  route("POST", "/v2/orders", logged("submit", postOrder)),
  route("GET", "/v2/orders", listOrders),
  route("DELETE", "/v2/orders", cancelAllOrders),
  route("GET", "/v2/orders:by_client_order_id", getOrderByClientId),
  route("GET", "/v2/orders/{id}", getOrder),
  route("PATCH", "/v2/orders/{id}", logged("replace", patchOrder)),
  route("DELETE", "/v2/orders/{id}", deleteOrder),
  route("GET", "/v2/positions", listPositions),
  route("DELETE", "/v2/positions", closeAllPositions),
  route("GET", "/v2/positions/{symbol}", getPosition),
  route("DELETE", "/v2/positions/{symbol}", closePosition),
  route("GET", "/v2/assets", listAssets),
  route("GET", "/v2/assets/{symbol}", getAsset),
];

export { route };
