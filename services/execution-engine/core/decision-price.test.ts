/**
 * Regression: an intent with no decision price (0) for a symbol with a quote threw "division by
 * zero" out of the core (the slippage guard divides by the decision price). Found by mutation
 * testing (the fill-side guard checks for it; the intake side did not).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stepExecution } from "./step.ts";
import { approval, engine, ofType, updates } from "./test-support.ts";

test("an intent without a decision price is refused and published, never thrown", () => {
  const s = engine(); // a last trade of XOM at 100
  const cmds = stepExecution(s, approval("no-price", 1, 0));
  assert.equal(ofType(cmds, "SendOrder").length, 0);
  const [u] = updates(cmds);
  assert.deepEqual([u?.status, u?.reason], ["Rejected", "no_last_price"]);
  const refusal = ofType(cmds, "WriteAudit").find((c) => c.record.event === "rejected_locally");
  assert.equal(refusal?.record.detail["message"], "no decision price for XOM");
});
