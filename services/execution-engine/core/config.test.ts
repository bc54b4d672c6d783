/** The engine's parameters: each bad one refused naming its field, and the bounded memory of finished orders. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { compileExecutionConfig } from "./state.ts";
import { stepExecution } from "./step.ts";
import { engine, ofType, SPEC_EXECUTION, sentOrder, tradeUpdate } from "./test-support.ts";

test("each bad parameter is refused with its field, the rule and the value", () => {
  const cases = [
    [
      { retries: { maxAttempts: -1, backoffSeconds: [] } },
      /^execution\.retries\.maxAttempts: must be a non-negative integer, got -1$/,
    ],
    [
      { retries: { maxAttempts: 1.5, backoffSeconds: [1] } },
      /maxAttempts: must be a non-negative integer, got 1\.5/,
    ],
    [{ maxSlippageBps: -1 }, /^execution\.maxSlippageBps: must be a non-negative integer, got -1$/],
    [{ maxSlippageBps: 2.5 }, /maxSlippageBps: must be a non-negative integer, got 2\.5/],
    [
      { oppositeOrderWaitSeconds: 0 },
      /^execution\.oppositeOrderWaitSeconds: must be a positive integer, got 0$/,
    ],
    [
      { oppositeOrderWaitSeconds: 1.5 },
      /oppositeOrderWaitSeconds: must be a positive integer, got 1\.5/,
    ],
  ] as const;
  for (const [patch, re] of cases) {
    assert.throws(
      () => compileExecutionConfig({ ...SPEC_EXECUTION, ...patch }),
      (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && re.test(e.message),
      re.source,
    );
  }
});

test("the smallest parameters are accepted: no retries, no slippage, a one-second wait", () => {
  const c = compileExecutionConfig({
    ...SPEC_EXECUTION,
    retries: { maxAttempts: 0, backoffSeconds: [] },
    maxSlippageBps: 0,
    oppositeOrderWaitSeconds: 1,
  });
  assert.deepEqual([c.maxAttempts, c.maxSlippageBps, c.oppositeWaitNs], [0, 0n, 1_000_000_000n]);
  const defaults = compileExecutionConfig(SPEC_EXECUTION);
  assert.deepEqual(
    [defaults.terminalRetention, defaults.oppositeWaitNs],
    [10_000, 60_000_000_000n],
  );
});

test("finished orders are remembered up to the retention, the oldest forgotten first", () => {
  const s = engine({ terminalRetention: 2 });
  const ids = ["a", "b", "c"].map((signal) => sentOrder(s, signal));
  for (const id of ids) stepExecution(s, tradeUpdate(id, "fill", "filled", 10, "100"));
  assert.deepEqual([...s.finished.keys()], [ids[1], ids[2]]);
  // A late update for the forgotten order is unknown; one for a remembered order is a duplicate.
  const late = stepExecution(s, tradeUpdate(ids[0]!, "fill", "filled", 10, "100"));
  assert.equal(ofType(late, "ReportAnomaly")[0]?.kind, "unknown_order");
  const kept = stepExecution(s, tradeUpdate(ids[1]!, "fill", "filled", 10, "100"));
  assert.equal(ofType(kept, "ReportAnomaly").length, 0);
});
