/**
 * market-data stage shell: the feed's WebSocket (through the Alpaca client) → MarketDataCore →
 * the bus. It subscribes to quotes, trades and (on the simulator, which serves it) the L2
 * `orderbooks` channel for the spec's symbols, publishes what the core says to publish, carries
 * out the core's resync commands by re-subscribing a symbol's book (the feed answers with a
 * fresh snapshot), publishes `bus.heartbeat` every second and watches the feed for silence.
 *
 * The hot path (one feed record) is: decode → core.apply → encode + publish, with no promise
 * and no clock read except one per feed frame (the origin time below) and around the book update
 * for its latency histogram.
 *
 * Origin time: every message published carries, as `origin_time_ns`, the wall-clock time the
 * stage read the WebSocket frame its record came in. The stream hands over a frame's records one
 * by one, synchronously (and the frames of one socket read back to back), so the clock is read at
 * the first record and kept until the microtask queue runs, after the last: a later record is
 * stamped with the time its data was read, not the time its turn came, so what it waited behind
 * the records before it (in the fused pipeline, their whole tick → order path) counts in its
 * latency.
 */
import { create } from "@bufbuild/protobuf";
import {
  createAlpacaClient,
  type MarketDataHandlers,
  type WireRecord,
} from "../alpaca-client/index.ts";
import { Topics } from "../core/bus/topics.ts";
import { publishMessage } from "../core/bus/typed.ts";
import { HeartbeatSchema, newHeader } from "../core/messages/index.ts";
import type { RunningStage, StageContext, StageDefinition } from "../pipeline/context.ts";
import { type BookApplied, mdBookAppliedChannel, mdRecordChannel } from "./channels.ts";
import { decodeAlpacaMarketData } from "./core/alpaca-decode.ts";
import type { ResyncReason } from "./core/events.ts";
import { MarketDataCore } from "./core/market-data-core.ts";
import { FeedWatch } from "./feed-watch.ts";
import { marketDataMetrics } from "./metrics.ts";
import { MarketDataPublisher, SOURCE } from "./publisher.ts";

/** Tunables of the shell; the defaults are what `tradepipe run` uses. */
export const MARKET_DATA_SETTINGS = {
  /** Levels kept per book side by the core, and published in a snapshot. */
  bookDepth: 50,
  snapshotDepth: 20,
  /** How often the heartbeat is published and the feed checked. */
  heartbeatMs: 1_000,
  /** The feed is stale (the stage not ready) after this much silence. */
  feedStaleAfterMs: 10_000,
  /** No frame for this long: drop the connection and reconnect. */
  reconnectAfterMs: 60_000,
  /** A symbol is stale when its last event lags the feed's newest event by this much. */
  symbolStaleAfterMs: 30_000,
  /** A resync that produced no snapshot is requested again after this long. */
  resyncRetryMs: 5_000,
  /** start() returns once the stream is subscribed, or after this long without it. */
  startWaitMs: 10_000,
};

const MS = 1_000_000n;

export const stage: StageDefinition = {
  name: "market-data",
  async start(ctx: StageContext): Promise<RunningStage> {
    const cfg = { ...MARKET_DATA_SETTINGS };
    const { log, bus } = ctx;
    const symbols = [...ctx.pipeline.spec.symbols];
    const metrics = marketDataMetrics(ctx.metrics);
    const core = new MarketDataCore({ depth: cfg.bookDepth });
    const publisher = new MarketDataPublisher(bus, {
      tracing: Boolean(ctx.pipeline.spec.observability.otlpEndpoint),
      snapshotDepth: cfg.snapshotDepth,
    });
    const watch = new FeedWatch(ctx.nowNs(), {
      staleAfterNs: BigInt(cfg.feedStaleAfterMs) * MS,
      // The Alpaca client cannot send a ping on this stream, so silence goes straight to a reconnect.
      policy: {
        pingAfterNs: BigInt(cfg.reconnectAfterMs) * MS,
        reconnectAfterNs: BigInt(cfg.reconnectAfterMs) * MS,
      },
    });
    // The simulator serves L2 books; Alpaca's stock feeds have no order-book channel.
    const books = ctx.broker.kind === "simulator";
    const resyncRequested = new Map<string, number>();
    let newestEventNs = 0n;
    let invalidLogged = false;
    /** The wall-clock time the current feed frame was read; 0 between frames. */
    let frameReadNs = 0n;
    const frameDone = () => {
      frameReadNs = 0n;
    };
    const applied: BookApplied = { symbol: "", ns: 0 };
    // `tradepipe run --record DIR`: every decoded quote and trade as received (loaded only then).
    const recorder =
      ctx.recordDir === undefined
        ? undefined
        : (await import("../backtest/recording.ts")).marketRecorderFor(ctx.recordDir);

    ctx.readiness.declare("md-feed");
    const client = createAlpacaClient({
      endpoints: ctx.broker.endpoints,
      credentials: ctx.broker.credentials,
      streams: { stallTimeoutMs: 0 },
    });

    const requestResync = (symbol: string, reason: ResyncReason | "retry") => {
      metrics.resyncs.labels(reason).inc();
      resyncRequested.set(symbol, Date.now());
      log.warn({ symbol, reason }, "book needs a fresh snapshot: re-subscribing its order book");
      stream.unsubscribe({ orderbooks: [symbol] });
      stream.subscribe({ orderbooks: [symbol] });
    };

    const onRecord = (record: WireRecord) => {
      if (frameReadNs === 0n) {
        frameReadNs = ctx.nowNs();
        queueMicrotask(frameDone);
      }
      watch.frames++;
      if (mdRecordChannel.hasSubscribers) mdRecordChannel.publish(record);
      let ev: ReturnType<typeof decodeAlpacaMarketData>;
      try {
        ev = decodeAlpacaMarketData(record);
      } catch (err) {
        metrics.invalid.inc();
        if (!invalidLogged) {
          invalidLogged = true;
          log.warn(
            { err: (err as Error).message },
            "invalid market-data record (counted, dropped)",
          );
        }
        return;
      }
      if (ev === undefined) {
        metrics.inOther.inc();
        return;
      }
      if (ev.timeNs > newestEventNs) newestEventNs = ev.timeNs;
      recorder?.record(ev, frameReadNs);
      let t0 = 0n;
      if (ev.type === "book") {
        metrics.inBook.inc();
        t0 = process.hrtime.bigint();
      } else if (ev.type === "quote") {
        metrics.inQuote.inc();
      } else {
        metrics.inTrade.inc();
      }
      const outputs = core.apply(ev);
      if (ev.type === "book") {
        const ns = Number(process.hrtime.bigint() - t0);
        metrics.bookUpdate.observe(ns / 1e9);
        if (mdBookAppliedChannel.hasSubscribers) {
          applied.symbol = ev.symbol;
          applied.ns = ns;
          mdBookAppliedChannel.publish(applied);
        }
      }
      // IMPORTANT: outputs are reused by the next apply; publish each before anything else.
      for (let i = 0; i < outputs.length; i++) {
        const out = outputs[i]!;
        switch (out.type) {
          case "quote":
            publisher.quote(out.quote, ev.timeNs, frameReadNs);
            metrics.outQuote.inc();
            break;
          case "trade":
            publisher.trade(out.quote, ev.timeNs, frameReadNs);
            metrics.outTrade.inc();
            break;
          case "book":
            if (out.snapshot) {
              resyncRequested.delete(out.symbol);
              publisher.bookSnapshot(out.book, ev.timeNs, frameReadNs);
              metrics.outSnapshot.inc();
            } else if (ev.type === "book") {
              publisher.bookDelta(ev, frameReadNs);
              metrics.outDelta.inc();
            }
            break;
          case "quote-rejected":
            metrics.quotesRejected.inc();
            break;
          case "resync-needed":
            requestResync(out.symbol, out.reason);
            break;
        }
      }
    };

    let live: () => void = () => {};
    const firstLive = new Promise<void>((resolve) => {
      live = resolve;
    });
    // The process's kept stream when there is one: it stays open through a database outage.
    const openMarketData = (handlers: MarketDataHandlers) =>
      ctx.streams
        ? ctx.streams.marketData(
            {
              endpoints: ctx.broker.endpoints,
              credentials: ctx.broker.credentials,
              streams: { stallTimeoutMs: 0 },
            },
            handlers,
          )
        : client.marketData(handlers);
    const stream = openMarketData({
      onRecord,
      onReady: ({ connection, subscription }) => {
        live();
        watch.restart(ctx.nowNs());
        ctx.readiness.set("md-feed", true);
        log.info({ connection, subscription }, "market-data stream live");
        ctx.report({ detail: `feed live (connection ${connection})` });
      },
      onDisconnect: (reason, retryInMs) => {
        metrics.disconnects.inc();
        ctx.readiness.set("md-feed", false, `feed disconnected: ${reason}`);
        log.warn({ reason, retryInMs }, "market-data stream disconnected");
        ctx.report({ detail: `feed disconnected: ${reason}` });
      },
      onError: (err) => log.warn({ err: err.message }, "market-data stream error"),
    });
    stream.subscribe({
      quotes: symbols,
      trades: symbols,
      ...(books ? { orderbooks: symbols } : {}),
    });
    stream.start();

    const heartbeat = setInterval(() => {
      const now = ctx.nowNs();
      publishMessage(
        bus,
        Topics.heartbeat,
        HeartbeatSchema,
        create(HeartbeatSchema, { header: newHeader(SOURCE, now) }),
      );
      const feed = watch.check(now);
      if (feed.action === "reconnect") {
        log.warn({ silenceMs: Number(feed.silenceNs / MS) }, "feed silent: reconnecting");
        stream.reconnect("feed silent");
      }
      if (stream.state === "ready") {
        ctx.readiness.set(
          "md-feed",
          feed.fresh,
          `feed stale: no data for ${Number(feed.silenceNs / MS)} ms`,
        );
      }
      const stale = core.staleSymbols(newestEventNs, BigInt(cfg.symbolStaleAfterMs) * MS);
      metrics.staleSymbols.set(stale.length);
      const waiting = core.symbolsNeedingResync();
      metrics.booksResyncing.set(waiting.length);
      const wall = Date.now();
      for (const symbol of waiting) {
        const at = resyncRequested.get(symbol);
        if (at === undefined || wall - at >= cfg.resyncRetryMs) requestResync(symbol, "retry");
      }
    }, cfg.heartbeatMs);
    heartbeat.unref();

    // Started means subscribed: the stages after this one see the feed from here on. A feed that
    // is down does not hold the start; readiness says so until it is live.
    const startWait = setTimeout(live, cfg.startWaitMs);
    await firstLive;
    clearTimeout(startWait);
    log.info({ symbols, books, url: ctx.broker.endpoints.marketDataStreamUrl }, "market-data up");
    return {
      async stop() {
        clearInterval(heartbeat);
        // The recording first: a stop has a few seconds before SIGKILL, and closing the
        // socket can take some of them.
        if (recorder !== undefined && ctx.recordDir !== undefined) {
          const { files } = recorder.write(ctx.recordDir, {
            pipeline: ctx.pipeline.metadata.name,
            symbols,
          });
          log.info({ dir: ctx.recordDir, files }, "recording written");
        }
        await stream.close();
        await client.close();
      },
    };
  },
};
