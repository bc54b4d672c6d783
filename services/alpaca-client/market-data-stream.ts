/**
 * MarketDataStream: Alpaca's real-time market-data WebSocket (connected → auth → subscribe),
 * in JSON or MessagePack, with reconnect + resubscribe and stall detection.
 *
 * Handlers are plain callbacks called synchronously for every record of a frame: no promise
 * and no allocation beyond the decoded record per message on the hot path. Typed handlers
 * (onTrade, onQuote, ...) convert to exact Fixed values; `onRecord` gets every data record as
 * decoded (for consumers with their own decoder), and converts nothing.
 */
import { encode } from "@msgpack/msgpack";
import type { StreamOptions } from "./config.ts";
import { DEFAULT_STREAM_OPTIONS } from "./config.ts";
import type { Credentials } from "./credentials.ts";
import type { WireRecord } from "./market-data.ts";
import {
  createFrameDispatcher,
  type FrameDispatcher,
  type MarketDataRecordHandlers,
} from "./market-data-frames.ts";
import { ReconnectingSocket, type SocketState, streamError } from "./reconnecting-socket.ts";

/** Channels are the subscription lists Alpaca accepts ("*" = all symbols). */
export interface Channels {
  trades?: string[];
  quotes?: string[];
  bars?: string[];
  updatedBars?: string[];
  dailyBars?: string[];
  statuses?: string[];
  lulds?: string[];
  /** orderbooks is the L2 depth channel (`T:"o"` messages). */
  orderbooks?: string[];
}

const CHANNEL_NAMES = [
  "trades",
  "quotes",
  "bars",
  "updatedBars",
  "dailyBars",
  "statuses",
  "lulds",
  "orderbooks",
] as const;

export type ChannelName = (typeof CHANNEL_NAMES)[number];

export interface MarketDataHandlers extends MarketDataRecordHandlers {
  /** onReady fires after each (re)connect once subscriptions are confirmed. */
  onReady?(info: { connection: number; subscription: Channels }): void;
  onDisconnect?(reason: string, retryInMs: number | undefined): void;
}

export interface MarketDataStreamConfig {
  /** url is the full stream URL including the feed, e.g. wss://.../v2/iex or ws://sim/v2/test. */
  url: string;
  credentials: Credentials;
  codec?: "json" | "msgpack";
  options?: Partial<StreamOptions>;
  handlers: MarketDataHandlers;
  random?: () => number;
}

/** Server error codes after which reconnecting cannot help. */
const FATAL_CODES = new Set([402, 408, 411]);
/** Handshake error codes worth a new connection: not authenticated, auth timeout, limit, 500. */
const RETRY_CODES = new Set([401, 404, 406, 407, 500]);

export class MarketDataStream {
  readonly #cfg: MarketDataStreamConfig;
  readonly #h: MarketDataHandlers;
  readonly #socket: ReconnectingSocket;
  readonly #msgpack: boolean;
  readonly #dispatch: FrameDispatcher;
  readonly #wanted: Record<ChannelName, Set<string>>;
  #phase: "connected" | "auth" | "subscribe" | "live" = "connected";
  #subscription: Channels = {};

  constructor(cfg: MarketDataStreamConfig) {
    this.#cfg = cfg;
    this.#h = cfg.handlers;
    this.#msgpack = cfg.codec === "msgpack";
    this.#dispatch = createFrameDispatcher(this.#msgpack ? "msgpack" : "json", cfg.handlers, (m) =>
      this.#control(m),
    );
    this.#wanted = Object.fromEntries(CHANNEL_NAMES.map((c) => [c, new Set<string>()])) as Record<
      ChannelName,
      Set<string>
    >;
    const opts = { ...DEFAULT_STREAM_OPTIONS, ...cfg.options };
    this.#socket = new ReconnectingSocket({
      url: cfg.url,
      headers: this.#msgpack ? { "Content-Type": "application/msgpack" } : {},
      stallTimeoutMs: opts.stallTimeoutMs,
      pongsAreLife: false,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      backoff: opts.reconnectBackoff,
      ...(cfg.random ? { random: cfg.random } : {}),
      onOpen: () => {
        this.#phase = "connected";
      },
      onFrame: (data, isBinary) => this.#dispatch(data as Buffer, isBinary),
      onDisconnect: (reason, retryIn) => this.#h.onDisconnect?.(reason, retryIn),
    });
  }

  get state(): SocketState {
    return this.#socket.state;
  }

  /** connections counts opened connections (reconnects included). */
  get connections(): number {
    return this.#socket.connections;
  }

  /** subscription is the set the server last confirmed. */
  get subscription(): Channels {
    return this.#subscription;
  }

  start(): void {
    this.#socket.start();
  }

  /** subscribe adds to the wanted set; it is sent now if live, and again after every reconnect. */
  subscribe(channels: Channels): void {
    for (const name of CHANNEL_NAMES)
      for (const s of channels[name] ?? []) this.#wanted[name].add(s);
    // Before auth completes, the subscribe sent after auth carries the whole wanted set.
    if (this.#phase === "live" || this.#phase === "subscribe") {
      this.#send({ action: "subscribe", ...channels });
    }
  }

  unsubscribe(channels: Channels): void {
    for (const name of CHANNEL_NAMES) {
      for (const s of channels[name] ?? []) this.#wanted[name].delete(s);
    }
    if (this.#phase === "live" || this.#phase === "subscribe") {
      this.#send({ action: "unsubscribe", ...channels });
    }
  }

  /** reconnect forces a new connection (e.g. a consumer that detected a book gap). */
  reconnect(reason = "requested"): void {
    this.#socket.reconnect(reason);
  }

  close(): Promise<void> {
    return this.#socket.close();
  }

  #control(m: WireRecord): void {
    if (m.T === "success") this.#onSuccess(String(m.msg));
    else if (m.T === "subscription") this.#onSubscription(m);
    else this.#onServerError(m);
  }

  #onSuccess(msg: string): void {
    if (msg === "connected") {
      this.#phase = "auth";
      const c = this.#cfg.credentials;
      this.#send({ action: "auth", key: c.keyId, secret: c.secretKey });
    } else if (msg === "authenticated") {
      this.#phase = "subscribe";
      const wanted = this.#wantedChannels();
      if (Object.keys(wanted).length > 0) this.#send({ action: "subscribe", ...wanted });
      else this.#goLive({});
    }
  }

  #onSubscription(m: WireRecord): void {
    const sub: Channels = {};
    for (const name of CHANNEL_NAMES) {
      if (Array.isArray(m[name])) sub[name] = (m[name] as unknown[]).map(String);
    }
    this.#subscription = sub;
    if (this.#phase !== "live") this.#goLive(sub);
  }

  #goLive(sub: Channels): void {
    this.#phase = "live";
    this.#subscription = sub;
    this.#socket.markReady();
    this.#h.onReady?.({ connection: this.#socket.connections, subscription: sub });
  }

  #onServerError(m: WireRecord): void {
    const code = Number(m.code);
    const err = streamError(`market-data stream error ${code}: ${String(m.msg)}`);
    this.#h.onError?.(err);
    if (FATAL_CODES.has(code)) {
      this.#socket.fail(err.message);
    } else if (RETRY_CODES.has(code) && this.#phase !== "live") {
      this.#socket.reconnect(err.message);
    } else if (this.#phase === "subscribe") {
      // A refused subscription (symbol limit, bad channel) leaves the connection usable.
      this.#goLive(this.#subscription);
    }
  }

  #wantedChannels(): Channels {
    const out: Channels = {};
    for (const name of CHANNEL_NAMES) {
      if (this.#wanted[name].size > 0) out[name] = [...this.#wanted[name]];
    }
    return out;
  }

  #send(msg: object): void {
    this.#socket.send(this.#msgpack ? encode(msg) : JSON.stringify(msg));
  }
}
