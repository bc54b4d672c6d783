/**
 * kept-streams: the broker's WebSocket streams (trade_updates, market data) belong to the stage
 * PROCESS, not to one term of a stage's leadership. A stage whose database goes away loses its
 * leadership and is stopped; when the database is back a new term starts the stage afresh. If
 * each term opened its own streams, every outage would close and reopen them: a burst of
 * reconnects at the broker (Alpaca allows one trade stream per account and limits data
 * connections), and a gap in market data on the way back.
 *
 * So the host keeps them: a stage asks for a stream with its handlers and gets a handle whose
 * `close()` only detaches them. The connection stays, and while no stage is attached:
 * - trade updates are buffered (bounded: the oldest dropped beyond `maxBufferedTradeUpdates`,
 *   counted) and handed to the next term in order, after its `onReady` — they must reach the
 *   database; the next term also resolves every unfinished order with the broker, so a dropped
 *   one is found again;
 * - market-data records are dropped (a stale quote is of no use, and the next term's readiness
 *   waits for live data).
 * A handle attached to a stream that is already live gets `onReady` at once (on a microtask),
 * as after a connect, so a stage's start-up path is the same either way.
 */
import {
  type AlpacaEndpoints,
  type Credentials,
  type MarketDataHandlers,
  MarketDataStream,
  type StreamOptions,
  type TradeUpdateHandlers,
  TradeUpdatesStream,
  type WireTradeUpdate,
} from "../alpaca-client/index.ts";

export interface KeptStreamConfig {
  endpoints: AlpacaEndpoints;
  credentials: Credentials;
  streams?: Partial<StreamOptions>;
  marketDataCodec?: "json" | "msgpack";
}

/** The part of a TradeUpdatesStream a stage uses. */
export interface TradeUpdatesHandle {
  readonly state: TradeUpdatesStream["state"];
  start(): void;
  reconnect(reason?: string): void;
  /** Detaches this stage's handlers; the connection stays for the next term. */
  close(): Promise<void>;
}

/** The part of a MarketDataStream a stage uses. */
export interface MarketDataHandle {
  readonly state: MarketDataStream["state"];
  start(): void;
  subscribe(channels: Parameters<MarketDataStream["subscribe"]>[0]): void;
  unsubscribe(channels: Parameters<MarketDataStream["unsubscribe"]>[0]): void;
  reconnect(reason?: string): void;
  close(): Promise<void>;
}

export interface KeptStreams {
  tradeUpdates(cfg: KeptStreamConfig, handlers: TradeUpdateHandlers): TradeUpdatesHandle;
  marketData(cfg: KeptStreamConfig, handlers: MarketDataHandlers): MarketDataHandle;
  /** Trade updates dropped while no stage was attached (the buffer was full). */
  droppedTradeUpdates(): number;
  /** Closes every connection (the process ends). */
  close(): Promise<void>;
}

interface KeptTrade {
  stream: TradeUpdatesStream;
  attached: TradeUpdateHandlers | undefined;
  buffered: WireTradeUpdate[];
  ready: { connection: number } | undefined;
  started: boolean;
}

interface KeptData {
  stream: MarketDataStream;
  attached: MarketDataHandlers | undefined;
  ready: Parameters<NonNullable<MarketDataHandlers["onReady"]>>[0] | undefined;
  started: boolean;
}

export const KEPT_STREAM_SETTINGS = { maxBufferedTradeUpdates: 10_000 };

export function createKeptStreams(settings = KEPT_STREAM_SETTINGS): KeptStreams {
  const closers: Array<() => Promise<void>> = [];
  let dropped = 0;

  let trade: KeptTrade | undefined;
  let data: KeptData | undefined;

  return {
    tradeUpdates(cfg, handlers) {
      if (!trade) {
        const t: KeptTrade = {
          attached: undefined,
          buffered: [],
          ready: undefined,
          started: false,
          stream: new TradeUpdatesStream({
            url: cfg.endpoints.tradeStreamUrl,
            credentials: cfg.credentials,
            options: cfg.streams ?? {},
            handlers: {
              onTradeUpdate(u) {
                if (t.attached) return t.attached.onTradeUpdate(u);
                t.buffered.push(u);
                if (t.buffered.length > settings.maxBufferedTradeUpdates) {
                  t.buffered.shift();
                  dropped++;
                }
              },
              onReady(info) {
                t.ready = info;
                t.attached?.onReady?.(info);
              },
              onDisconnect(reason, retryInMs) {
                t.ready = undefined;
                t.attached?.onDisconnect?.(reason, retryInMs);
              },
              onError(err) {
                t.attached?.onError?.(err);
              },
            },
          }),
        };
        trade = t;
        closers.push(() => t.stream.close());
      }
      const t = trade;
      t.attached = handlers;
      let mine = true;
      return {
        get state() {
          return t.stream.state;
        },
        start() {
          if (!t.started) {
            t.started = true;
            t.stream.start();
            return;
          }
          // Already live: this term starts as after a connect, then gets what arrived meanwhile.
          queueMicrotask(() => {
            if (!mine || t.attached !== handlers) return;
            if (t.ready) handlers.onReady?.({ connection: t.ready.connection, reconnected: false });
            for (const u of t.buffered.splice(0)) handlers.onTradeUpdate(u);
          });
        },
        reconnect: (reason) => t.stream.reconnect(reason),
        async close() {
          mine = false;
          if (t.attached === handlers) t.attached = undefined;
        },
      };
    },

    marketData(cfg, handlers) {
      if (!data) {
        const d: KeptData = {
          attached: undefined,
          ready: undefined,
          started: false,
          stream: new MarketDataStream({
            url: cfg.endpoints.marketDataStreamUrl,
            credentials: cfg.credentials,
            codec: cfg.marketDataCodec ?? "msgpack",
            options: cfg.streams ?? {},
            handlers: forwardMarketData(() => d.attached, {
              onReady(info) {
                d.ready = info;
              },
              onDisconnect() {
                d.ready = undefined;
              },
            }),
          }),
        };
        data = d;
        closers.push(() => d.stream.close());
      }
      const d = data;
      d.attached = handlers;
      let mine = true;
      return {
        get state() {
          return d.stream.state;
        },
        start() {
          if (!d.started) {
            d.started = true;
            d.stream.start();
            return;
          }
          queueMicrotask(() => {
            if (mine && d.attached === handlers && d.ready) handlers.onReady?.(d.ready);
          });
        },
        subscribe: (channels) => d.stream.subscribe(channels),
        unsubscribe: (channels) => d.stream.unsubscribe(channels),
        reconnect: (reason) => d.stream.reconnect(reason),
        async close() {
          mine = false;
          if (d.attached === handlers) d.attached = undefined;
        },
      };
    },

    droppedTradeUpdates: () => dropped,

    async close() {
      await Promise.all(closers.splice(0).map((c) => c().catch(() => {})));
      trade = undefined;
      data = undefined;
    },
  };
}

/**
 * forwardMarketData: handlers that pass every call to the attached stage's handlers (none
 * attached: dropped), after the keeper's own bookkeeping for onReady/onDisconnect.
 */
function forwardMarketData(
  attached: () => MarketDataHandlers | undefined,
  own: Pick<MarketDataHandlers, "onReady" | "onDisconnect">,
): MarketDataHandlers {
  return {
    onRecord: (r) => attached()?.onRecord?.(r),
    onTrade: (x) => attached()?.onTrade?.(x),
    onQuote: (x) => attached()?.onQuote?.(x),
    onBar: (x, kind) => attached()?.onBar?.(x, kind),
    onOrderBook: (x) => attached()?.onOrderBook?.(x),
    onStatus: (x) => attached()?.onStatus?.(x),
    onError: (err) => attached()?.onError?.(err),
    onReady(info) {
      own.onReady?.(info);
      attached()?.onReady?.(info);
    },
    onDisconnect(reason, retryInMs) {
      own.onDisconnect?.(reason, retryInMs);
      attached()?.onDisconnect?.(reason, retryInMs);
    },
  };
}
