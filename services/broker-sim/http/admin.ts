/**
 * admin: the simulator's control endpoints (not part of Alpaca's API, so they live under
 * /admin): inspect all state, set faults, drive the simulated clock, force quotes, reset with a
 * seed, close the session, disconnect or stall streams. They need the same API key headers.
 */
import { fromDecimal, toDecimal } from "../../core/money.ts";
import { formatRfc3339, parseTime } from "../core/time.ts";
import type { OrderRequestRecord, SimContext } from "../shell/context.ts";
import { type FaultConfig, parseFaults } from "../shell/faults.ts";
import { type ApiRequest, type ApiResponse, ERR, json } from "./respond.ts";
import { type Route, route } from "./trading.ts";
import { accountJson, orderJson, positionJson } from "./views.ts";

type Handler = (ctx: SimContext, req: ApiRequest) => ApiResponse;

/** adminState renders everything tests of the pipeline want to assert on. */
export interface FillRecord {
  execution_id: string;
  order_id: string;
  client_order_id: string;
  symbol: string;
  side: "buy" | "sell";
  qty: string;
  price: string;
  position_qty: string;
  timestamp: string;
}

/** AdminState is GET /admin/state and `sim.admin.state()`; orders and positions are Alpaca JSON. */
export interface AdminState {
  clock: { mode: "realtime" | "manual"; speed: number; now: string; is_open: boolean };
  seed: number;
  account: Record<string, unknown>;
  realized_pl: string;
  orders: Record<string, unknown>[];
  /** client_order_ids of every order the broker holds (each appears once). */
  client_order_ids: string[];
  /** order_requests: every POST/PATCH received, refused ones (e.g. duplicates) included. */
  order_requests: OrderRequestRecord[];
  fills: FillRecord[];
  positions: Record<string, unknown>[];
  quotes: Record<string, { bp: string; ap: string; t: string }>;
  faults: FaultConfig;
  streams: { trade: number; data: number; opened: { trade: number; data: number } };
  /** stats: market events and trade updates published since start. */
  stats: { market_events: number; trade_updates: number };
}

export function adminState(ctx: SimContext): AdminState {
  const now = ctx.engine.now();
  const s = ctx.engine.state;
  const marks = {
    current: (sym: string) => {
      const q = s.quotes.get(sym);
      return q ? (q.bidPrice + q.askPrice) / 2n : undefined;
    },
    lastday: (sym: string) => ctx.lastday.get(sym),
  };
  return {
    clock: {
      mode: ctx.engine.clockInfo().mode,
      speed: ctx.engine.clockInfo().speed,
      now: formatRfc3339(now),
      is_open: ctx.engine.isOpen(now),
    },
    seed: ctx.engine.options.seed,
    account: accountJson(s, now, ctx.shortingEnabled),
    realized_pl: toDecimal(s.ledger.realizedPl),
    orders: s.orderLog.map(orderJson),
    client_order_ids: [...s.byClientId.keys()],
    order_requests: [...ctx.orderRequests],
    fills: s.executions.map((e) => ({
      execution_id: e.executionId,
      order_id: e.orderId,
      client_order_id: e.clientOrderId,
      symbol: e.symbol,
      side: e.side,
      qty: toDecimal(e.qty),
      price: toDecimal(e.price),
      position_qty: toDecimal(e.positionQty),
      timestamp: formatRfc3339(e.t),
    })),
    positions: [...s.ledger.positions.values()].map((p) => positionJson(s, p, marks)),
    quotes: Object.fromEntries(
      [...s.quotes.values()].map((q) => [
        q.symbol,
        { bp: toDecimal(q.bidPrice), ap: toDecimal(q.askPrice), t: formatRfc3339(q.t) },
      ]),
    ),
    faults: { ...ctx.faults.config },
    streams: ctx.streams.counts(),
    stats: {
      market_events: ctx.engine.stats.marketEvents,
      trade_updates: ctx.engine.stats.tradeUpdates,
    },
  };
}

/** resetSimulation restarts market, account, limits and logs from a seed (and optional start time). */
export function resetSimulation(ctx: SimContext, seed: number, start?: bigint): void {
  ctx.engine.reset(seed, start);
  ctx.faults.reseed(seed);
  ctx.tradingLimiter.reset();
  ctx.dataLimiter.reset();
  ctx.orderRequests.length = 0;
  recordLastday(ctx);
}

/** recordLastday takes each symbol's current mid as the reference for change_today. */
export function recordLastday(ctx: SimContext): void {
  ctx.lastday.clear();
  for (const q of ctx.engine.state.quotes.values())
    ctx.lastday.set(q.symbol, (q.bidPrice + q.askPrice) / 2n);
}

function obj(body: unknown): Record<string, unknown> | undefined {
  if (body === undefined) return {};
  return typeof body === "object" && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

const getState: Handler = (ctx) => json(200, adminState(ctx));

const getFaults: Handler = (ctx) => json(200, ctx.faults.config);

const postFaults: Handler = (ctx, req) => {
  const parsed = parseFaults(req.body ?? {});
  if (!parsed.ok) return ERR.invalidParam(parsed.error);
  ctx.faults.set(parsed.value);
  return json(200, ctx.faults.config);
};

const deleteFaults: Handler = (ctx) => {
  ctx.faults.clear();
  return json(200, ctx.faults.config);
};

/** postClock: {advance_ms?, mode?: "realtime"|"manual", speed?} */
const postClock: Handler = (ctx, req) => {
  const b = obj(req.body);
  if (!b) return ERR.invalidParam("body must be a JSON object");
  const mode = b["mode"];
  if (mode !== undefined && mode !== "realtime" && mode !== "manual")
    return ERR.invalidParam("mode: expected realtime or manual");
  const speed = b["speed"];
  if (speed !== undefined && (typeof speed !== "number" || !(speed > 0) || speed > 1e6))
    return ERR.invalidParam("speed: expected a number in (0, 1e6]");
  const advance = b["advance_ms"];
  if (
    advance !== undefined &&
    (typeof advance !== "number" || !(advance >= 0) || advance > 366 * 86_400_000)
  ) {
    return ERR.invalidParam(
      "advance_ms: expected a non-negative number of milliseconds (at most a year)",
    );
  }
  ctx.engine.setClock(mode as "realtime" | "manual" | undefined, speed as number | undefined);
  if (typeof advance === "number") ctx.engine.advance(advance);
  const c = ctx.engine.clockInfo();
  return json(200, { mode: c.mode, speed: c.speed, now: formatRfc3339(c.now) });
};

/** postReset: {seed?, start?: RFC-3339} rebuilds market and account. */
const postReset: Handler = (ctx, req) => {
  const b = obj(req.body);
  if (!b) return ERR.invalidParam("body must be a JSON object");
  const seed = b["seed"] ?? ctx.engine.options.seed;
  if (typeof seed !== "number" || !Number.isInteger(seed))
    return ERR.invalidParam("seed: expected an integer");
  let start = ctx.engine.options.startTime;
  if (b["start"] !== undefined) {
    const t = typeof b["start"] === "string" ? parseTime(b["start"]) : undefined;
    if (t === undefined) return ERR.invalidParam("start: expected an RFC-3339 time");
    start = t;
  }
  resetSimulation(ctx, seed, start);
  return json(200, adminState(ctx));
};

/** postQuote: {symbol, bid, ask} forces the NBBO now. */
const postQuote: Handler = (ctx, req) => {
  const b = obj(req.body);
  if (!b) return ERR.invalidParam("body must be a JSON object");
  const symbol = typeof b["symbol"] === "string" ? b["symbol"].toUpperCase() : "";
  let bid: bigint;
  let ask: bigint;
  try {
    bid = fromDecimal(b["bid"] as string);
    ask = fromDecimal(b["ask"] as string);
  } catch {
    return ERR.invalidParam("bid and ask: expected decimal numbers");
  }
  if (bid <= 0n || ask < bid) return ERR.invalidParam("bid must be > 0 and ask >= bid");
  if (!ctx.engine.forceQuote(symbol, bid, ask))
    return json(404, { code: 40410000, message: `unknown symbol "${symbol}"` });
  return json(200, { symbol, bid: toDecimal(bid), ask: toDecimal(ask) });
};

const postCloseSession: Handler = (ctx) => {
  ctx.engine.closeSession();
  return json(200, { ok: true });
};

/** MAX_STALL_MS bounds a stall: one request must not freeze the streams for good. */
export const MAX_STALL_MS = 300_000;

/** postStreams: {action: "disconnect"|"stall", kind: "trade"|"data"|"all", ms?} */
const postStreams: Handler = (ctx, req) => {
  const b = obj(req.body);
  if (!b) return ERR.invalidParam("body must be a JSON object");
  const kind = b["kind"] ?? "all";
  if (kind !== "trade" && kind !== "data" && kind !== "all")
    return ERR.invalidParam("kind: expected trade, data or all");
  if (b["action"] === "disconnect")
    return json(200, { disconnected: ctx.streams.disconnect(kind) });
  if (b["action"] === "stall") {
    const ms = b["ms"] ?? 65_000;
    if (typeof ms !== "number" || !(ms >= 0) || ms > MAX_STALL_MS)
      return ERR.invalidParam(`ms: expected a number of milliseconds from 0 to ${MAX_STALL_MS}`);
    const kinds: ("trade" | "data")[] = kind === "all" ? ["trade", "data"] : [kind];
    for (const k of kinds) ctx.faults.stall(k, ms, performance.now());
    return json(200, { stalled: kinds, ms });
  }
  return ERR.invalidParam("action: expected disconnect or stall");
};

export const ADMIN_ROUTES: Route[] = [
  route("GET", "/admin/state", getState),
  route("GET", "/admin/faults", getFaults),
  route("POST", "/admin/faults", postFaults),
  route("DELETE", "/admin/faults", deleteFaults),
  route("POST", "/admin/clock", postClock),
  route("POST", "/admin/reset", postReset),
  route("POST", "/admin/quote", postQuote),
  route("POST", "/admin/session/close", postCloseSession),
  route("POST", "/admin/streams", postStreams),
];
