/**
 * What the audit trail says about an intent: a restart rebuilds the order from the intent's row
 * (its decision price) and the highest attempt recorded, so these details are a contract.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stepExecution } from "./step.ts";
import { approval, d, engine, ofType } from "./test-support.ts";

test("an intent's rows: the order as approved, its marketable limit, then the send with its attempt", () => {
  const s = engine();
  const rows = ofType(stepExecution(s, approval("sig-1", 10, "99.9")), "WriteAudit").map((c) => [
    c.record.event,
    c.record.fromStatus,
    c.record.toStatus,
    c.record.attempt,
    c.record.detail,
  ]);
  assert.deepEqual(rows, [
    [
      "intent",
      null,
      "Created",
      0,
      {
        signalId: "sig-1",
        symbol: "XOM",
        side: "buy",
        qty: "10",
        orderType: "market",
        limitPrice: "",
        timeInForce: "day",
        decisionPrice: "99.9",
      },
    ],
    ["marketable_limit", "Created", "Created", 0, { limitPrice: "100.39", maxSlippageBps: "50" }],
    ["send", "Created", "Submitted", 1, { attempt: "1" }],
  ]);
});

test("a limit intent records its limit price and is sent as it is", () => {
  const s = engine();
  const cmds = stepExecution(s, {
    ...approval("sig-2"),
    orderType: "limit",
    limitPrice: d("100.25"),
  });
  const audits = ofType(cmds, "WriteAudit");
  assert.equal(audits[0]?.record.detail["limitPrice"], "100.25");
  assert.equal(audits[0]?.record.detail["orderType"], "limit");
  assert.deepEqual(
    audits.map((c) => c.record.event),
    ["intent", "send"],
  );
});
