/**
 * Strategy parameters: defaults from the strategy's TypeBox schema, then every check, with the
 * first problem reported as `TP_ERR_CONFIG` naming the strategy and the field.
 */
import type { TObject } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { TradepipeError } from "../../core/errors.ts";
import type { StrategyDefinition } from "./api.ts";

/**
 * validateStrategyParams returns the parameters with defaults applied, or throws naming `where`
 * (e.g. `strategy "fast-ma" (spec.strategies[1])`) and the field.
 */
export function validateStrategyParams(
  definition: StrategyDefinition,
  raw: unknown,
  where: string,
): Record<string, unknown> {
  if (raw !== undefined && (raw === null || typeof raw !== "object" || Array.isArray(raw))) {
    throw bad(where, `params must be an object (got ${JSON.stringify(raw)})`);
  }
  const schema: TObject = definition.params;
  const known = schema.properties;
  for (const key of Object.keys(raw ?? {})) {
    if (!(key in known)) {
      throw bad(
        where,
        `params.${key} is not a parameter of "${definition.name}" (it takes ${Object.keys(known).join(", ") || "none"})`,
      );
    }
  }
  const params = Value.Default(schema, structuredClone(raw ?? {})) as Record<string, unknown>;
  const first = Value.Errors(schema, params).First();
  if (first !== undefined) {
    const field = first.path.replace(/^\//, "").replaceAll("/", ".");
    throw bad(
      where,
      `params${field ? `.${field}` : ""} ${first.message.toLowerCase()} (got ${JSON.stringify(first.value)})`,
    );
  }
  const problem = definition.check?.(params as never);
  if (problem !== undefined) throw bad(where, problem);
  return params;
}

function bad(where: string, problem: string): TradepipeError {
  return new TradepipeError("TP_ERR_CONFIG", `${where}: ${problem}`);
}
