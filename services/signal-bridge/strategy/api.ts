/**
 * The strategy API: what a strategy module exports and what it is given.
 *
 * A strategy is a definition (`defineStrategy`) with a name, a parameter schema (TypeBox, as the
 * TradingPipeline spec), the features it needs by name from the feature library, optionally a
 * model, and `create(params, symbol)`, which makes the per-symbol instance holding its state. The
 * engine calls the instance on every two-sided quote of the symbol and it writes a Decision.
 *
 * IMPORTANT: a strategy is a pure, deterministic function of its state and its inputs: no clock
 * (time arrives in `tick.timeNs`), no I/O, no randomness, no timers, no environment. The lint
 * rule that guards the stage cores refuses them in strategy modules, and the backtester relies on
 * it: the same ticks must give the same decisions in a backtest and live.
 */
import type { Static, TObject } from "@sinclair/typebox";

/** Type builds parameter schemas (TypeBox), re-exported so a strategy needs one import. */
export { Type } from "@sinclair/typebox";

/** Direction of a decision: 1 buy, −1 sell, 0 hold. */
export type Direction = 1 | -1 | 0;

/** Tick is one two-sided top of book of one symbol, as plain numbers (floats are fine here). */
export interface Tick {
  readonly symbol: string;
  /** Event time of the quote in nanoseconds since the Unix epoch (the only clock there is). */
  readonly timeNs: bigint;
  readonly bidPrice: number;
  readonly bidSize: number;
  readonly askPrice: number;
  readonly askSize: number;
  /** (bid + ask) / 2. */
  readonly mid: number;
  /** Whether the mid changed since the last tick: only then do price-series features advance. */
  readonly priceChanged: boolean;
  /** Sizes of the book's levels, best first, when the feed carries depth (else the top alone). */
  readonly bidSizes?: ArrayLike<number>;
  readonly askSizes?: ArrayLike<number>;
}

/**
 * Decision is what a strategy wants on this tick. The engine hands the instance a reset object
 * (HOLD, strength 0, no target, no limit, reason "") and reads it back after the call.
 */
export interface Decision {
  direction: Direction;
  /** Confidence in [0, 1] that `direction` is right; its weight in the vote. */
  strength: number;
  /** Shares to trade; 0 lets the pipeline decide (`spec.strategy.orderQty`). */
  targetQty: number;
  /** Limit price; 0 means a market order. */
  limitPrice: number;
  /** Short machine-readable reason ("cross-up", "warming-up", ...), a metric label. */
  reason: string;
}

/** FeatureRef names one feature of the feature library with its arguments. */
export interface FeatureRef {
  readonly feature: string;
  readonly args: Readonly<Record<string, number>>;
}

/** feature refers to a library feature by name: `feature("sma", { period: 20 })`. */
export function feature(name: string, args: Record<string, number> = {}): FeatureRef {
  return { feature: name, args };
}

/** ModelRef is the ONNX model a strategy scores with (`features` float32[1, inputs] → `score`). */
export interface ModelRef {
  /** Path of the model file: absolute, or relative to the repository (image) root. */
  readonly path: string;
  /** Length of the model's input vector. */
  readonly inputs: number;
  /**
   * The features the model was trained on, in input order. When given, the signal-bridge refuses
   * at start a model whose metadata (feature names, feature-definition hash, dtype, golden rows)
   * does not match them (model-contract.ts).
   */
  readonly features?: readonly FeatureRef[];
}

/** Features are the values of the declared features on this tick (NaN while warming up). */
export type Features<K extends string> = { readonly [key in K]: number };

/** StrategyInstance is one symbol's strategy state. */
export interface StrategyInstance<K extends string = string> {
  /**
   * onTick writes the decision for this tick into `out`. A model-based strategy returns true to
   * ask for a model score instead: the engine then calls `writeModelInput` and `onScore`.
   */
  onTick(tick: Tick, features: Features<K>, out: Decision): boolean | undefined;
  /** writeModelInput fills the model's input vector for this tick. */
  writeModelInput?(out: Float32Array): void;
  /** onScore writes the decision given the model's score (undefined when the model failed). */
  onScore?(score: number | undefined, out: Decision): void;
  /** indicators are values worth carrying on the signal (name → value), read after a decision. */
  indicators?(): Readonly<Record<string, number>>;
  /**
   * Tick memo (optional, for backtests that score the model in batches: a shadow instance runs
   * ahead of the real one on the same ticks). `saveTick` writes, right after `onTick`, the
   * `memoWidth` numbers of what this tick computed from the ticks alone (indicators, not what
   * depends on scores); `onSavedTick` stands in for `onTick` on another instance of the same
   * strategy and parameters, given those numbers: it must decide exactly as `onTick` would have
   * and may skip the computation. An instance is fed either way for its whole life.
   */
  readonly memoWidth?: number;
  saveTick?(out: Float64Array, offset: number): void;
  onSavedTick?(
    saved: Float64Array,
    offset: number,
    tick: Tick,
    features: Features<K>,
    out: Decision,
  ): boolean | undefined;
}

/** StrategyDefinition is what a strategy module exports (as `default` or `strategy`). */
export interface StrategyDefinition<P extends TObject = TObject, K extends string = string> {
  /** Name of the strategy kind ("ma-crossover"); the spec's `id` names one use of it. */
  readonly name: string;
  readonly description: string;
  /** Parameter schema; defaults apply, unknown fields are refused. */
  readonly params: P;
  /** Cross-field checks: return "field: problem" to refuse the parameters. */
  readonly check?: (params: Static<P>) => string | undefined;
  /** Features needed, by the key the instance reads them under. */
  readonly features?: (params: Static<P>) => { readonly [key in K]: FeatureRef };
  /** The model, when the strategy scores with one. */
  readonly model?: (params: Static<P>) => ModelRef | undefined;
  /** create makes the state of one symbol. */
  readonly create: (params: Static<P>, symbol: string) => StrategyInstance<K>;
}

/** defineStrategy returns its argument, typed: parameters and feature keys are inferred. */
export function defineStrategy<P extends TObject, K extends string = never>(
  definition: StrategyDefinition<P, K>,
): StrategyDefinition<P, K> {
  return definition;
}

/** hold writes a HOLD with a reason into `out` (the common case, one line in a strategy). */
export function hold(out: Decision, reason: string): void {
  out.direction = 0;
  out.strength = 0;
  out.reason = reason;
}

/** act writes a BUY (1) or SELL (−1) with a strength and a reason into `out`. */
export function act(out: Decision, direction: 1 | -1, strength: number, reason: string): void {
  out.direction = direction;
  out.strength = strength;
  out.reason = reason;
}
