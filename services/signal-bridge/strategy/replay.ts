/**
 * replayStrategies runs a list of quotes through the strategy engine and returns every signal it
 * would publish, with each strategy's own decision beside it: the pure entry point a backtest,
 * a unit test or a notebook uses to check that recorded ticks give the decisions live gave.
 * Models are scored by the caller's `score` (the live shell runs onnxruntime-node; a test can pass
 * a function of the inputs).
 */

import type { AggregationRules, Outcome, OutcomeReason } from "./aggregate.ts";
import type { Direction, ModelRef, Tick } from "./api.ts";
import { StrategyEngine, type StrategyFailure } from "./engine.ts";
import type { StrategySlot } from "./slot.ts";

/** ReplayQuote is one two-sided top of book (a Tick before the engine derives the mid). */
export type ReplayQuote = Omit<Tick, "mid" | "priceChanged">;

/** StrategyVote is one strategy's decision on the quote of a signal. */
export interface StrategyVote {
  readonly id: string;
  readonly direction: Direction;
  readonly strength: number;
  readonly reason: string;
}

/** ReplaySignal is one aggregated signal (a BUY or SELL the risk-manager would receive). */
export interface ReplaySignal {
  readonly symbol: string;
  readonly timeNs: bigint;
  readonly direction: 1 | -1;
  readonly confidence: number;
  /** The leading strategy's id (TradingSignal.strategy_id). */
  readonly strategyId: string;
  readonly targetQty: number;
  readonly limitPrice: number;
  readonly votes: readonly StrategyVote[];
}

export interface ReplayResult {
  readonly signals: ReplaySignal[];
  /** Holds of the aggregation, by reason (quotes on which some strategy wanted to trade). */
  readonly holds: Partial<Record<OutcomeReason, number>>;
  /** Each strategy's BUY and SELL decisions, before aggregation, by strategy id. */
  readonly decisions: Record<string, { BUY: number; SELL: number }>;
  readonly failures: StrategyFailure[];
}

/** ModelScore scores a model's input (undefined: the model failed). */
export type ModelScore = (model: ModelRef, input: Float32Array) => number | undefined;

/**
 * stepQuote runs one quote through the engine to its outcome: the strategies, each model request
 * scored by `score` (input buffers per model path kept in `inputs`), the aggregation. The loop
 * body of replayStrategies, and what a lock-step kernel calls per quote.
 */
export function stepQuote(
  engine: StrategyEngine,
  q: ReplayQuote,
  inputs: Map<string, Float32Array>,
  score?: ModelScore,
): Outcome {
  const n = engine.onQuote(q.symbol, q.timeNs, q.bidPrice, q.bidSize, q.askPrice, q.askSize);
  for (let i = 0; i < n; i++) {
    const model = engine.modelOf(i);
    let input = inputs.get(model.path);
    if (input === undefined) {
      input = new Float32Array(model.inputs);
      inputs.set(model.path, input);
    }
    const written = engine.writeModelInput(i, input);
    engine.setScore(i, written && score ? score(model, input) : undefined);
  }
  return engine.finish();
}

export function replayStrategies(
  slots: readonly StrategySlot[],
  rules: AggregationRules,
  quotes: Iterable<ReplayQuote>,
  score?: ModelScore,
): ReplayResult {
  const engine = new StrategyEngine(slots, rules);
  const inputs = new Map<string, Float32Array>();
  const signals: ReplaySignal[] = [];
  const holds: Partial<Record<OutcomeReason, number>> = {};
  const failures: StrategyFailure[] = [];
  const decisions = Object.fromEntries(slots.map((s) => [s.id, { BUY: 0, SELL: 0 }]));
  const counts = slots.map((s) => decisions[s.id]!);
  for (const q of quotes) {
    const o = stepQuote(engine, q, inputs, score);
    failures.push(...engine.takeFailures());
    engine.decisions.forEach((d, i) => {
      if (d.direction !== 0) counts[i]![d.direction > 0 ? "BUY" : "SELL"]++;
    });
    if (o.direction === 0) {
      if (o.reason !== "no-vote") holds[o.reason] = (holds[o.reason] ?? 0) + 1;
      continue;
    }
    signals.push({
      symbol: o.symbol,
      timeNs: o.timeNs,
      direction: o.direction,
      confidence: o.confidence,
      strategyId: slots[o.leader]!.id,
      targetQty: o.targetQty,
      limitPrice: o.limitPrice,
      votes: engine.decisions.map((d, i) => ({
        id: slots[i]!.id,
        direction: d.direction,
        strength: d.strength,
        reason: d.reason,
      })),
    });
  }
  return { signals, holds, decisions, failures };
}
