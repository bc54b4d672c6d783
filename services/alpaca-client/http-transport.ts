/**
 * HttpTransport sends one logical request to one Alpaca origin over an undici keep-alive Pool,
 * through the rate limiter, with retries only where they are safe:
 *  - any request that never left (connection refused / connect timeout) or drew a 429;
 *  - idempotent requests (GET, DELETE) on network errors and 5xx.
 * A non-idempotent request that may have reached the broker is never re-sent here; the error
 * goes up so the caller can resolve it (see order-submit.ts).
 */
import diagnostics from "node:diagnostics_channel";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { Pool } from "undici";
import { TradepipeError } from "../core/errors.ts";
import { backoffDelay, serverRetryDelay } from "./backoff.ts";
import {
  BrokerHttpError,
  classifyNetworkError,
  networkError,
  parseErrorBody,
} from "./broker-errors.ts";
import type { RestClientOptions } from "./config.ts";
import { LimiterGate } from "./limiter-gate.ts";
import { parseRateLimitHeaders } from "./rate-limiter.ts";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";
export type QueryValue = string | number | boolean | string[] | undefined;

export interface RequestSpec {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** idempotent: safe to repeat after an ambiguous failure (defaults: GET and DELETE). */
  idempotent?: boolean;
  timeouts?: { requestMs: number };
}

export interface HttpResult<T> {
  status: number;
  data: T;
}

/** RequestEvent is published on the `tradepipe.alpaca.request` diagnostics channel. */
export interface RequestEvent {
  method: HttpMethod;
  path: string;
  attempt: number;
  status?: number;
  error?: string;
  durationMs: number;
  retryInMs?: number;
}

export const requestChannel = diagnostics.channel("tradepipe.alpaca.request");

export interface TransportDeps {
  /** random is the jitter source (tests pass a seeded one). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** The largest response body read (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** tls: extra TLS options for https origins (a private CA in tests); system CAs otherwise. */
  tls?: TlsOptions;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HttpTransport {
  readonly origin: string;
  readonly gate: LimiterGate;
  readonly #pool: Pool;
  readonly #opts: RestClientOptions;
  readonly #headers: Record<string, string>;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #maxResponseBytes: number;

  constructor(
    origin: string,
    authHeaders: Record<string, string>,
    opts: RestClientOptions,
    deps: TransportDeps = {},
  ) {
    this.origin = new URL(origin).origin;
    this.#opts = opts;
    this.#headers = { ...authHeaders, "user-agent": opts.userAgent, accept: "application/json" };
    this.#random = deps.random ?? Math.random;
    this.#sleep = deps.sleep ?? defaultSleep;
    this.#now = deps.now ?? Date.now;
    this.#maxResponseBytes = deps.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.gate = new LimiterGate(
      {
        perMinute: opts.rateLimitPerMinute,
        ...(opts.rateLimitBurst !== undefined ? { burst: opts.rateLimitBurst } : {}),
      },
      this.#now,
    );
    this.#pool = new Pool(this.origin, {
      connections: opts.connections,
      keepAliveTimeout: opts.keepAliveMs,
      connectTimeout: opts.timeouts.connectMs,
      headersTimeout: opts.timeouts.requestMs,
      bodyTimeout: opts.timeouts.requestMs,
      ...(deps.tls !== undefined ? { connect: deps.tls } : {}),
    });
  }

  /** request runs the retry policy above and returns the parsed 2xx body. */
  async request<T>(spec: RequestSpec): Promise<HttpResult<T>> {
    const idempotent = spec.idempotent ?? (spec.method === "GET" || spec.method === "DELETE");
    const max = Math.max(1, this.#opts.maxAttempts);
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      let status: number;
      let text: string;
      let header: (name: string) => string | undefined;
      try {
        ({ status, text, header } = await this.#sendOnce(spec));
      } catch (err) {
        const wrapped =
          err instanceof TradepipeError ? err : networkError(spec.method, spec.path, err);
        const safe = idempotent || classifyNetworkError(err) === "notSent";
        const retryIn = safe && attempt + 1 < max ? this.#backoff(attempt) : undefined;
        this.#publish(spec, attempt, started, { error: wrapped.message, retryInMs: retryIn });
        if (retryIn === undefined) throw wrapped;
        await this.#sleep(retryIn);
        continue;
      }
      if (status >= 200 && status < 300) {
        this.#publish(spec, attempt, started, { status });
        return { status, data: parseBody<T>(spec, status, text) };
      }
      const error = new BrokerHttpError(spec.method, spec.path, status, parseErrorBody(text));
      // A 429 was refused before any processing: safe to repeat for every method.
      const retryable = status === 429 || (status >= 500 && idempotent);
      let retryIn: number | undefined;
      if (retryable && attempt + 1 < max) {
        retryIn = serverRetryDelay(header, this.#now()) ?? this.#backoff(attempt);
      }
      this.#publish(spec, attempt, started, { status, retryInMs: retryIn });
      if (retryIn === undefined) throw error;
      await this.#sleep(retryIn);
    }
  }

  async close(): Promise<void> {
    this.gate.close();
    await this.#pool.close();
  }

  async #sendOnce(spec: RequestSpec) {
    const wait = this.gate.acquire();
    if (wait !== undefined) await wait;
    let released = false;
    try {
      const { requestMs } = spec.timeouts ?? this.#opts.timeouts;
      const hasBody = spec.body !== undefined;
      const res = await this.#pool.request({
        method: spec.method,
        path: spec.path + encodeQuery(spec.query),
        headers: hasBody ? { ...this.#headers, "content-type": "application/json" } : this.#headers,
        body: hasBody ? JSON.stringify(spec.body) : null,
        headersTimeout: requestMs,
        bodyTimeout: requestMs,
        // undici's parser timers can fire late or not at all under a second; this one will not.
        signal: AbortSignal.timeout(requestMs),
      });
      const header = (name: string) => {
        const v = res.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      this.gate.release(parseRateLimitHeaders(header));
      released = true;
      const text = await readCapped(res.body, this.#maxResponseBytes, spec);
      return { status: res.statusCode, text, header };
    } finally {
      if (!released) this.gate.releaseFailed();
    }
  }

  #backoff(attempt: number): number {
    return backoffDelay(attempt, this.#opts.backoff, this.#random);
  }

  #publish(
    spec: RequestSpec,
    attempt: number,
    started: number,
    extra: { status?: number; error?: string; retryInMs?: number | undefined },
  ): void {
    if (!requestChannel.hasSubscribers) return;
    const event: RequestEvent = {
      method: spec.method,
      path: spec.path,
      attempt,
      durationMs: performance.now() - started,
    };
    if (extra.status !== undefined) event.status = extra.status;
    if (extra.error !== undefined) event.error = extra.error;
    if (extra.retryInMs !== undefined) event.retryInMs = extra.retryInMs;
    requestChannel.publish(event);
  }
}

/**
 * MAX_RESPONSE_BYTES bounds one response body. Alpaca's largest answers (a page of bars or of
 * orders) stay far below it; a body that grows past it is a fault or an attack on our memory.
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown },
  maxBytes: number,
  spec: RequestSpec,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new TradepipeError(
        "TP_ERR_BROKER_HTTP",
        `${spec.method} ${spec.path}: response body over ${maxBytes} bytes, refused`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody<T>(spec: RequestSpec, status: number, text: string): T {
  if (text.length === 0) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new TradepipeError(
      "TP_ERR_BROKER_HTTP",
      `${spec.method} ${spec.path} → HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
      { cause: err },
    );
  }
}

/** encodeQuery builds "?a=1&b=x,y" (lists comma-joined, as Alpaca expects); "" when empty. */
export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    params.append(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = params.toString();
  return text.length > 0 ? `?${text}` : "";
}

/**
 * mayHaveReachedBroker says whether a failed request could have been acted on by the broker:
 * a timeout or reset after sending, or a 5xx. (A 4xx, or a connection never made, could not.)
 */
export function mayHaveReachedBroker(err: unknown): boolean {
  if (err instanceof BrokerHttpError) return err.status >= 500;
  if (err instanceof TradepipeError) {
    if (err.code !== "TP_ERR_BROKER_TIMEOUT" && err.code !== "TP_ERR_BROKER_NETWORK") return false;
    return classifyNetworkError(err.cause) === "maybeSent";
  }
  return true;
}
