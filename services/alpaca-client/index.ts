/**
 * The Alpaca client the product uses: REST (trading + historical data) over undici with safe
 * retries and a rate limiter, and the trade_updates and market-data streams over ws.
 * See README.md for the rules it keeps.
 */
import type { AlpacaEndpoints, RestClientOptions, StreamOptions } from "./config.ts";
import type { Credentials } from "./credentials.ts";
import { AlpacaHistoricalClient } from "./historical-client.ts";
import { type MarketDataHandlers, MarketDataStream } from "./market-data-stream.ts";
import { type TradeUpdateHandlers, TradeUpdatesStream } from "./trade-updates-stream.ts";
import { AlpacaTradingClient } from "./trading-client.ts";

export * from "./broker.ts";
export {
  ALPACA_CODE_DUPLICATE_CLIENT_ORDER_ID,
  BrokerHttpError,
  isDuplicateClientOrderId,
} from "./broker-errors.ts";
export * from "./config.ts";
export { Credentials, loadCredentials } from "./credentials.ts";
export * from "./domain.ts";
export { AlpacaHistoricalClient } from "./historical-client.ts";
export { mayHaveReachedBroker, requestChannel } from "./http-transport.ts";
export * from "./market-data.ts";
export * from "./market-data-frames.ts";
export * from "./market-data-stream.ts";
export {
  classifySendFailure,
  orderResolutionChannel,
  type SendFailure,
  type SubmitOutcome,
  type SubmitResult,
} from "./order-submit.ts";
export { RateLimiter } from "./rate-limiter.ts";
export { nsToRfc3339, rfc3339ToNs } from "./timestamps.ts";
export * from "./trade-updates-stream.ts";
export { AlpacaTradingClient } from "./trading-client.ts";
export type * from "./wire-types.ts";
export { FINAL_ORDER_STATUSES } from "./wire-types.ts";

export interface AlpacaClientConfig {
  endpoints: AlpacaEndpoints;
  credentials: Credentials;
  rest?: Partial<RestClientOptions>;
  streams?: Partial<StreamOptions>;
  /** codec of the market-data stream (default msgpack, as Alpaca's own SDKs use). */
  marketDataCodec?: "json" | "msgpack";
}

/** AlpacaClient bundles the REST clients and builds streams for one account. */
export interface AlpacaClient {
  trading: AlpacaTradingClient;
  historical: AlpacaHistoricalClient;
  tradeUpdates(handlers: TradeUpdateHandlers): TradeUpdatesStream;
  marketData(handlers: MarketDataHandlers): MarketDataStream;
  close(): Promise<void>;
}

/** createAlpacaClient wires the clients for `config` (streams are started by the caller). */
export function createAlpacaClient(config: AlpacaClientConfig): AlpacaClient {
  const { endpoints, credentials } = config;
  const rest = config.rest ?? {};
  const trading = new AlpacaTradingClient({
    tradingUrl: endpoints.tradingUrl,
    credentials,
    options: rest,
  });
  const historical = new AlpacaHistoricalClient({
    dataUrl: endpoints.dataUrl,
    credentials,
    options: rest,
  });
  const streams: Array<{ close(): Promise<void> }> = [];
  const streamOptions = config.streams ?? {};
  return {
    trading,
    historical,
    tradeUpdates(handlers) {
      const s = new TradeUpdatesStream({
        url: endpoints.tradeStreamUrl,
        credentials,
        options: streamOptions,
        handlers,
      });
      streams.push(s);
      return s;
    },
    marketData(handlers) {
      const s = new MarketDataStream({
        url: endpoints.marketDataStreamUrl,
        credentials,
        codec: config.marketDataCodec ?? "msgpack",
        options: streamOptions,
        handlers,
      });
      streams.push(s);
      return s;
    },
    async close() {
      await Promise.all([...streams.map((s) => s.close()), trading.close(), historical.close()]);
    },
  };
}
