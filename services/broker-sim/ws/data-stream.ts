/**
 * data-stream: Alpaca's real-time stock data WebSocket at /v2/{iex,sip,delayed_sip,test}.
 * Handshake: `connected` on open → `auth` (or key headers on the upgrade) → `authenticated` →
 * `subscribe`/`unsubscribe` answered with the full subscription. Trades `t`, quotes `q` and
 * minute bars `b` are batched into one array frame per event-loop turn. The `orderbooks` channel
 * carries L2 depth shaped like Alpaca's crypto order books: `{T:"o",S,t,b:[{p,s}],a:[{p,s}],r}`,
 * a full book with `r:true` right after subscribing, then changed levels only (`s:0` = removed).
 */
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import { toNumber } from "../../core/money.ts";
import type { BookLevel, MarketEvent } from "../core/types.ts";
import { isAuthorized, type SimContext } from "../shell/context.ts";
import { type Codec, decodeFrame, encodeFrame, type StreamMessage, wantsMsgpack } from "./codec.ts";

export const DATA_AUTH_TIMEOUT_MS = 10_000;
const MAX_CLIENT_MESSAGE = 64 * 1024;
const SLOW_CLIENT_BYTES = 64 * 1024 * 1024;
/** MAX_SYMBOLS caps the subscriptions of one connection, summed over channels (error 405). */
const MAX_SYMBOLS = 10_000;
/** MAX_BATCH caps how many messages go in one frame. */
const MAX_BATCH = 1000;

const CHANNELS = [
  "trades",
  "quotes",
  "bars",
  "updatedBars",
  "dailyBars",
  "statuses",
  "lulds",
  "orderbooks",
] as const;
type Channel = (typeof CHANNELS)[number];

interface DataConn {
  ws: WebSocket;
  codec: Codec;
  authenticated: boolean;
  subs: Record<Channel, Set<string>>;
  pending: StreamMessage[];
  timer: NodeJS.Timeout | undefined;
}

const ERRORS: Record<number, string> = {
  400: "invalid syntax",
  401: "not authenticated",
  402: "auth failed",
  403: "already authenticated",
  404: "auth timeout",
  405: "symbol limit exceeded",
  407: "slow client",
};

const levels = (ls: BookLevel[]) => ls.map((l) => ({ p: toNumber(l.price), s: l.size }));

/** toStreamMessage renders a market event in Alpaca's stream shape (t stays bigint for the codec). */
export function toStreamMessage(e: MarketEvent): {
  channel: Channel;
  symbol: string;
  msg: StreamMessage;
} {
  switch (e.kind) {
    case "trade": {
      const x = e.trade;
      return {
        channel: "trades",
        symbol: x.symbol,
        msg: {
          T: "t",
          S: x.symbol,
          i: x.id,
          x: x.exchange,
          p: toNumber(x.price),
          s: x.size,
          c: x.conditions,
          t: x.t,
          z: x.tape,
        },
      };
    }
    case "quote": {
      const q = e.quote;
      return {
        channel: "quotes",
        symbol: q.symbol,
        msg: {
          T: "q",
          S: q.symbol,
          bx: q.bidExchange,
          bp: toNumber(q.bidPrice),
          bs: q.bidSize,
          ax: q.askExchange,
          ap: toNumber(q.askPrice),
          as: q.askSize,
          c: q.conditions,
          t: q.t,
          z: q.tape,
        },
      };
    }
    case "bar": {
      const b = e.bar;
      return {
        channel: "bars",
        symbol: b.symbol,
        msg: {
          T: "b",
          S: b.symbol,
          o: toNumber(b.open),
          h: toNumber(b.high),
          l: toNumber(b.low),
          c: toNumber(b.close),
          v: b.volume,
          t: b.t,
          n: b.tradeCount,
          vw: toNumber(b.vwap),
        },
      };
    }
    case "book": {
      const k = e.book;
      return {
        channel: "orderbooks",
        symbol: k.symbol,
        msg: { T: "o", S: k.symbol, t: k.t, b: levels(k.bids), a: levels(k.asks), r: k.reset },
      };
    }
  }
}

export class DataStreamHub {
  readonly conns = new Set<DataConn>();
  private readonly ctx: SimContext;
  private readonly unsubscribe: () => void;
  private flushScheduled = false;

  constructor(ctx: SimContext) {
    this.ctx = ctx;
    this.unsubscribe = ctx.engine.onMarket((e) => this.publish(e));
  }

  accept(ws: WebSocket, req: IncomingMessage): void {
    const subs = Object.fromEntries(CHANNELS.map((c) => [c, new Set<string>()])) as Record<
      Channel,
      Set<string>
    >;
    const conn: DataConn = {
      ws,
      codec: wantsMsgpack(req.headers["content-type"]) ? "msgpack" : "json",
      authenticated: false,
      subs,
      pending: [],
      timer: undefined,
    };
    this.conns.add(conn);
    ws.on("message", (data, isBinary) => this.onMessage(conn, data as Buffer, isBinary));
    ws.on("close", () => {
      clearTimeout(conn.timer);
      this.conns.delete(conn);
    });
    ws.on("error", () => ws.terminate());
    this.send(conn, [{ T: "success", msg: "connected" }]);
    if (
      isAuthorized(this.ctx, req.headers["apca-api-key-id"], req.headers["apca-api-secret-key"])
    ) {
      conn.authenticated = true;
      this.send(conn, [{ T: "success", msg: "authenticated" }]);
      return;
    }
    conn.timer = setTimeout(() => {
      if (!conn.authenticated) {
        this.sendError(conn, 404);
        ws.close(1008, "auth timeout");
      }
    }, DATA_AUTH_TIMEOUT_MS);
    conn.timer.unref();
  }

  private send(conn: DataConn, msgs: StreamMessage[]): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(encodeFrame(msgs, conn.codec), { binary: conn.codec === "msgpack" });
  }

  private sendError(conn: DataConn, code: number): void {
    this.send(conn, [{ T: "error", code, msg: ERRORS[code] ?? "internal error" }]);
  }

  private subscription(conn: DataConn): StreamMessage {
    const out: StreamMessage = { T: "subscription" };
    for (const c of CHANNELS) out[c] = [...conn.subs[c]];
    out["corrections"] = [...conn.subs.trades];
    out["cancelErrors"] = [...conn.subs.trades];
    return out;
  }

  private onMessage(conn: DataConn, data: Buffer, isBinary: boolean): void {
    if (data.length > MAX_CLIENT_MESSAGE) {
      this.sendError(conn, 400);
      return;
    }
    const msg = decodeFrame(data, isBinary, conn.codec);
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      this.sendError(conn, 400);
      return;
    }
    const m = msg as Record<string, unknown>;
    const action = m["action"];
    if (action === "auth") {
      if (conn.authenticated) {
        this.sendError(conn, 403);
        return;
      }
      if (!isAuthorized(this.ctx, m["key"], m["secret"])) {
        this.sendError(conn, 402);
        return;
      }
      conn.authenticated = true;
      clearTimeout(conn.timer);
      this.send(conn, [{ T: "success", msg: "authenticated" }]);
      return;
    }
    if (action !== "subscribe" && action !== "unsubscribe") {
      this.sendError(conn, 400);
      return;
    }
    if (!conn.authenticated) {
      this.sendError(conn, 401);
      return;
    }
    for (const c of CHANNELS) {
      const list = m[c];
      if (list === undefined) continue;
      if (
        !Array.isArray(list) ||
        !list.every((s) => typeof s === "string" && s.length > 0 && s.length <= 32)
      ) {
        this.sendError(conn, 400);
        return;
      }
    }
    if (action === "subscribe") {
      let total = 0;
      for (const c of CHANNELS) {
        const more = ((m[c] as string[] | undefined) ?? []).filter(
          (s) => !conn.subs[c].has(s.toUpperCase()),
        );
        total += conn.subs[c].size + new Set(more).size;
      }
      if (total > MAX_SYMBOLS) {
        this.sendError(conn, 405);
        return;
      }
    }
    const added: string[] = [];
    for (const c of CHANNELS) {
      const list = m[c] as string[] | undefined;
      if (!list) continue;
      for (const raw of list) {
        const s = raw === "*" ? "*" : raw.toUpperCase();
        if (action === "subscribe") {
          if (c === "orderbooks" && !conn.subs.orderbooks.has(s)) added.push(s);
          conn.subs[c].add(s);
        } else {
          conn.subs[c].delete(s);
        }
      }
    }
    this.send(conn, [this.subscription(conn)]);
    if (added.length > 0) this.sendBookSnapshots(conn, added);
  }

  private sendBookSnapshots(conn: DataConn, symbols: string[]): void {
    const now = this.ctx.engine.now();
    const engine = this.ctx.engine;
    const wanted = symbols.includes("*") ? [...engine.market.symbols.keys()] : symbols;
    const out: StreamMessage[] = [];
    for (const s of wanted) {
      const book = engine.book(s);
      if (!book) continue;
      out.push({ T: "o", S: s, t: now, b: levels(book.bids), a: levels(book.asks), r: true });
    }
    if (out.length > 0) this.send(conn, out);
  }

  private publish(e: MarketEvent): void {
    if (this.conns.size === 0) return;
    if (this.ctx.faults.isStalled("data", performance.now())) return;
    const { channel, symbol, msg } = toStreamMessage(e);
    if (this.ctx.faults.dropMarketData()) return;
    let any = false;
    for (const c of this.conns) {
      if (!c.authenticated) continue;
      const subs = c.subs[channel];
      if (subs.size > 0 && (subs.has(symbol) || subs.has("*"))) {
        c.pending.push(msg);
        any = true;
      }
    }
    if (any && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const c of this.conns) {
      if (c.pending.length === 0) continue;
      const batch = c.pending;
      c.pending = [];
      if (c.ws.bufferedAmount > SLOW_CLIENT_BYTES) {
        this.sendError(c, 407);
        c.ws.terminate();
        continue;
      }
      for (let i = 0; i < batch.length; i += MAX_BATCH) this.send(c, batch.slice(i, i + MAX_BATCH));
    }
  }

  disconnectAll(): number {
    const n = this.conns.size;
    for (const c of this.conns) c.ws.terminate();
    return n;
  }

  close(): void {
    this.unsubscribe();
    this.disconnectAll();
  }
}
