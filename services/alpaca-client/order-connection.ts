/**
 * OrderConnection: dedicated kept-alive HTTP/1.1 connections (TCP, or TLS for Alpaca's https
 * endpoints) used only for `POST /v2/orders`, so that an order's bytes leave in the same
 * synchronous run as the decision that made it.
 *
 * Why not undici here: on a reused keep-alive socket undici writes a request one event-loop turn
 * after `request()` returns (its idle-socket check, GHSA-35p6-xmwp-9g52), 130–450 µs on these
 * machines. This writer builds the request from a template fixed once (request line, host, the
 * API keys, user agent, content type), fills in the body and its length, and calls
 * `socket.write` inside `post()`. Everything else (lookups, listings, cancels) stays on undici.
 *
 * What it keeps from undici, because the execution core's resolution relies on it:
 * - **One request in flight per connection; bytes that arrive while none is in flight close the
 *   connection** (an error, never an answer attributed to the next order). Bytes left over after
 *   an answer are the same fault. This is the guard undici's idle-socket check gives.
 * - A connection closed (or timed out, or answering what the strict parser refuses) with an
 *   order in flight fails that POST as `TP_ERR_BROKER_NETWORK` / `TP_ERR_BROKER_TIMEOUT` with a
 *   cause that `classifySendFailure` reads as `ambiguous`: the caller looks the order up by its
 *   client_order_id and never re-sends it under a new id.
 * - The rate-limit gate (`LimiterGate`, shared with the undici transport: one account, one
 *   budget), 429 retried after `Retry-After` / `X-RateLimit-Reset` (the broker did not act on
 *   it), the same `BrokerHttpError` for every other non-2xx (so 422 "client_order_id must be
 *   unique" is `duplicate` and any other 422 a reject), the `tradepipe.alpaca.request` channel.
 * - Reconnect after any close, with equal-jitter backoff after failures.
 *
 * One request at a time per connection, not pipelining: with pipelining one lost connection
 * makes every queued order ambiguous, and a slow answer holds up every order behind it. At
 * Alpaca's 200 requests a minute a couple of connections serve every burst; an order that finds
 * none idle (or none connected yet) goes through undici, which is slower but equally safe.
 */
import diagnostics from "node:diagnostics_channel";
import { connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions as TlsOptions, connect as tlsConnect } from "node:tls";
import { TradepipeError } from "../core/errors.ts";
import { type BackoffOptions, backoffDelay, serverRetryDelay } from "./backoff.ts";
import { BrokerHttpError, networkError, parseErrorBody } from "./broker-errors.ts";
import { type RequestEvent, requestChannel } from "./http-transport.ts";
import { type Http1Response, Http1ResponseParser } from "./http1-response.ts";
import type { LimiterGate } from "./limiter-gate.ts";
import { parseRateLimitHeaders } from "./rate-limiter.ts";
import type { OrderRequest, WireOrder } from "./wire-types.ts";

/**
 * `tradepipe.alpaca.order-written`: `{ clientOrderId }` right after an order's bytes were handed
 * to a dedicated connection's socket (inside `post()`). Published only with a subscriber.
 */
export const orderWrittenChannel = diagnostics.channel("tradepipe.alpaca.order-written");

export interface OrderConnectionOptions {
  /** origin of the Trading API: `https://…` (TLS, port 443 by default) or `http://…`. */
  origin: string;
  /** authHeaders: the API key headers, written into the template once. */
  authHeaders: Record<string, string>;
  userAgent: string;
  /** connections: how many dedicated connections to keep (each one order at a time). */
  connections: number;
  connectMs: number;
  /** requestMs: an answer not complete by then fails the POST as an ambiguous timeout. */
  requestMs: number;
  /** maxAttempts bounds the writes of one order after 429s (first try included). */
  maxAttempts: number;
  backoff: BackoffOptions;
  reconnectBackoff: BackoffOptions;
  /**
   * idleMs: a connection idle this long is closed and made again before the server's own idle
   * timeout can close it under a new order (lowered by a `Keep-Alive: timeout=N` hint).
   */
  idleMs: number;
  /** tls: extra TLS options (a test CA); the system's CAs and SNI by default. */
  tls?: TlsOptions;
}

export interface OrderConnectionDeps {
  gate: LimiterGate;
  /** fallback posts through undici when no dedicated connection is idle. */
  fallback(request: OrderRequest & { client_order_id: string }): Promise<WireOrder>;
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface InFlight {
  resolve(order: WireOrder): void;
  reject(err: Error): void;
  startedMs: number;
  attempt: number;
  clientOrderId: string;
}

const PATH = "/v2/orders";
/** KEEP_ALIVE_MARGIN_MS: recycle this long before the server's announced idle timeout. */
const KEEP_ALIVE_MARGIN_MS = 1_000;

/** Connection is one dedicated socket and its one request in flight. */
class Connection {
  socket: Socket | undefined;
  ready = false;
  inFlight: InFlight | undefined;
  readonly parser = new Http1ResponseParser();
  failures = 0;
  idleMs: number;
  answerTimer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  reconnectTimer: NodeJS.Timeout | undefined;
  /** why the socket is being destroyed (set before destroy, read in the close handler). */
  fault: Error | undefined;

  constructor(idleMs: number) {
    this.idleMs = idleMs;
  }
}

export class OrderConnection {
  readonly #o: OrderConnectionOptions;
  readonly #d: OrderConnectionDeps;
  readonly #url: URL;
  readonly #head: string;
  readonly #conns: Connection[] = [];
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #closed = false;
  /** counters for tests and reports: written on a dedicated connection / sent through undici. */
  written = 0;
  fellBack = 0;

  constructor(options: OrderConnectionOptions, deps: OrderConnectionDeps) {
    if (!Number.isInteger(options.connections) || options.connections < 1) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `orderConnections: expected a positive integer, got ${options.connections}`,
      );
    }
    this.#o = options;
    this.#d = deps;
    this.#url = new URL(options.origin);
    if (this.#url.protocol !== "https:" && this.#url.protocol !== "http:") {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `order connection: expected an http(s) origin, got ${options.origin}`,
      );
    }
    this.#random = deps.random ?? Math.random;
    this.#now = deps.now ?? Date.now;
    this.#sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const fixed: Array<[string, string]> = [
      ["host", this.#url.host],
      ...Object.entries(options.authHeaders),
      ["user-agent", options.userAgent],
      ["accept", "application/json"],
      ["content-type", "application/json"],
      ["connection", "keep-alive"],
    ];
    let head = `POST ${PATH} HTTP/1.1\r\n`;
    for (const [name, value] of fixed) {
      if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) {
        throw new TradepipeError(
          "TP_ERR_CONFIG",
          `order connection: header ${JSON.stringify(name)} holds a line break`,
        );
      }
      head += `${name}: ${value}\r\n`;
    }
    this.#head = `${head}content-length: `;
    for (let i = 0; i < options.connections; i++) {
      const c = new Connection(options.idleMs);
      this.#conns.push(c);
      this.#open(c);
    }
  }

  /** connected: how many dedicated connections are open now. */
  get connected(): number {
    let n = 0;
    for (const c of this.#conns) if (c.ready) n++;
    return n;
  }

  /**
   * post writes the order on an idle dedicated connection before it returns (when the rate
   * limit allows it now), else through undici; the promise settles with the broker's answer.
   */
  post(request: OrderRequest & { client_order_id: string }): Promise<WireOrder> {
    return this.#attempt(request, JSON.stringify(request), 0);
  }

  /** ready resolves once every dedicated connection is open (for tests and warm-up). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = this.#now() + timeoutMs;
    while (this.connected < this.#conns.length) {
      if (this.#now() > deadline) {
        throw new TradepipeError("TP_ERR_BROKER_NETWORK", "order connection: not connected");
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const closing: Promise<void>[] = [];
    for (const c of this.#conns) {
      clearTimeout(c.reconnectTimer);
      clearTimeout(c.idleTimer);
      clearTimeout(c.answerTimer);
      const s = c.socket;
      if (s !== undefined && !s.destroyed) {
        closing.push(new Promise((r) => s.once("close", () => r())));
        c.fault = new Error("order connection closed by the client");
        s.destroy();
      }
    }
    await Promise.all(closing);
  }

  #attempt(
    request: OrderRequest & { client_order_id: string },
    body: string,
    attempt: number,
  ): Promise<WireOrder> {
    if (this.#idle() === undefined) return this.#fallback(request);
    const wait = this.#d.gate.acquire();
    if (wait === undefined) return this.#write(this.#idle()!, request, body, attempt);
    return wait.then(() => {
      const c = this.#idle();
      if (c !== undefined) return this.#write(c, request, body, attempt);
      this.#d.gate.releaseFailed(); // the slot undici will take again
      return this.#fallback(request);
    });
  }

  #fallback(request: OrderRequest & { client_order_id: string }): Promise<WireOrder> {
    this.fellBack++;
    return this.#d.fallback(request);
  }

  #idle(): Connection | undefined {
    if (this.#closed) return undefined;
    for (const c of this.#conns) if (c.ready && c.inFlight === undefined) return c;
    return undefined;
  }

  /**
   * #write: IMPORTANT: the bytes go to the socket inside this call (the Promise executor runs
   * synchronously), so `post()` returns with the order on the wire.
   */
  #write(
    c: Connection,
    request: OrderRequest & { client_order_id: string },
    body: string,
    attempt: number,
  ): Promise<WireOrder> {
    const socket = c.socket!;
    return new Promise<WireOrder>((resolve, reject) => {
      const startedMs = this.#now();
      c.inFlight = {
        resolve,
        reject,
        startedMs,
        attempt,
        clientOrderId: request.client_order_id,
      };
      socket.write(`${this.#head}${Buffer.byteLength(body)}\r\n\r\n${body}`);
      this.written++;
      if (orderWrittenChannel.hasSubscribers) {
        orderWrittenChannel.publish({ clientOrderId: request.client_order_id });
      }
      // The idle timer is left running: it does nothing while an order is in flight, and the
      // answer re-arms it (a clearTimeout here cost a few µs on the order path).
      // One timer per connection, re-armed from each write and never cleared (a cleared
      // Timeout cannot be refreshed); it does nothing when the answer came first.
      if (c.answerTimer === undefined) {
        c.answerTimer = setTimeout(() => this.#answerTimedOut(c), this.#o.requestMs);
        c.answerTimer.unref();
      } else {
        c.answerTimer.refresh();
      }
    }).catch((err: unknown) => this.#afterFailure(request, body, err as Error));
  }

  /** #afterFailure: a 429 is tried again after the delay the broker asked for; else it throws. */
  async #afterFailure(
    request: OrderRequest & { client_order_id: string },
    body: string,
    err: Error,
  ): Promise<WireOrder> {
    const retry = (err as RetryAfter429).retry;
    if (retry === undefined) throw err;
    await this.#sleep(retry.delayMs);
    return this.#attempt(request, body, retry.attempt + 1);
  }

  #answerTimedOut(c: Connection): void {
    if (c.inFlight === undefined) return;
    const timeout = new Error(`no answer within ${this.#o.requestMs} ms`);
    timeout.name = "TimeoutError";
    this.#drop(c, timeout);
  }

  #open(c: Connection): void {
    if (this.#closed) return;
    const url = this.#url;
    const secure = url.protocol === "https:";
    const port = Number(url.port || (secure ? 443 : 80));
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const socket: Socket = secure
      ? tlsConnect({
          host,
          port,
          ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }),
          ALPNProtocols: ["http/1.1"],
          ...this.#o.tls,
        })
      : netConnect({ host, port });
    c.socket = socket;
    c.fault = undefined;
    c.parser.reset();
    socket.setNoDelay(true);
    const connectTimer = setTimeout(() => {
      c.fault = new Error(`order connection: not connected within ${this.#o.connectMs} ms`);
      socket.destroy();
    }, this.#o.connectMs);
    let opened = false;
    socket.once(secure ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      opened = true;
      c.ready = true;
      c.failures = 0;
      this.#armIdle(c);
    });
    socket.on("data", (chunk: Buffer) => this.#onData(c, chunk));
    socket.on("error", (err) => {
      if (c.fault === undefined) c.fault = err;
    });
    socket.on("end", () => {
      // The server half-closed: nothing more can arrive, so an order in flight is ambiguous.
      if (c.fault === undefined) c.fault = new Error("the broker closed the connection");
      socket.destroy();
    });
    socket.once("close", () => {
      clearTimeout(connectTimer);
      if (c.socket !== socket) return;
      c.ready = false;
      c.socket = undefined;
      clearTimeout(c.idleTimer);
      const pending = c.inFlight;
      c.inFlight = undefined;
      if (pending !== undefined) {
        this.#d.gate.releaseFailed();
        const cause =
          c.fault ?? Object.assign(new Error("connection closed"), { code: "ECONNRESET" });
        this.#publish(pending, { error: cause.message });
        pending.reject(networkError("POST", PATH, cause));
      }
      if (this.#closed) return;
      if (!opened) c.failures++;
      const delay =
        c.failures === 0 ? 0 : backoffDelay(c.failures - 1, this.#o.reconnectBackoff, this.#random);
      c.reconnectTimer = setTimeout(() => this.#open(c), delay);
    });
  }

  #onData(c: Connection, chunk: Buffer): void {
    if (c.inFlight === undefined) {
      this.#drop(c, unsolicited());
      return;
    }
    let answers: Http1Response[];
    try {
      answers = c.parser.feed(chunk);
    } catch (err) {
      this.#drop(c, err as Error);
      return;
    }
    for (const answer of answers) {
      const pending = c.inFlight;
      if (pending === undefined) {
        this.#drop(c, unsolicited());
        return;
      }
      c.inFlight = undefined;
      if (!this.#settle(pending, answer)) {
        this.#drop(c, new Error("an answer that was not the order's own"));
        return;
      }
      if (!answer.keepAlive) {
        c.fault = new Error("the broker asked to close the connection");
        c.socket?.destroy();
        return;
      }
      this.#armIdle(c, answer.headers.get("keep-alive"));
    }
    if (c.inFlight === undefined && !c.parser.idle) this.#drop(c, unsolicited());
  }

  /** #settle answers the order in flight; false when the connection can no longer be trusted. */
  #settle(pending: InFlight, answer: Http1Response): boolean {
    const header = (name: string) => answer.headers.get(name);
    this.#d.gate.release(parseRateLimitHeaders(header));
    const text = answer.body.toString("utf8");
    this.#publish(pending, { status: answer.status });
    if (answer.status >= 200 && answer.status < 300) {
      let order: WireOrder;
      try {
        order = JSON.parse(text) as WireOrder;
      } catch (err) {
        // The broker acted (2xx) but its answer is unreadable: resolve it by client_order_id.
        const cause = new TradepipeError(
          "TP_ERR_BROKER_PROTOCOL",
          `POST ${PATH} → HTTP ${answer.status} with a body that is not JSON: ${text.slice(0, 200)}`,
          { cause: err },
        );
        pending.reject(networkError("POST", PATH, cause));
        return false;
      }
      if (order?.client_order_id !== pending.clientOrderId) {
        // Not this order's answer (bytes the server had sent before the request was written):
        // never taken for it. The connection is dropped and the order resolved by its id.
        const cause = new TradepipeError(
          "TP_ERR_BROKER_PROTOCOL",
          `order connection: an answer for client_order_id ${JSON.stringify(order?.client_order_id)} ` +
            `arrived while ${pending.clientOrderId} was in flight`,
        );
        pending.reject(networkError("POST", PATH, cause));
        return false;
      }
      pending.resolve(order);
      return true;
    }
    if (answer.status === 408) {
      // A server closing an idle connection says 408 and closes; it may cross our request on
      // the wire, so whether the order was read is unknown: ambiguous, resolved by its id.
      const cause = Object.assign(new Error("HTTP 408 Request Timeout"), { code: "HTTP_408" });
      pending.reject(networkError("POST", PATH, cause));
      return false;
    }
    const error: Error = new BrokerHttpError("POST", PATH, answer.status, parseErrorBody(text));
    // A 429 was refused before any processing: safe to write again after the asked delay.
    if (answer.status === 429 && pending.attempt + 1 < this.#o.maxAttempts) {
      const delayMs =
        serverRetryDelay(header, this.#now()) ??
        backoffDelay(pending.attempt, this.#o.backoff, this.#random);
      (error as RetryAfter429).retry = { attempt: pending.attempt, delayMs };
    }
    pending.reject(error);
    return true;
  }

  /** #drop closes the connection for `why`; an order in flight fails as ambiguous. */
  #drop(c: Connection, why: Error): void {
    if (c.fault === undefined) c.fault = why;
    c.socket?.destroy();
  }

  #armIdle(c: Connection, keepAliveHint?: string): void {
    const m = keepAliveHint === undefined ? null : /timeout=(\d+)/i.exec(keepAliveHint);
    if (m !== null) {
      c.idleMs = Math.max(0, Math.min(this.#o.idleMs, Number(m[1]) * 1000 - KEEP_ALIVE_MARGIN_MS));
    }
    if (c.idleTimer !== undefined) clearTimeout(c.idleTimer);
    const socket = c.socket;
    c.idleTimer = setTimeout(() => {
      if (c.inFlight !== undefined || c.socket !== socket || socket === undefined) return;
      // Recycled before the server's idle timeout can close it under the next order.
      c.fault = new Error("recycled after idling");
      c.ready = false;
      socket.destroy();
    }, c.idleMs);
    c.idleTimer.unref();
  }

  #publish(pending: InFlight, extra: { status?: number; error?: string }): void {
    if (!requestChannel.hasSubscribers) return;
    const event: RequestEvent = {
      method: "POST",
      path: PATH,
      attempt: pending.attempt,
      durationMs: this.#now() - pending.startedMs,
      ...extra,
    };
    requestChannel.publish(event);
  }
}

interface RetryAfter429 extends Error {
  retry?: { attempt: number; delayMs: number };
}

function unsolicited(): Error {
  return new TradepipeError(
    "TP_ERR_BROKER_PROTOCOL",
    "order connection: bytes arrived with no request in flight (closed: never read as an answer)",
  );
}
