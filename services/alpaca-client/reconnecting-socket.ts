/**
 * ReconnectingSocket keeps one WebSocket connected: it reconnects with backoff and jitter after
 * any close or error, after a handshake that does not finish in time, and after a stall (no
 * frame for `stallTimeoutMs`). The protocol on top (auth, subscribe) is the owner's job: it gets
 * `onOpen` for every new connection and calls `markReady` once its handshake is done, which
 * resets the backoff.
 *
 * Stall detection counts frames instead of re-arming a timer per frame, so the hot path costs
 * one increment; a periodic check sees whether the count moved.
 */
import WebSocket, { type RawData } from "ws";
import { TradepipeError } from "../core/errors.ts";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";

export type SocketState = "connecting" | "handshaking" | "ready" | "waiting" | "closed";

export interface ReconnectingSocketOptions {
  url: string;
  headers?: Record<string, string>;
  /** stallTimeoutMs: reconnect after this long without a frame (0 disables). */
  stallTimeoutMs: number;
  /** pongsAreLife: send pings and count pongs as frames (for streams that may be silent). */
  pongsAreLife: boolean;
  handshakeTimeoutMs: number;
  /** The largest frame accepted (default MAX_FRAME_BYTES); a larger one drops the connection. */
  maxPayloadBytes?: number;
  backoff: BackoffOptions;
  random?: () => number;
  onOpen: () => void;
  onFrame: (data: RawData, isBinary: boolean) => void;
  /** onDisconnect reports why a connection ended and when the next attempt is due. */
  onDisconnect?: (reason: string, retryInMs: number | undefined) => void;
}

/**
 * MAX_FRAME_BYTES bounds one frame from the broker. Alpaca's frames (a batch of quotes, an order
 * update, a full order book) stay well below it; ws's own default (100 MiB) would let one frame
 * take that much memory before anything looks at it.
 */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** STALL_CHECKS is how many checks one stall timeout is split into (detects in 1–1.25× it). */
const STALL_CHECKS = 4;

export class ReconnectingSocket {
  readonly #opts: ReconnectingSocketOptions;
  #ws: WebSocket | undefined;
  #state: SocketState = "closed";
  #attempt = 0;
  #frames = 0;
  #framesAtCheck = 0;
  #quietChecks = 0;
  #connections = 0;
  #stallTimer: NodeJS.Timeout | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(opts: ReconnectingSocketOptions) {
    this.#opts = opts;
  }

  get state(): SocketState {
    return this.#state;
  }

  /** connections counts successful opens (1 after the first, +1 per reconnect). */
  get connections(): number {
    return this.#connections;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  /** send writes one frame on the current connection (dropped when not connected). */
  send(data: string | Uint8Array): boolean {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(data);
    return true;
  }

  /** markReady ends the handshake: the connection is good, so the backoff starts over. */
  markReady(): void {
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#attempt = 0;
    this.#state = "ready";
  }

  /** reconnect drops the current connection and connects again after backoff. */
  reconnect(reason: string): void {
    const ws = this.#ws;
    if (ws === undefined) return;
    this.#drop(ws, reason);
  }

  /** fail stops for good (e.g. rejected credentials) after reporting `err`. */
  fail(reason: string): void {
    this.#opts.onDisconnect?.(reason, undefined);
    this.close();
  }

  /** close stops reconnecting and closes the connection; resolves once the socket is closed. */
  close(): Promise<void> {
    this.#stopped = true;
    this.#state = "closed";
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once("close", () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
      // A peer that never answers the close must not hold shutdown.
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000).unref();
    });
  }

  #connect(): void {
    this.#state = "connecting";
    const ws = new WebSocket(this.#opts.url, {
      headers: this.#opts.headers ?? {},
      perMessageDeflate: false,
      handshakeTimeout: this.#opts.handshakeTimeoutMs,
      maxPayload: this.#opts.maxPayloadBytes ?? MAX_FRAME_BYTES,
      skipUTF8Validation: true,
    });
    this.#ws = ws;
    ws.on("open", () => {
      if (this.#ws !== ws) return;
      this.#connections++;
      this.#state = "handshaking";
      this.#handshakeTimer = setTimeout(
        () => this.#drop(ws, "handshake timed out"),
        this.#opts.handshakeTimeoutMs,
      );
      this.#armStallCheck();
      try {
        this.#opts.onOpen();
      } catch (err) {
        this.#drop(ws, `handshake failed: ${(err as Error).message}`);
      }
    });
    ws.on("message", (data, isBinary) => {
      if (this.#ws !== ws) return;
      this.#frames++;
      this.#opts.onFrame(data, isBinary);
    });
    ws.on("pong", () => {
      if (this.#opts.pongsAreLife) this.#frames++;
    });
    ws.on("error", (err) => {
      if (this.#ws === ws) this.#drop(ws, `error: ${err.message}`);
    });
    ws.on("close", (code, reason) => {
      if (this.#ws === ws)
        this.#drop(ws, `closed by peer (${code}${reason.length ? ` ${reason}` : ""})`);
    });
  }

  #drop(ws: WebSocket, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    this.#clearTimers();
    ws.removeAllListeners("message");
    ws.on("error", () => {});
    ws.terminate();
    if (this.#stopped) return;
    const delay = backoffDelay(
      this.#attempt++,
      this.#opts.backoff,
      this.#opts.random ?? Math.random,
    );
    this.#state = "waiting";
    this.#opts.onDisconnect?.(reason, delay);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#stopped) this.#connect();
    }, delay);
  }

  #armStallCheck(): void {
    const timeout = this.#opts.stallTimeoutMs;
    if (!(timeout > 0)) return;
    this.#framesAtCheck = this.#frames;
    this.#quietChecks = 0;
    this.#stallTimer = setInterval(
      () => {
        const ws = this.#ws;
        if (ws === undefined) return;
        if (this.#frames !== this.#framesAtCheck) {
          this.#framesAtCheck = this.#frames;
          this.#quietChecks = 0;
        } else if (++this.#quietChecks >= STALL_CHECKS) {
          this.#drop(ws, `stalled: no data for ${timeout} ms`);
          return;
        }
        if (this.#opts.pongsAreLife && ws.readyState === WebSocket.OPEN) ws.ping();
      },
      Math.max(1, Math.floor(timeout / STALL_CHECKS)),
    );
  }

  #clearTimers(): void {
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#stallTimer = undefined;
    this.#handshakeTimer = undefined;
    this.#retryTimer = undefined;
  }
}

/** streamError builds the TradepipeError reported for protocol failures. */
export function streamError(message: string, cause?: unknown): TradepipeError {
  return new TradepipeError("TP_ERR_BROKER_STREAM", message, cause === undefined ? {} : { cause });
}
