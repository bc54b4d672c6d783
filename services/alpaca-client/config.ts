/**
 * Endpoints and tunables of the Alpaca client. Paper trading is the default; live must be asked
 * for by name. Credentials are never part of this config (see credentials.ts).
 */
import { TradepipeError } from "../core/errors.ts";
import type { BackoffOptions } from "./backoff.ts";
import { DEFAULT_RECONNECT_BACKOFF, DEFAULT_REQUEST_BACKOFF } from "./backoff.ts";
import { DEFAULT_PER_MINUTE } from "./rate-limiter.ts";

export interface AlpacaEndpoints {
  /** tradingUrl is the Trading API origin (paths /v2/...). */
  tradingUrl: string;
  /** dataUrl is the Market Data API origin (historical bars/trades/quotes). */
  dataUrl: string;
  /** tradeStreamUrl is the trade_updates WebSocket. */
  tradeStreamUrl: string;
  /** marketDataStreamUrl is the market-data WebSocket including the feed, e.g. .../v2/iex. */
  marketDataStreamUrl: string;
}

export const PAPER_ENDPOINTS: AlpacaEndpoints = {
  tradingUrl: "https://paper-api.alpaca.markets",
  dataUrl: "https://data.alpaca.markets",
  tradeStreamUrl: "wss://paper-api.alpaca.markets/stream",
  marketDataStreamUrl: "wss://stream.data.alpaca.markets/v2/iex",
};

export const LIVE_ENDPOINTS: AlpacaEndpoints = {
  tradingUrl: "https://api.alpaca.markets",
  dataUrl: "https://data.alpaca.markets",
  tradeStreamUrl: "wss://api.alpaca.markets/stream",
  marketDataStreamUrl: "wss://stream.data.alpaca.markets/v2/sip",
};

export interface TimeoutOptions {
  /** connectMs bounds TCP/TLS connection setup (pool-wide). */
  connectMs: number;
  /**
   * requestMs bounds one attempt end to end (send, the broker's think time, the whole body).
   * It is enforced with an AbortSignal, not undici's parser timers, so it holds to the ms.
   */
  requestMs: number;
}

export interface RestClientOptions {
  timeouts: TimeoutOptions;
  /** orderTimeouts apply to order POST/PATCH, where a slow answer must be resolved fast. */
  orderTimeouts: { requestMs: number };
  /** connections is the keep-alive pool size per origin. */
  connections: number;
  keepAliveMs: number;
  /** maxAttempts bounds attempts per request (first try included). */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** rateLimitPerMinute is our own ceiling (execution.maxOrdersPerMinute in the spec). */
  rateLimitPerMinute: number;
  rateLimitBurst?: number;
  /** userAgent is sent on every request. */
  userAgent: string;
  /**
   * orderConnections: dedicated kept-alive connections for `POST /v2/orders`, written in the
   * caller's synchronous run (order-connection.ts); 0 sends orders through undici like the rest.
   */
  orderConnections: number;
}

export const DEFAULT_REST_OPTIONS: RestClientOptions = {
  timeouts: { connectMs: 5_000, requestMs: 10_000 },
  orderTimeouts: { requestMs: 5_000 },
  connections: 8,
  keepAliveMs: 60_000,
  maxAttempts: 4,
  backoff: DEFAULT_REQUEST_BACKOFF,
  rateLimitPerMinute: DEFAULT_PER_MINUTE,
  userAgent: "tradepipe-alpaca-client/0.1",
  orderConnections: 0,
};

export interface StreamOptions {
  /** stallTimeoutMs: reconnect when no data arrived for this long (0 disables). */
  stallTimeoutMs: number;
  reconnectBackoff: BackoffOptions;
  /** handshakeTimeoutMs bounds connect + auth + subscribe. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  stallTimeoutMs: 60_000,
  reconnectBackoff: DEFAULT_RECONNECT_BACKOFF,
  handshakeTimeoutMs: 10_000,
};

/** endpointsFor picks paper (default) or live, with per-URL overrides (e.g. the simulator). */
export function endpointsFor(
  mode: "paper" | "live" = "paper",
  overrides: Partial<AlpacaEndpoints> = {},
): AlpacaEndpoints {
  const base = mode === "live" ? LIVE_ENDPOINTS : PAPER_ENDPOINTS;
  const out = { ...base, ...stripUndefined(overrides) };
  for (const [key, value] of Object.entries(out)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `alpaca.${key}: not a URL: ${JSON.stringify(value)}`,
      );
    }
    const wantWs = key.endsWith("StreamUrl");
    const okProtocols = wantWs ? ["ws:", "wss:"] : ["http:", "https:"];
    if (!okProtocols.includes(url.protocol)) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `alpaca.${key}: expected ${okProtocols.join(" or ")} URL, got ${JSON.stringify(value)}`,
      );
    }
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
