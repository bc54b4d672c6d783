/**
 * signal-bridge stage shell: `md.quote/<SYM>` for the spec's symbols → SignalBridgeCore (one
 * SymbolSignal per symbol) → the ONNX model, only on ticks where the core says it can change the
 * outcome → `signal/<SYM>` TradingSignals for BUY and SELL decisions.
 *
 * Ticks are processed strictly in arrival order. With the synchronous native model call (the
 * normal case, see model-scorer.ts) a quote is handled to the end inside its bus delivery; with
 * the asynchronous fallback, quotes that arrive while the model runs wait in a queue, which keeps
 * the core's calls serialized and the output the same as the synchronous path's.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { Topics, topic } from "../core/bus/topics.ts";
import type { StrategySpec } from "../core/spec/index.ts";
import { type QuoteFields, subscribeQuotes } from "../market-data/quote-wire.ts";
import type { RunningStage, StageContext, StageDefinition } from "../pipeline/context.ts";
import { type SignalTiming, sbTimingChannel } from "./channels.ts";
import type { SignalParams } from "./core/params.ts";
import { SignalBridgeCore } from "./core/signal-bridge-core.ts";
import type { SymbolSignal, TopOfBook } from "./core/symbol-signal.ts";
import { signalBridgeMetrics } from "./metrics.ts";
import { loadModelScorer, resolveModelPath } from "./model-scorer.ts";
import { fillSignal, indicatorNames, newSignalFields, SignalIds } from "./signal-message.ts";
import { encodeSignal } from "./signal-wire.ts";

/** signalParamsOf maps the spec's strategy section onto the core's parameters. */
export function signalParamsOf(s: StrategySpec): SignalParams {
  return {
    rsiPeriod: s.rsiPeriod,
    rsiOverbought: s.rsiOverbought,
    rsiOversold: s.rsiOversold,
    macdFast: s.macdFast,
    macdSlow: s.macdSlow,
    macdSignal: s.macdSignal,
    bollingerPeriod: s.bollingerPeriod,
    bollingerStdDev: s.bollingerStdDev,
    minConfidence: s.minConfidence,
  };
}

/** Tunables of the shell. */
export const SIGNAL_BRIDGE_SETTINGS = {
  /**
   * Run the model on the last features this often between ticks (0: never), so the scored tick
   * finds the runtime's code and data in the CPU caches. Measured here: a scored tick's model call
   * took ~140 µs p50 cold (first ONNX call after the process did other work) and ~42 µs with a
   * 1 ms keep-warm, for about one model call per millisecond of CPU (~1% of a core). Only with
   * the synchronous native session, whose output the stage reads before anything else runs.
   */
  modelKeepWarmMs: 1,
};

export const stage: StageDefinition = {
  name: "signal-bridge",
  async start(ctx: StageContext): Promise<RunningStage> {
    const { bus, log } = ctx;
    const strategy = ctx.pipeline.spec.strategy;
    const core = new SignalBridgeCore(signalParamsOf(strategy));
    const names = indicatorNames(core.params);
    const modelPath = resolveModelPath(strategy.modelRef);
    const scorer = await loadModelScorer(modelPath);
    const model = `${basename(modelPath, ".onnx")}@${createHash("sha256")
      .update(readFileSync(modelPath))
      .digest("hex")
      .slice(0, 12)}`;
    const metrics = signalBridgeMetrics(ctx.metrics);
    const ids = new SignalIds();
    const signalOut = newSignalFields(names, model);
    const top: TopOfBook = { bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0 };
    const timing: SignalTiming = { symbol: "", indicatorsNs: 0, inferenceNs: -1 };
    const signalTopics = new Map<string, string>();
    let signals = 0;
    let busy = false;
    const pending: QuoteFields[] = [];
    let invalidLogged = false;
    let stopped = false;
    /** A real model call since the keep-warm timer last fired: no need to warm this time. */
    let scoredSinceWarm = false;

    const publish = (q: QuoteFields, sig: SymbolSignal, score: number | undefined) => {
      const d = sig.decide(score);
      if (d.action === "HOLD") {
        metrics.holds.labels(d.reason).inc();
        return;
      }
      let t = signalTopics.get(q.symbol);
      if (t === undefined) {
        t = topic(Topics.signal, q.symbol);
        signalTopics.set(q.symbol, t);
      }
      fillSignal(signalOut, q, ids.next(q.symbol, q.eventTimeNs), sig, d);
      bus.publish(t, encodeSignal(signalOut));
      (d.action === "BUY" ? metrics.buys : metrics.sells).inc();
      signals++;
      ctx.report({ detail: `${signals} signals`, signals });
    };

    const onQuote = (q: QuoteFields) => {
      if (stopped) return;
      // The decoded fields are reused by the next quote: a queued one keeps a copy.
      if (busy) pending.push({ ...q });
      else handle(q);
    };

    const onInvalid = (err: Error) => {
      metrics.invalid.inc();
      if (!invalidLogged) {
        invalidLogged = true;
        log.warn({ err: err.message }, "undecodable quote (counted, dropped)");
      }
    };

    const handle = (q: QuoteFields) => {
      top.bidPrice = Number(q.bidPrice);
      top.askPrice = Number(q.askPrice);
      // A one-sided quote (no bid or no ask) has no mid: it is not a tick.
      if (!(top.bidPrice > 0 && top.askPrice > 0)) {
        metrics.oneSided.inc();
        return;
      }
      top.bidSize = Number(q.bidSize);
      top.askSize = Number(q.askSize);
      const sig = core.signal(q.symbol);
      const timed = sbTimingChannel.hasSubscribers;
      const t0 = timed ? process.hrtime.bigint() : 0n;
      const needsModel = sig.onTopOfBook(top);
      if (timed) {
        timing.symbol = q.symbol;
        timing.indicatorsNs = Number(process.hrtime.bigint() - t0);
        timing.inferenceNs = -1;
      }
      if (!needsModel) {
        if (timed) sbTimingChannel.publish(timing);
        return;
      }
      sig.writeFeatures(scorer.input);
      const t1 = process.hrtime.bigint();
      if (scorer.scoreSync) {
        const score = scorer.scoreSync();
        scoredSinceWarm = true;
        const ns = Number(process.hrtime.bigint() - t1);
        metrics.inference.observe(ns / 1e9);
        if (timed) {
          timing.inferenceNs = ns;
          sbTimingChannel.publish(timing);
        }
        publish(q, sig, score);
        return;
      }
      busy = true;
      scorer.score().then(
        (score) => {
          metrics.inference.observe(Number(process.hrtime.bigint() - t1) / 1e9);
          finishAsync(q, sig, score);
        },
        (err: unknown) => {
          metrics.modelErrors.inc();
          log.error({ err: (err as Error).message, symbol: q.symbol }, "model run failed");
          finishAsync(q, sig, undefined);
        },
      );
    };

    const finishAsync = (q: QuoteFields, sig: SymbolSignal, score: number | undefined) => {
      busy = false;
      if (!stopped) publish(q, sig, score);
      let head = 0;
      while (!busy && head < pending.length && !stopped) handle(pending[head++]!);
      pending.splice(0, head);
    };

    const symbols = ctx.pipeline.spec.symbols;
    const subscription = subscribeQuotes(
      bus,
      symbols.map((s) => topic(Topics.quote, s)),
      onQuote,
      onInvalid,
    );
    const warmMs = SIGNAL_BRIDGE_SETTINGS.modelKeepWarmMs;
    const scoreSync = scorer.scoreSync;
    const keepWarm =
      warmMs > 0 && scoreSync
        ? setInterval(() => {
            if (scoredSinceWarm) scoredSinceWarm = false;
            else scoreSync();
          }, warmMs)
        : undefined;
    keepWarm?.unref();
    log.info(
      { symbols, model, path: modelPath, nativeModelCall: scoreSync !== undefined, warmMs },
      "signal-bridge up",
    );
    return {
      async stop() {
        stopped = true;
        if (keepWarm) clearInterval(keepWarm);
        subscription.unsubscribe();
      },
    };
  },
};
