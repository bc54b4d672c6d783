/**
 * The strategies shipped with tradepipe, by the name the spec's `module: builtin:<name>` uses.
 */
import type { StrategyDefinition } from "../strategy/api.ts";
import maCrossover from "./ma-crossover.ts";
import modelFeatures from "./model-features.ts";
import openingRangeBreakout from "./opening-range-breakout.ts";
import rulesModel from "./rules-model.ts";

export const BUILTIN_STRATEGIES: Readonly<Record<string, StrategyDefinition>> = {
  "rules-model": rulesModel as unknown as StrategyDefinition,
  "ma-crossover": maCrossover as unknown as StrategyDefinition,
  "opening-range-breakout": openingRangeBreakout as unknown as StrategyDefinition,
  "model-features": modelFeatures as unknown as StrategyDefinition,
};
