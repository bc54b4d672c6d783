/**
 * The cost of the strategy API: the built-in strategy run through the StrategyEngine (features,
 * decision object, model request, aggregation) against the same SymbolSignal called directly,
 * on the same ticks, with the same stand-in model score (a cheap function of the features, so
 * ONNX time does not drown the difference). Then the three shipped strategies together.
 *
 *   npm run bench -- strategy          (node test/bench/strategy.bench.ts [--quick])
 *
 * Timed in batches of 64 ticks (the timer costs more than a tick); percentiles are over batch
 * means. Rounds alternate between the variants so machine noise falls on both.
 */
import { parseArgs } from "node:util";
import { DEFAULT_SIGNAL_PARAMS } from "../../services/signal-bridge/core/params.ts";
import { SymbolSignal } from "../../services/signal-bridge/core/symbol-signal.ts";
import { syntheticMarket } from "../../services/signal-bridge/model/synthetic-market.ts";
import { BUILTIN_STRATEGIES } from "../../services/signal-bridge/strategies/index.ts";
import { StrategyEngine } from "../../services/signal-bridge/strategy/engine.ts";
import { prepareSlot, type StrategySlot } from "../../services/signal-bridge/strategy/slot.ts";
import { timedSlots } from "../../services/signal-bridge/strategy-timing.ts";
import { BenchRows, timeBatched } from "./support/batched.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const N = args.quick ? 60_000 : 300_000;
const ROUNDS = args.quick ? 2 : 4;
const BATCH = 64;
const WARM = 5_000;
const T0 = 1_781_530_200_000_000_000n; // 2026-06-15 09:30 New York
const path = syntheticMarket({ seed: 5, ticks: N + WARM, startPrice: 187 });
const times = path.map((_, i) => T0 + BigInt(i) * 100_000_000n);

/** The stand-in model: a squashed sum of the features (same in every variant). */
function score(input: Float32Array): number {
  let s = 0;
  for (let i = 0; i < input.length; i++) s += input[i]!;
  return 1 / (1 + Math.exp(-s / 10));
}

let sink = 0;

function direct(): Float64Array {
  const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
  const input = new Float32Array(8);
  for (let i = 0; i < WARM; i++) {
    const needs = sig.onTopOfBook(path[i]!);
    sig.decide(needs ? score(sig.writeFeatures(input)) : undefined);
  }
  return timeBatched(N, BATCH, (k) => {
    const needs = sig.onTopOfBook(path[WARM + k]!);
    const d = sig.decide(needs ? score(sig.writeFeatures(input)) : undefined);
    sink += d.confidence;
  });
}

function viaEngine(
  ids: readonly string[],
  wrap: (slots: StrategySlot[]) => StrategySlot[] = (s) => s,
): () => Float64Array {
  const params: Record<string, object> = {
    "ma-crossover": { fast: 20, slow: 80 },
    "opening-range-breakout": { rangeMinutes: 5 },
  };
  return () => {
    const slots = ids.map((id) =>
      prepareSlot(BUILTIN_STRATEGIES[id]!, { id, params: params[id] ?? {} }),
    );
    const engine = new StrategyEngine(wrap(slots), { minConfidence: 0, defaultQty: 10 });
    const input = new Float32Array(8);
    const step = (i: number) => {
      const t = path[i]!;
      const n = engine.onQuote("AAPL", times[i]!, t.bidPrice, t.bidSize, t.askPrice, t.askSize);
      for (let r = 0; r < n; r++) {
        engine.writeModelInput(r, input);
        engine.setScore(r, score(input));
      }
      return engine.finish();
    };
    for (let i = 0; i < WARM; i++) step(i);
    return timeBatched(N, BATCH, (k) => {
      sink += step(WARM + k).confidence;
    });
  };
}

const variants: [string, () => Float64Array][] = [
  ["baseline: SymbolSignal called directly", direct],
  ["rules-model through the API (1 strategy)", viaEngine(["rules-model"])],
  [
    "  + the stage's sampled latency timing",
    viaEngine(["rules-model"], (slots) =>
      timedSlots(slots, (_i, seconds) => {
        sink += seconds;
      }),
    ),
  ],
  [
    "3 strategies through the API (+ma-crossover, +orb)",
    viaEngine(["rules-model", "ma-crossover", "opening-range-breakout"]),
  ],
];
const pooled = variants.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  variants.forEach(([, run], v) => {
    for (const x of run()) pooled[v]!.push(x);
  });
}
const bench = new BenchRows();
const summaries = variants.map(([name], v) => bench.report(name, pooled[v]!));
bench.print(`per tick, ${N} ticks × ${ROUNDS} rounds, batches of ${BATCH}`, 52);
const [base, one, timed, three] = summaries as [
  (typeof summaries)[0],
  (typeof summaries)[0],
  (typeof summaries)[0],
  (typeof summaries)[0],
];
console.log(
  `added by the API for one strategy: p50 ${(one.p50 - base.p50).toFixed(0)} ns, mean ${(one.mean - base.mean).toFixed(0)} ns per tick (target <= 1000 ns)`,
);
console.log(
  `with the stage's timing wrapper: p50 ${(timed.p50 - base.p50).toFixed(0)} ns added per tick`,
);
console.log(
  `three strategies: p50 ${(three.p50 - base.p50).toFixed(0)} ns over the baseline, ${((three.p50 - base.p50) / 3).toFixed(0)} ns per strategy`,
);
if (sink === 42) console.log("");
