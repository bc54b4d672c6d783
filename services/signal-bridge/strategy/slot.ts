/**
 * StrategySlot is one configured use of a strategy in a pipeline: the definition, its validated
 * parameters, and its part in the aggregation (weight, role, budget). `prepareSlot` checks it all
 * at start, so a bad parameter or feature is refused before the first tick.
 */
import type { FeatureRef, ModelRef, StrategyDefinition } from "./api.ts";
import { resolveFeature } from "./feature-library.ts";
import { validateStrategyParams } from "./params.ts";

/** StrategyConfig is a spec entry (spec.strategies[i]) once its module is loaded. */
export interface StrategyConfig {
  readonly id: string;
  readonly params?: unknown;
  readonly weight?: number;
  readonly role?: "vote" | "veto";
  readonly budgetShares?: number;
}

export interface StrategySlot {
  readonly id: string;
  /** Where the slot comes from, for errors: `strategy "fast-ma" (spec.strategies[1])`. */
  readonly where: string;
  readonly definition: StrategyDefinition;
  readonly params: Readonly<Record<string, unknown>>;
  readonly weight: number;
  readonly role: "vote" | "veto";
  readonly budgetShares: number;
  readonly features: Readonly<Record<string, FeatureRef>>;
  readonly model: ModelRef | undefined;
}

/** prepareSlot validates a config against its definition (TP_ERR_CONFIG naming `where`). */
export function prepareSlot(
  definition: StrategyDefinition,
  config: StrategyConfig,
  where = `strategy "${config.id}"`,
): StrategySlot {
  const params = validateStrategyParams(definition, config.params, where);
  const features = { ...(definition.features?.(params as never) ?? {}) } as Record<
    string,
    FeatureRef
  >;
  for (const [key, ref] of Object.entries(features))
    resolveFeature(ref, `${where}: feature "${key}"`);
  return {
    id: config.id,
    where,
    definition,
    params,
    weight: config.weight ?? 1,
    role: config.role ?? "vote",
    budgetShares: config.budgetShares ?? 0,
    features,
    model: definition.model?.(params as never),
  };
}
