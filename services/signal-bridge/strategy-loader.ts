/**
 * Loads the pipeline's strategies at start: resolves each spec entry's module (`builtin:<name>`
 * or a file path), validates its parameters against the schema it declares, and returns the
 * slots the StrategyEngine runs. Every problem is a TP_ERR_CONFIG naming the strategy and the
 * field or path, thrown before the first tick. Used by the signal-bridge stage (every rendering:
 * `tradepipe run`, systemd units, pods) and by `tradepipe run`'s check before it starts anything.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TradepipeError } from "../core/errors.ts";
import type { StrategyEntrySpec, TradingPipelineSpec } from "../core/spec/index.ts";
import { BUILTIN_STRATEGIES } from "./strategies/index.ts";
import type { AggregationRules } from "./strategy/aggregate.ts";
import type { StrategyDefinition } from "./strategy/api.ts";
import { prepareSlot, type StrategySlot } from "./strategy/slot.ts";

/** REPO_ROOT is the repository (image, install) root that relative module paths start from. */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** BUILTIN_PREFIX marks a strategy shipped with tradepipe in spec.strategies[].module. */
export const BUILTIN_PREFIX = "builtin:";
/** The id of the built-in strategy when spec.strategies is empty. */
export const DEFAULT_STRATEGY_ID = "rules-model";

/** builtinParams is spec.strategy as the rules-model strategy's parameters. */
function builtinParams(spec: TradingPipelineSpec): Record<string, unknown> {
  const { orderQty: _orderQty, ...params } = spec.strategy;
  return params;
}

/** strategyEntries is spec.strategies, or the built-in strategy alone when it is empty. */
export function strategyEntries(spec: TradingPipelineSpec): StrategyEntrySpec[] {
  if (spec.strategies.length > 0) return spec.strategies;
  return [
    {
      id: DEFAULT_STRATEGY_ID,
      module: `${BUILTIN_PREFIX}rules-model`,
      params: {},
      weight: 1,
      role: "vote",
      budgetShares: 0,
    },
  ];
}

/** resolveStrategyModule is a module path resolved like modelRef: relative to the repo root. */
export function resolveStrategyModule(module: string, root = REPO_ROOT): string {
  return isAbsolute(module) ? module : resolve(root, module);
}

/** loadStrategyDefinition imports a strategy module, or finds a built-in one. */
export async function loadStrategyDefinition(
  module: string,
  where: string,
  root = REPO_ROOT,
): Promise<StrategyDefinition> {
  if (module.startsWith(BUILTIN_PREFIX)) {
    const name = module.slice(BUILTIN_PREFIX.length);
    const found = BUILTIN_STRATEGIES[name];
    if (found === undefined) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `${where}.module: no built-in strategy "${name}" (there are ${Object.keys(BUILTIN_STRATEGIES).join(", ")})`,
      );
    }
    return found;
  }
  const path = resolveStrategyModule(module, root);
  if (!existsSync(path)) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `${where}.module: strategy module ${path} does not exist`,
    );
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `${where}.module: strategy module ${path} failed to load: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const definition = exports.default ?? exports.strategy;
  if (!isDefinition(definition)) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `${where}.module: ${path} exports no strategy (export default defineStrategy({ name, params, create, ... }))`,
    );
  }
  return definition;
}

function isDefinition(d: unknown): d is StrategyDefinition {
  const o = d as Partial<StrategyDefinition> | null;
  return (
    typeof o === "object" &&
    o !== null &&
    typeof o.name === "string" &&
    typeof o.create === "function" &&
    typeof o.params === "object" &&
    o.params !== null &&
    typeof o.params.properties === "object"
  );
}

/** loadStrategies returns the validated slots of the spec's strategies, in spec order. */
export async function loadStrategies(
  spec: TradingPipelineSpec,
  root = REPO_ROOT,
): Promise<StrategySlot[]> {
  const explicit = spec.strategies.length > 0;
  const slots: StrategySlot[] = [];
  for (const [i, entry] of strategyEntries(spec).entries()) {
    const path = explicit ? `spec.strategies[${i}]` : "spec.strategy";
    if (slots.some((s) => s.id === entry.id)) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `${path}.id: strategy id "${entry.id}" is used twice`,
      );
    }
    const where = `strategy "${entry.id}" (${path})`;
    const definition = await loadStrategyDefinition(entry.module, path, root);
    const params =
      entry.module === `${BUILTIN_PREFIX}rules-model`
        ? { ...builtinParams(spec), ...(entry.params as object) }
        : entry.params;
    slots.push(prepareSlot(definition, { ...entry, params }, where));
  }
  return slots;
}

/** aggregationRules are the spec's aggregation settings for the engine. */
export function aggregationRules(spec: TradingPipelineSpec): AggregationRules {
  return {
    minConfidence: spec.aggregation.minConfidence,
    defaultQty: spec.strategy.orderQty,
    signalCooldownNs: BigInt(Math.round(spec.aggregation.signalCooldownSeconds * 1e9)),
  };
}
