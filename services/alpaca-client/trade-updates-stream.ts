/**
 * TradeUpdatesStream: Alpaca's trade_updates WebSocket (authenticate → listen), with reconnect
 * and stall detection. The stream can be silent for hours (no orders), so liveness comes from
 * ping/pong, not from data.
 *
 * IMPORTANT: events sent while disconnected are lost; `onReady` with `reconnected: true` is the
 * consumer's signal to reconcile open orders over REST before trusting the stream again.
 */
import type { RawData } from "ws";
import type { TradepipeError } from "../core/errors.ts";
import type { StreamOptions } from "./config.ts";
import { DEFAULT_STREAM_OPTIONS } from "./config.ts";
import type { Credentials } from "./credentials.ts";
import { ReconnectingSocket, type SocketState, streamError } from "./reconnecting-socket.ts";
import type { WireTradeUpdate } from "./wire-types.ts";

export interface TradeUpdateHandlers {
  onTradeUpdate(update: WireTradeUpdate): void;
  /** onReady fires after each (re)connect once the server confirms the listen. */
  onReady?(info: { connection: number; reconnected: boolean }): void;
  onDisconnect?(reason: string, retryInMs: number | undefined): void;
  onError?(err: TradepipeError): void;
}

export interface TradeUpdatesStreamConfig {
  /** url is the trade stream, e.g. wss://paper-api.alpaca.markets/stream. */
  url: string;
  credentials: Credentials;
  options?: Partial<StreamOptions>;
  handlers: TradeUpdateHandlers;
  random?: () => number;
}

/** HEARTBEAT is the one-byte keep-alive frame some Alpaca endpoints send. */
const HEARTBEAT = 0x01;

export class TradeUpdatesStream {
  readonly #cfg: TradeUpdatesStreamConfig;
  readonly #socket: ReconnectingSocket;
  #phase: "auth" | "listen" | "live" = "auth";

  constructor(cfg: TradeUpdatesStreamConfig) {
    this.#cfg = cfg;
    const opts = { ...DEFAULT_STREAM_OPTIONS, ...cfg.options };
    this.#socket = new ReconnectingSocket({
      url: cfg.url,
      stallTimeoutMs: opts.stallTimeoutMs,
      pongsAreLife: true,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      backoff: opts.reconnectBackoff,
      ...(cfg.random ? { random: cfg.random } : {}),
      onOpen: () => this.#authenticate(),
      onFrame: (data, isBinary) => this.#onFrame(data, isBinary),
      onDisconnect: (reason, retryIn) => cfg.handlers.onDisconnect?.(reason, retryIn),
    });
  }

  get state(): SocketState {
    return this.#socket.state;
  }

  get connections(): number {
    return this.#socket.connections;
  }

  start(): void {
    this.#socket.start();
  }

  reconnect(reason = "requested"): void {
    this.#socket.reconnect(reason);
  }

  close(): Promise<void> {
    return this.#socket.close();
  }

  #authenticate(): void {
    this.#phase = "auth";
    const c = this.#cfg.credentials;
    this.#socket.send(
      JSON.stringify({
        action: "authenticate",
        data: { key_id: c.keyId, secret_key: c.secretKey },
      }),
    );
  }

  #onFrame(data: RawData, _isBinary: boolean): void {
    const buf = data as Buffer;
    if (buf.length === 1 && buf[0] === HEARTBEAT) return;
    let msg: { stream?: unknown; data?: Record<string, unknown> };
    try {
      msg = JSON.parse(buf.toString("utf8"));
    } catch (err) {
      this.#cfg.handlers.onError?.(streamError("undecodable trade_updates frame", err));
      return;
    }
    const d = msg.data ?? {};
    switch (msg.stream) {
      case "trade_updates":
        this.#cfg.handlers.onTradeUpdate(d as unknown as WireTradeUpdate);
        return;
      case "authorization":
        if (d.status === "authorized") {
          this.#phase = "listen";
          this.#socket.send(
            JSON.stringify({ action: "listen", data: { streams: ["trade_updates"] } }),
          );
        } else {
          const err = streamError(`trade_updates authorization refused (${String(d.action)})`);
          this.#cfg.handlers.onError?.(err);
          this.#socket.fail(err.message);
        }
        return;
      case "listening": {
        const streams = Array.isArray(d.streams) ? d.streams : [];
        if (!streams.includes("trade_updates")) {
          this.#cfg.handlers.onError?.(streamError("server did not confirm trade_updates"));
          this.#socket.reconnect("listen not confirmed");
          return;
        }
        if (this.#phase !== "live") {
          this.#phase = "live";
          this.#socket.markReady();
          const connection = this.#socket.connections;
          this.#cfg.handlers.onReady?.({ connection, reconnected: connection > 1 });
        }
        return;
      }
      default:
        if ((msg as { action?: unknown }).action === "error") {
          this.#cfg.handlers.onError?.(streamError(`trade_updates error: ${JSON.stringify(d)}`));
        }
    }
  }
}
