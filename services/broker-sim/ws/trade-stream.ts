/**
 * trade-stream: Alpaca's trade_updates WebSocket at /stream. Handshake: `authenticate` →
 * `authorization` (authorized / unauthorized), then `listen` → `listening`. Like paper, JSON goes
 * out in binary frames (MessagePack when the client asked for it). Injected faults can drop,
 * duplicate or reorder updates, stall the stream or cut the connection.
 */
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import type { TradeUpdate } from "../core/broker.ts";
import { tradeUpdateJson } from "../http/views.ts";
import { isAuthorized, type SimContext } from "../shell/context.ts";
import { type Codec, decodeFrame, encodeFrame, type StreamMessage, wantsMsgpack } from "./codec.ts";

export const AUTH_TIMEOUT_MS = 10_000;
const MAX_CLIENT_MESSAGE = 64 * 1024;

interface TradeConn {
  ws: WebSocket;
  codec: Codec;
  authorized: boolean;
  listening: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class TradeStreamHub {
  readonly conns = new Set<TradeConn>();
  private readonly ctx: SimContext;
  private held: StreamMessage | undefined;
  private readonly unsubscribe: () => void;

  constructor(ctx: SimContext) {
    this.ctx = ctx;
    this.unsubscribe = ctx.engine.onTradeUpdate((u) => this.publish(u));
  }

  accept(ws: WebSocket, req: IncomingMessage): void {
    const conn: TradeConn = {
      ws,
      codec: wantsMsgpack(req.headers["content-type"]) ? "msgpack" : "json",
      authorized: false,
      listening: false,
      timer: undefined,
    };
    conn.timer = setTimeout(() => {
      if (!conn.authorized) {
        this.send(conn, {
          stream: "authorization",
          data: { status: "unauthorized", action: "authenticate" },
        });
        ws.close(1008, "auth timeout");
      }
    }, AUTH_TIMEOUT_MS);
    conn.timer.unref();
    this.conns.add(conn);
    ws.on("message", (data, isBinary) => this.onMessage(conn, data as Buffer, isBinary));
    ws.on("close", () => {
      clearTimeout(conn.timer);
      this.conns.delete(conn);
    });
    ws.on("error", () => ws.terminate());
  }

  private send(conn: TradeConn, msg: StreamMessage): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    const frame = encodeFrame(msg, conn.codec);
    conn.ws.send(typeof frame === "string" ? Buffer.from(frame) : frame, { binary: true });
  }

  private error(conn: TradeConn, message: string): void {
    this.send(conn, { action: "error", data: { error_message: message } });
  }

  private onMessage(conn: TradeConn, data: Buffer, isBinary: boolean): void {
    if (data.length > MAX_CLIENT_MESSAGE) {
      this.error(conn, "message too large");
      return;
    }
    const msg = decodeFrame(data, isBinary, conn.codec);
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      this.error(conn, "invalid syntax");
      return;
    }
    const m = msg as Record<string, unknown>;
    const body =
      typeof m["data"] === "object" && m["data"] !== null
        ? (m["data"] as Record<string, unknown>)
        : {};
    switch (m["action"]) {
      case "authenticate":
      case "auth": {
        const keyId = body["key_id"] ?? m["key"];
        const secret = body["secret_key"] ?? m["secret"];
        conn.authorized = isAuthorized(this.ctx, keyId, secret);
        this.send(conn, {
          stream: "authorization",
          data: { status: conn.authorized ? "authorized" : "unauthorized", action: "authenticate" },
        });
        return;
      }
      case "listen": {
        if (!conn.authorized) {
          this.send(conn, {
            stream: "authorization",
            data: { status: "unauthorized", action: "listen" },
          });
          return;
        }
        const streams = body["streams"];
        if (!Array.isArray(streams) || !streams.every((s) => typeof s === "string")) {
          this.error(conn, "invalid listen request: data.streams must be an array of strings");
          return;
        }
        const known = streams.filter((s) => s === "trade_updates");
        conn.listening = known.length > 0;
        this.send(conn, { stream: "listening", data: { streams: known } });
        return;
      }
      default:
        this.error(conn, `unrecognized action: ${JSON.stringify(m["action"] ?? null)}`);
    }
  }

  private broadcast(msg: StreamMessage): void {
    if (this.ctx.faults.isStalled("trade", performance.now())) return;
    for (const c of this.conns) if (c.listening) this.send(c, msg);
  }

  /** publish sends one update to every listener, through the configured faults. */
  publish(u: TradeUpdate): void {
    const msg: StreamMessage = { stream: "trade_updates", data: tradeUpdateJson(u) };
    const fate = this.ctx.faults.tradeUpdate();
    if (fate === "drop") return;
    if (fate === "reorder" && this.held === undefined) {
      this.held = msg;
      return;
    }
    this.broadcast(msg);
    if (fate === "duplicate") this.broadcast(msg);
    if (this.held !== undefined && this.held !== msg) {
      const late = this.held;
      this.held = undefined;
      this.broadcast(late);
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
