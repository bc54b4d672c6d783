/**
 * kernelConfigOf derives every core's parameters from a TradingPipeline the way the stage
 * shells do, so the kernel (backtest or live) and the five stage processes run one spec alike.
 * `accountKeyId` scopes the client_order_ids as the live stages scope them (the broker account's
 * key id); a backtest passes a fixed one.
 */
import { fromDecimal } from "../core/money.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import { executionParamsFromSpec } from "../execution-engine/spec-params.ts";
import { positionParamsFromSpec } from "../position-tracker/spec-params.ts";
import { riskParamsFromSpec } from "../risk-manager/spec-params.ts";
import {
  loadModelScorer,
  type ModelScorer,
  resolveModelPath,
} from "../signal-bridge/model-scorer.ts";
import type { ModelScore } from "../signal-bridge/strategy/replay.ts";
import type { StrategySlot } from "../signal-bridge/strategy/slot.ts";
import { aggregationRules, loadStrategies } from "../signal-bridge/strategy-loader.ts";
import type { KernelConfig } from "./kernel.ts";

/** BACKTEST_ACCOUNT: the account key id a backtest's order ids are scoped with. */
export const BACKTEST_ACCOUNT = "backtest";

/**
 * kernelSetupOf loads the spec's strategies (spec.strategies, or the built-in rules + model) and
 * their models, and returns the kernel's configuration with a synchronous scorer for its port.
 */
export async function kernelSetupOf(
  pipeline: TradingPipeline,
  sectors: ReadonlyMap<string, string>,
  accountKeyId: string = BACKTEST_ACCOUNT,
): Promise<{ config: KernelConfig; score: ModelScore }> {
  const slots = await loadStrategies(pipeline.spec);
  return {
    config: kernelConfigOf(pipeline, sectors, slots, accountKeyId),
    score: await modelScoreOf(slots),
  };
}

/**
 * modelScoreOf opens each distinct model the strategies declare, once, and scores synchronously
 * (the native call), as the live shell does; a model without the synchronous call is refused.
 */
export async function modelScoreOf(slots: readonly StrategySlot[]): Promise<ModelScore> {
  const scorers = new Map<string, ModelScorer>();
  for (const slot of slots) {
    if (slot.model === undefined || scorers.has(slot.model.path)) continue;
    const scorer = await loadModelScorer(resolveModelPath(slot.model.path), {
      inputs: slot.model.inputs,
    });
    if (scorer.scoreSync === undefined)
      throw new Error(`${slot.model.path}: the kernel needs the synchronous native model call`);
    scorers.set(slot.model.path, scorer);
  }
  const score: ModelScore = (model, input) => {
    const scorer = scorers.get(model.path)!;
    scorer.input.set(input);
    return scorer.scoreSync!();
  };
  nativeModels.set(
    score,
    [...scorers].map(([ref, s]) => ({ ref, path: s.path, inputs: s.input.length })),
  );
  return score;
}

/** NativeModel: a model a native score function runs (`ref`: as the strategies name it). */
export interface NativeModel {
  readonly ref: string;
  readonly path: string;
  readonly inputs: number;
}

const nativeModels = new WeakMap<ModelScore, readonly NativeModel[]>();

/**
 * nativeModelsOf lists the models behind a score function made by modelScoreOf (undefined for
 * any other function, e.g. a test's stand-in): a backtest may then score those models' rows in
 * batches ahead of time, knowing the function is exactly one native call per row.
 */
export function nativeModelsOf(score: ModelScore): readonly NativeModel[] | undefined {
  return nativeModels.get(score);
}

export function kernelConfigOf(
  pipeline: TradingPipeline,
  sectors: ReadonlyMap<string, string>,
  slots: readonly StrategySlot[],
  accountKeyId: string = BACKTEST_ACCOUNT,
): KernelConfig {
  const spec = pipeline.spec;
  // The stage shells map the spec with these same functions.
  return {
    strategies: { slots, rules: aggregationRules(spec) },
    orderQty: fromDecimal(spec.strategy.orderQty),
    risk: riskParamsFromSpec(pipeline, sectors, accountKeyId),
    execution: executionParamsFromSpec(pipeline, accountKeyId),
    positions: positionParamsFromSpec(pipeline, sectors),
  };
}
