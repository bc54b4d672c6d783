/** Which fills the engine reports as slippage: only those worse than the limit, never better ones. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { restoreExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import { d, engine, ofType, SPEC_EXECUTION, sentOrder, T0, tradeUpdate } from "./test-support.ts";

const reported = (cmds: ReturnType<typeof stepExecution>) =>
  ofType(cmds, "ReportAnomaly").filter((a) => a.kind === "fill_slippage").length;

test("a buy filled well below its decision price, or exactly at the limit, is not reported", () => {
  const s = engine(); // maxSlippageBps 50, decision price 100
  const cheap = sentOrder(s, "cheap");
  assert.equal(reported(stepExecution(s, tradeUpdate(cheap, "fill", "filled", 10, "98"))), 0);
  const atLimit = sentOrder(s, "at-limit");
  assert.equal(reported(stepExecution(s, tradeUpdate(atLimit, "fill", "filled", 10, "100.5"))), 0);
});

test("a restored order without a decision price takes its fills without a slippage check", () => {
  const s = restoreExecutionState(
    SPEC_EXECUTION,
    [
      {
        clientOrderId: "r",
        signalId: "r",
        correlationId: "c",
        symbol: "XOM",
        side: "buy",
        qty: d(10),
        orderType: "market",
        limitPrice: null,
        timeInForce: "day",
        decisionPrice: 0n,
        status: "New",
        brokerOrderId: "b-1",
        filledQty: 0n,
        filledNotional: 0n,
        attempts: 1,
        awaiting: "none",
        cancelRequested: false,
        createdNs: T0,
        updatedNs: T0,
      },
    ],
    false,
  );
  const cmds = stepExecution(s, tradeUpdate("r", "fill", "filled", 10, "100"));
  assert.equal(reported(cmds), 0);
  assert.equal(s.finished.get("r")?.status, "Filled");
});
