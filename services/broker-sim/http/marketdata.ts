/**
 * marketdata: Alpaca's historical stock data REST (/v2/stocks/{symbol}/bars|trades|quotes, the
 * multi-symbol /v2/stocks/bars|trades|quotes and the latest quote/trade/bar), served from what
 * the simulator has generated. Pages are cut by `limit`; `next_page_token` is an opaque cursor and
 * is null on the last page (alpaca-py loops until it is null).
 */
import { type Fixed, max, min, toNumber } from "../../core/money.ts";
import { etOffsetHours, formatRfc3339, type Nanos, NS_PER_MIN, parseTime } from "../core/time.ts";
import type { Bar, Quote, Trade } from "../core/types.ts";
import type { SimContext } from "../shell/context.ts";
import { type ApiRequest, type ApiResponse, json } from "./respond.ts";
import { type Route, route } from "./trading.ts";

type Kind = "bars" | "trades" | "quotes";
type Handler = (ctx: SimContext, req: ApiRequest) => ApiResponse;

const bad = (message: string): ApiResponse => json(400, { code: 40010001, message });

const price = (v: Fixed): number => toNumber(v);

export function barJson(b: Bar): Record<string, unknown> {
  return {
    t: formatRfc3339(b.t),
    o: price(b.open),
    h: price(b.high),
    l: price(b.low),
    c: price(b.close),
    v: b.volume,
    n: b.tradeCount,
    vw: price(b.vwap),
  };
}

export function tradeJson(t: Trade): Record<string, unknown> {
  return {
    t: formatRfc3339(t.t),
    x: t.exchange,
    p: price(t.price),
    s: t.size,
    c: t.conditions,
    i: t.id,
    z: t.tape,
  };
}

export function quoteJson(q: Quote): Record<string, unknown> {
  return {
    t: formatRfc3339(q.t),
    ax: q.askExchange,
    ap: price(q.askPrice),
    as: q.askSize,
    bx: q.bidExchange,
    bp: price(q.bidPrice),
    bs: q.bidSize,
    c: q.conditions,
    z: q.tape,
  };
}

const TIMEFRAME_RE = /^(\d+)(Min|T|Hour|H|Day|D)$/;

/** parseTimeframe returns the bar width in minutes, or undefined if unsupported. */
export function parseTimeframe(tf: string): number | undefined {
  const m = TIMEFRAME_RE.exec(tf);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!;
  if (unit === "Min" || unit === "T") return n >= 1 && n <= 59 ? n : undefined;
  if (unit === "Hour" || unit === "H") return n >= 1 && n <= 23 ? n * 60 : undefined;
  return n === 1 ? 1440 : undefined;
}

/** aggregateBars folds minute bars into bars of `minutes` (days start at New York midnight). */
export function aggregateBars(bars: readonly Bar[], minutes: number): Bar[] {
  if (minutes === 1) return bars.slice();
  const width = BigInt(minutes) * NS_PER_MIN;
  const out: Bar[] = [];
  for (const b of bars) {
    const shift = minutes >= 1440 ? BigInt(-etOffsetHours(b.t)) * 60n * NS_PER_MIN : 0n;
    const start = b.t - ((b.t - shift) % width);
    const last = out[out.length - 1];
    if (last && last.t === start) {
      const volume = last.volume + b.volume;
      last.vwap =
        volume === 0
          ? last.vwap
          : (last.vwap * BigInt(last.volume) + b.vwap * BigInt(b.volume)) / BigInt(volume);
      last.volume = volume;
      last.high = max(b.high, last.high);
      last.low = min(b.low, last.low);
      last.close = b.close;
      last.tradeCount += b.tradeCount;
    } else {
      out.push({ ...b, t: start });
    }
  }
  return out;
}

interface Query {
  start: Nanos | undefined;
  end: Nanos | undefined;
  limit: number;
  offset: number;
  desc: boolean;
  minutes: number;
  /** rawSplits: serve bars as traded, before split adjustment (`raw`, `dividend`, `spin-off`). */
  rawSplits: boolean;
}

/** ADJUSTMENTS: Alpaca's `adjustment` values; only splits are modelled by the simulator. */
const ADJUSTMENTS = new Set(["raw", "split", "dividend", "spin-off", "all"]);

function parseQuery(req: ApiRequest, kind: Kind): Query | ApiResponse {
  const q = req.query;
  const start = q.get("start");
  const end = q.get("end");
  const startNs = start ? parseTime(start) : undefined;
  const endNs = end ? parseTime(end) : undefined;
  if (start && startNs === undefined) return bad(`invalid start: ${start}`);
  if (end && endNs === undefined) return bad(`invalid end: ${end}`);
  const limitText = q.get("limit");
  const limit = limitText === null ? 1000 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    return bad("invalid limit: must be between 1 and 10000");
  const sort = q.get("sort") ?? "asc";
  if (sort !== "asc" && sort !== "desc") return bad(`invalid sort: ${sort}`);
  const feed = q.get("feed");
  if (feed !== null && !["sip", "iex", "otc", "boats", "delayed_sip"].includes(feed))
    return bad(`invalid feed: ${feed}`);
  let minutes = 1;
  const adjustment = q.get("adjustment") ?? "raw";
  if (kind === "bars" && !ADJUSTMENTS.has(adjustment))
    return bad(`invalid adjustment: ${adjustment}`);
  if (kind === "bars") {
    const tf = q.get("timeframe");
    if (!tf) return bad("timeframe is required");
    const m = parseTimeframe(tf);
    if (m === undefined) return bad(`invalid timeframe: ${tf}`);
    minutes = m;
  }
  let offset = 0;
  const token = q.get("page_token");
  if (token) {
    const decoded = Number(Buffer.from(token, "base64url").toString("utf8").replace(/^o:/, ""));
    if (!Number.isInteger(decoded) || decoded < 0) return bad("invalid page_token");
    offset = decoded;
  }
  const rawSplits = adjustment !== "split" && adjustment !== "all";
  return { start: startNs, end: endNs, limit, offset, desc: sort === "desc", minutes, rawSplits };
}

function timeOf(x: Trade | Quote | Bar): Nanos {
  return x.t;
}

function series(ctx: SimContext, kind: Kind, symbol: string, q: Query): (Trade | Quote | Bar)[] {
  let items =
    kind === "bars" && q.rawSplits
      ? (ctx.engine.history.rawBars(symbol) as Bar[])
      : (ctx.engine.history.list(kind, symbol) as (Trade | Quote | Bar)[]);
  if (kind === "bars" && q.minutes > 1) items = aggregateBars(items as Bar[], q.minutes);
  const filtered = items.filter(
    (x) =>
      (q.start === undefined || timeOf(x) >= q.start) &&
      (q.end === undefined || timeOf(x) <= q.end),
  );
  return q.desc ? filtered.reverse() : filtered;
}

const render = (kind: Kind) =>
  (kind === "bars" ? barJson : kind === "trades" ? tradeJson : quoteJson) as (
    x: Trade | Quote | Bar,
  ) => Record<string, unknown>;

const token = (offset: number): string => Buffer.from(`o:${offset}`, "utf8").toString("base64url");

function single(kind: Kind): Handler {
  return (ctx, req) => {
    ctx.engine.sync();
    const q = parseQuery(req, kind);
    if ("status" in q) return q;
    const symbol = req.params["symbol"]!.toUpperCase();
    const all = series(ctx, kind, symbol, q);
    const page = all.slice(q.offset, q.offset + q.limit);
    const next = q.offset + q.limit < all.length ? token(q.offset + q.limit) : null;
    return json(200, { [kind]: page.map(render(kind)), symbol, next_page_token: next });
  };
}

function symbolsParam(req: ApiRequest): string[] | ApiResponse {
  const raw = req.query.get("symbols");
  if (!raw) return bad("symbols is required");
  const list = [
    ...new Set(
      raw
        .split(",")
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean),
    ),
  ].sort();
  if (list.length === 0) return bad("symbols is required");
  return list;
}

function multi(kind: Kind): Handler {
  return (ctx, req) => {
    ctx.engine.sync();
    const q = parseQuery(req, kind);
    if ("status" in q) return q;
    const symbols = symbolsParam(req);
    if (!Array.isArray(symbols)) return symbols;
    // Items are ordered by symbol, then time; `limit` counts across all symbols.
    const flat: [string, Trade | Quote | Bar][] = [];
    for (const s of symbols) for (const x of series(ctx, kind, s, q)) flat.push([s, x]);
    const page = flat.slice(q.offset, q.offset + q.limit);
    const out: Record<string, Record<string, unknown>[]> = {};
    const r = render(kind);
    for (const [s, x] of page) {
      const list = out[s] ?? [];
      list.push(r(x));
      out[s] = list;
    }
    const next = q.offset + q.limit < flat.length ? token(q.offset + q.limit) : null;
    return json(200, { [kind]: out, next_page_token: next });
  };
}

function latestOf(
  ctx: SimContext,
  kind: Kind,
  symbol: string,
): Record<string, unknown> | undefined {
  const items = ctx.engine.history.list(kind, symbol);
  const last = items[items.length - 1];
  return last ? render(kind)(last) : undefined;
}

const singular = { bars: "bar", trades: "trade", quotes: "quote" } as const;

function latestSingle(kind: Kind): Handler {
  return (ctx, req) => {
    ctx.engine.sync();
    const symbol = req.params["symbol"]!.toUpperCase();
    const item = latestOf(ctx, kind, symbol);
    if (!item)
      return json(404, { code: 40410000, message: `no ${singular[kind]} found for ${symbol}` });
    return json(200, { symbol, [singular[kind]]: item });
  };
}

function latestMulti(kind: Kind): Handler {
  return (ctx, req) => {
    ctx.engine.sync();
    const symbols = symbolsParam(req);
    if (!Array.isArray(symbols)) return symbols;
    const out: Record<string, unknown> = {};
    for (const s of symbols) {
      const item = latestOf(ctx, kind, s);
      if (item) out[s] = item;
    }
    return json(200, { [kind]: out });
  };
}

export const MARKET_DATA_ROUTES: Route[] = [
  route("GET", "/v2/stocks/bars/latest", latestMulti("bars")),
  route("GET", "/v2/stocks/trades/latest", latestMulti("trades")),
  route("GET", "/v2/stocks/quotes/latest", latestMulti("quotes")),
  route("GET", "/v2/stocks/bars", multi("bars")),
  route("GET", "/v2/stocks/trades", multi("trades")),
  route("GET", "/v2/stocks/quotes", multi("quotes")),
  route("GET", "/v2/stocks/{symbol}/bars/latest", latestSingle("bars")),
  route("GET", "/v2/stocks/{symbol}/trades/latest", latestSingle("trades")),
  route("GET", "/v2/stocks/{symbol}/quotes/latest", latestSingle("quotes")),
  route("GET", "/v2/stocks/{symbol}/bars", single("bars")),
  route("GET", "/v2/stocks/{symbol}/trades", single("trades")),
  route("GET", "/v2/stocks/{symbol}/quotes", single("quotes")),
];
