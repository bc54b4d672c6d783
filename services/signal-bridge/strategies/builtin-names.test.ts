import assert from "node:assert/strict";
import { test } from "node:test";
import { StrategyEntrySchema } from "../../core/spec/schema-trading.ts";
import { BUILTIN_STRATEGIES } from "./index.ts";

test("the spec's description of strategies[].module names every shipped strategy", () => {
  const text = StrategyEntrySchema.properties.module.description ?? "";
  const listed = /builtin:<name> for a strategy shipped with tradepipe \(([^)]*)\)/.exec(text)?.[1];
  assert.ok(listed, `the description lists the built-ins: ${text}`);
  assert.deepEqual(listed.split(", ").sort(), Object.keys(BUILTIN_STRATEGIES).sort());
});
