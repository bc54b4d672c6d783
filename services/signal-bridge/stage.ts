/**
 * signal-bridge stage shell: `md.quote/<SYM>` for the spec's symbols → the StrategyEngine (the
 * spec's strategies, loaded and validated at start; by default the built-in rules-model alone) →
 * the ONNX models, only on ticks where a strategy asks for a score → the per-symbol aggregation →
 * `signal/<SYM>` TradingSignals for BUY and SELL outcomes, naming the leading strategy.
 *
 * Ticks are processed strictly in arrival order. With the synchronous native model call (the
 * normal case, see model-scorer.ts) a quote is handled to the end inside its bus delivery; with
 * the asynchronous fallback, quotes that arrive while the model runs wait in a queue, which keeps
 * the core's calls serialized and the output the same as the synchronous path's.
 */
import { publishFields } from "../core/bus/fields.ts";
import { Topics, topic } from "../core/bus/topics.ts";
import type { StrategySpec, TradingPipeline } from "../core/spec/index.ts";
import { afterRun, deferredObserve } from "../core/telemetry/index.ts";
import { type QuoteFields, subscribeQuotes } from "../market-data/quote-wire.ts";
import type { RunningStage, StageContext, StageDefinition } from "../pipeline/context.ts";
import { type SignalTiming, sbModelChannel, sbTimingChannel } from "./channels.ts";
import type { SignalParams } from "./core/params.ts";
import { DecisionLog } from "./decision-log.ts";
import { signalBridgeMetrics, strategyAttributionGauges } from "./metrics.ts";
import {
  type CheckedModel,
  loadCheckedModel,
  type ModelNeed,
  ModelReloader,
  type SwapOutcome,
} from "./model-reload.ts";
import { type ModelScorer, resolveModelPath } from "./model-scorer.ts";
import { SignalIds, SignalWriter } from "./signal-message.ts";
import { encodeSignal, signalCopy } from "./signal-wire.ts";
import { StrategyEngine } from "./strategy/engine.ts";
import type { StrategySlot } from "./strategy/slot.ts";
import { aggregationRules, loadStrategies } from "./strategy-loader.ts";
import { timedSlots } from "./strategy-timing.ts";

/** signalParamsOf maps the spec's strategy section onto the core's parameters (benchmarks). */
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

/**
 * loadModels opens each distinct model the strategies declare, once, keyed by the path the
 * strategies name it by, and checks it (model-reload.ts). At start a refused model stops the
 * stage with the error; later versions go through the ModelReloader, which keeps the model in
 * use when it refuses one.
 */
async function loadModels(slots: readonly StrategySlot[]) {
  const models = new Map<string, { need: ModelNeed; model: CheckedModel }>();
  /** The model key of each slot ("" for a strategy without a model). */
  const keys = slots.map((s) => s.model?.path ?? "");
  for (const slot of slots) {
    if (slot.model === undefined || models.has(slot.model.path)) continue;
    const need = { inputs: slot.model.inputs, features: slot.model.features };
    const model = await loadCheckedModel(resolveModelPath(slot.model.path), need);
    models.set(slot.model.path, { need, model });
  }
  return { models, keys };
}

export const stage: StageDefinition = {
  name: "signal-bridge",
  async start(ctx: StageContext): Promise<RunningStage> {
    const { bus, log } = ctx;
    const spec = ctx.pipeline.spec;
    const metrics = signalBridgeMetrics(ctx.metrics);
    const loaded = await loadStrategies(spec);
    const ids = loaded.map((s) => s.id);
    const { models, keys: modelKeys } = await loadModels(loaded);
    /** The scorer in use per model key: the tick path reads it, a swap replaces an entry. */
    const scorers = new Map<string, ModelScorer>(
      [...models].map(([key, m]) => [key, m.model.scorer]),
    );
    const labels = modelKeys.map((key) => models.get(key)?.model.label ?? "");
    // Observed on the tick path: deferred to the end of the run (deferred-observe.ts).
    const latency = ids.map((id) => deferredObserve(metrics.strategy.latency.labels(id)));
    const observeInference = deferredObserve(metrics.inference);
    const slots = timedSlots(loaded, (i, seconds) => latency[i]!(seconds));
    const engine = new StrategyEngine(slots, aggregationRules(spec));
    strategyAttributionGauges(ctx.metrics, () => engine.attribution());
    const decisionCounters = ids.map((id) => [
      metrics.strategy.decisions.labels(id, "BUY"),
      metrics.strategy.decisions.labels(id, "SELL"),
    ]);
    const ledCounters = ids.map((id) => metrics.strategy.signals.labels(id));
    for (const id of ids) {
      metrics.strategy.enabled.labels(id).set(1);
      metrics.strategy.failures.labels(id).inc(0);
    }
    const allSync = [...scorers.values()].every((s) => s.scoreSync !== undefined);
    const signalIds = new SignalIds();
    const writer = new SignalWriter(ids, labels);
    const timing: SignalTiming = { symbol: "", indicatorsNs: 0, inferenceNs: -1 };
    const signalTopics = new Map<string, string>();
    let signals = 0;
    let busy = false;
    const pending: QuoteFields[] = [];
    let invalidLogged = false;
    let stopped = false;
    /** A real model call since the keep-warm timer last fired: no need to warm this time. */
    let scoredSinceWarm = false;
    const disabled: string[] = [];
    // `tradepipe run --record DIR`: the decisions published, for the replay to compare with.
    const decisionLog = ctx.recordDir === undefined ? undefined : new DecisionLog(ctx.recordDir);
    const decisionFlush =
      decisionLog === undefined ? undefined : setInterval(() => decisionLog.flush(), 1_000);
    decisionFlush?.unref();
    /** Model swaps waiting for the quote in flight (asynchronous model call) to finish. */
    const afterQuote: Array<() => void> = [];
    /** The last refusal per model key, until a later version of it is swapped in. */
    const refusals = new Map<string, string>();
    let reloader: ModelReloader | undefined;

    const status = () =>
      ctx.report({
        detail: `${signals} signals${disabled.length ? `; disabled: ${disabled.join(", ")}` : ""}${
          refusals.size ? `; model refused: ${[...refusals.values()].join("; ")}` : ""
        }`,
        signals,
        strategies: ids.map((id, i) => ({ id, enabled: engine.enabled[i] })),
        models: [...scorers.keys()].map((key) => ({
          ref: key,
          model: reloader?.current(key)?.label ?? models.get(key)!.model.label,
          ...(refusals.has(key) ? { refused: refusals.get(key) } : {}),
        })),
      });

    /** statusSoon: the report after a signal, made once the tick's synchronous run is over. */
    const statusSoon = afterRun(() => status());

    const reportFailures = () => {
      for (const f of engine.takeFailures()) {
        disabled.push(f.id);
        metrics.strategy.enabled.labels(f.id).set(0);
        metrics.strategy.failures.labels(f.id).inc();
        log.error(
          { strategy: f.id, symbol: f.symbol, phase: f.phase, err: f.error },
          "strategy threw: disabled, the other strategies keep trading",
        );
        status();
      }
    };

    const conclude = (q: QuoteFields) => {
      const o = engine.finish();
      reportFailures();
      const decisions = engine.decisions;
      for (let i = 0; i < decisions.length; i++) {
        const dir = decisions[i]!.direction;
        if (dir !== 0) decisionCounters[i]![dir > 0 ? 0 : 1]!.inc();
      }
      if (o.direction === 0) {
        if (o.reason !== "no-vote") metrics.aggregateHolds.labels(o.reason).inc();
        return;
      }
      let t = signalTopics.get(q.symbol);
      if (t === undefined) {
        t = topic(Topics.signal, q.symbol);
        signalTopics.set(q.symbol, t);
      }
      const fields = writer.fill(
        q,
        signalIds.next(q.symbol, q.eventTimeNs),
        o,
        engine.indicatorsOf(o.leader),
      );
      // In-process subscribers read a copy (BusMessage.value): nobody encodes or decodes.
      publishFields(bus, t, fields, encodeSignal, signalCopy);
      decisionLog?.add({
        signalId: fields.signalId,
        strategyId: fields.strategyId,
        symbol: fields.symbol,
        direction: o.direction,
        quantity: fields.quantity,
        limitPrice: fields.limitPrice,
        referencePrice: fields.referencePrice,
        confidence: fields.confidence,
      });
      (o.direction > 0 ? metrics.buys : metrics.sells).inc();
      ledCounters[o.leader]!.inc();
      signals++;
      statusSoon();
    };

    /** afterScore counts a scored strategy's HOLD by reason (model-disagrees, low-confidence). */
    const afterScore = (request: number) => {
      const d = engine.decisions[engine.slotOf(request)]!;
      if (d.direction === 0 && d.reason !== "disabled") metrics.holds.labels(d.reason).inc();
    };

    const scoreSyncAll = (n: number, timed: boolean) => {
      for (let i = 0; i < n; i++) {
        const scorer = scorers.get(engine.modelOf(i).path)!;
        if (!engine.writeModelInput(i, scorer.input)) continue;
        // performance.now() (a double) rather than hrtime.bigint(): no BigInt per scored tick.
        const t1 = performance.now();
        const score = scorer.scoreSync!();
        scoredSinceWarm = true;
        const ns = Math.round((performance.now() - t1) * 1e6);
        observeInference(ns / 1e9);
        if (timed) timing.inferenceNs = ns;
        engine.setScore(i, score);
        afterScore(i);
      }
    };

    const scoreAsync = (q: QuoteFields, i: number, n: number) => {
      if (stopped) return;
      if (i === n) {
        busy = false;
        conclude(q);
        for (const swap of afterQuote.splice(0)) swap();
        let head = 0;
        while (!busy && head < pending.length && !stopped) handle(pending[head++]!);
        pending.splice(0, head);
        return;
      }
      const scorer = scorers.get(engine.modelOf(i).path)!;
      if (!engine.writeModelInput(i, scorer.input)) {
        scoreAsync(q, i + 1, n);
        return;
      }
      const t1 = process.hrtime.bigint();
      scorer.score().then(
        (score) => {
          metrics.inference.observe(Number(process.hrtime.bigint() - t1) / 1e9);
          engine.setScore(i, score);
          afterScore(i);
          scoreAsync(q, i + 1, n);
        },
        (err: unknown) => {
          metrics.modelErrors.inc();
          log.error({ err: (err as Error).message, symbol: q.symbol }, "model run failed");
          engine.setScore(i, undefined);
          scoreAsync(q, i + 1, n);
        },
      );
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
      const bidPrice = Number(q.bidPrice);
      const askPrice = Number(q.askPrice);
      // A one-sided quote (no bid or no ask) has no mid: it is not a tick.
      if (!(bidPrice > 0 && askPrice > 0)) {
        metrics.oneSided.inc();
        return;
      }
      const timed = sbTimingChannel.hasSubscribers;
      const t0 = timed ? process.hrtime.bigint() : 0n;
      const n = engine.onQuote(
        q.symbol,
        q.eventTimeNs,
        bidPrice,
        Number(q.bidSize),
        askPrice,
        Number(q.askSize),
      );
      if (timed) {
        timing.symbol = q.symbol;
        timing.indicatorsNs = Number(process.hrtime.bigint() - t0);
        timing.inferenceNs = -1;
      }
      if (n > 0 && !allSync) {
        busy = true;
        scoreAsync(q, 0, n);
        return;
      }
      if (n > 0) scoreSyncAll(n, timed);
      if (timed) sbTimingChannel.publish(timing);
      conclude(q);
    };

    const symbols = spec.symbols;
    const subscription = subscribeQuotes(
      bus,
      symbols.map((s) => topic(Topics.quote, s)),
      onQuote,
      onInvalid,
    );
    const warmMs = SIGNAL_BRIDGE_SETTINGS.modelKeepWarmMs;
    let warmers = [...scorers.values()].flatMap((s) => (s.scoreSync ? [s.scoreSync] : []));
    const keepWarm =
      warmMs > 0 && allSync && warmers.length > 0
        ? setInterval(() => {
            if (scoredSinceWarm) scoredSinceWarm = false;
            else for (const w of warmers) w();
          }, warmMs)
        : undefined;
    keepWarm?.unref();

    /** install puts a checked model in use between two quotes (never inside one). */
    const install = (key: string, model: CheckedModel): void | Promise<void> => {
      const swap = () => {
        scorers.set(key, model.scorer);
        for (let i = 0; i < modelKeys.length; i++)
          if (modelKeys[i] === key) labels[i] = model.label;
        warmers = [...scorers.values()].flatMap((s) => (s.scoreSync ? [s.scoreSync] : []));
      };
      if (!busy) return swap();
      return new Promise<void>((resolve) =>
        afterQuote.push(() => {
          swap();
          resolve();
        }),
      );
    };
    const onSwap = (o: SwapOutcome) => {
      metrics.modelReloads.labels(o.result).inc();
      if (o.result === "swapped") {
        refusals.delete(o.key);
        log.info(
          { ref: o.key, cause: o.cause, file: o.path, model: o.label, previous: o.previous },
          "model swapped: new version in use",
        );
      } else {
        refusals.set(o.key, o.reason);
        log.error(
          { ref: o.key, cause: o.cause, file: o.path, kept: o.kept, err: o.reason },
          "model refused: the previous model keeps trading",
        );
      }
      if (sbModelChannel.hasSubscribers) sbModelChannel.publish(o);
      status();
    };
    reloader = new ModelReloader({ install, report: onSwap });
    for (const [key, m] of models) await reloader.add(key, m.need, m.model);
    reloader.watchFiles();
    /** A changed spec naming another model file for a running strategy: load, check, swap. */
    const onSpecChange = async (next: TradingPipeline) => {
      let nextSlots: StrategySlot[];
      try {
        nextSlots = await loadStrategies(next.spec);
      } catch (err) {
        log.warn(
          { err: (err as Error).message },
          "changed spec's strategies are not valid: the models in use stay",
        );
        return;
      }
      for (const slot of loaded) {
        const model = nextSlots.find((s) => s.id === slot.id)?.model;
        if (slot.model !== undefined && model !== undefined) {
          reloader?.request(slot.model.path, model.path, "spec");
        }
      }
    };
    const unwatchSpec = ctx.watchSpec?.((next) => void onSpecChange(next));
    status();
    log.info(
      {
        symbols,
        strategies: slots.map((s) => ({
          id: s.id,
          strategy: s.definition.name,
          weight: s.weight,
          role: s.role,
        })),
        models: [...scorers.values()].map((s) => s.path),
        nativeModelCall: allSync,
        warmMs,
      },
      "signal-bridge up",
    );
    return {
      async stop() {
        stopped = true;
        if (keepWarm) clearInterval(keepWarm);
        subscription.unsubscribe();
        if (decisionFlush) clearInterval(decisionFlush);
        decisionLog?.flush();
        unwatchSpec?.();
        // A swap waiting for a quote that will never conclude is let go.
        for (const swap of afterQuote.splice(0)) swap();
        // The sessions are freed unless an asynchronous model call may still be running on one.
        await reloader?.stop({ dispose: !busy });
      },
    };
  },
};
