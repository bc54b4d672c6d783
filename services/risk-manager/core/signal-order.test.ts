/**
 * A signal's own quantity and limit price: the quantity replaces the pipeline's order quantity
 * and passes every check as it would; a limit price makes a limit order, on the tick and never
 * beyond the execution engine's slippage guard.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { toDecimal } from "../../core/money.ts";
import { approvalForExecution } from "./downstream.ts";
import { onTick, orderLimit } from "./limit-price.ts";
import { proposalFromSignal, type SignalForRisk } from "./proposal.ts";
import { d, propose, T0, tradableState } from "./test-support.ts";

let n = 0;
const signal = (more: Partial<SignalForRisk>): SignalForRisk => ({
  signalId: `AAPL-${++n}`,
  symbol: "AAPL",
  action: "buy",
  referencePrice: d(100),
  ...more,
});
const proposed = (more: Partial<SignalForRisk>) =>
  proposalFromSignal(signal(more), d(10), T0, `corr-${n}`)!;

test("the signal's quantity is the requested size; without one, the pipeline's orderQty", () => {
  assert.equal(proposed({ quantity: "25" }).qty, d(25));
  assert.equal(proposed({ quantity: "" }).qty, d(10));
  assert.equal(proposed({}).qty, d(10));
  // Only the pipeline's own lot may be sized down to close a position (a named one never is).
  assert.equal(proposed({}).standardLot, true);
  assert.equal(proposed({ quantity: "" }).standardLot, true);
  assert.equal(proposed({ quantity: "25" }).standardLot, undefined);
  const s = tradableState();
  const decision = propose(s, proposed({ quantity: "25" }));
  assert.ok(decision.approved);
  assert.equal(decision.qty, d(25));
  assert.equal(approvalForExecution(decision)!.qty, d(25));
});

test("a requested quantity is still held to every risk limit", () => {
  // 1000 shares at most (SPEC_RISK.maxPositionShares); 50k USD per symbol.
  const s = tradableState();
  assert.equal(propose(s, proposed({ quantity: "1001" })).reason, "max_position_shares");
  assert.equal(
    propose(s, proposed({ quantity: "600", referencePrice: d(100) })).reason,
    "max_notional_per_symbol",
    "600 × 100 USD > 50k",
  );
  assert.equal(
    propose(s, proposed({ quantity: "400" })).reason,
    "max_sector_concentration",
    "40k USD of tech is beyond 30% of 100k equity",
  );
  assert.ok(propose(s, proposed({ quantity: "250" })).approved, "within every limit");
  // The working 250 counts: another 800 would reach 1050 shares.
  assert.equal(propose(s, proposed({ quantity: "800" })).reason, "max_position_shares");
});

test("a quantity or limit price that is not a positive decimal is refused as invalid_order", () => {
  const s = tradableState();
  for (const more of [
    { quantity: "abc" },
    { quantity: "0" },
    { quantity: "-5" },
    { limitPrice: "0" },
    { limitPrice: "-1" },
    { limitPrice: "x" },
  ]) {
    const decision = propose(s, proposed(more));
    assert.equal(decision.reason, "invalid_order", JSON.stringify(more));
    assert.equal(approvalForExecution(decision), null);
  }
});

test("a limit price makes a limit order at the decision's reference price", () => {
  const s = tradableState();
  const decision = propose(s, proposed({ limitPrice: "99.5" }));
  assert.ok(decision.approved);
  assert.equal(decision.limitPrice, d("99.5"));
  const approval = approvalForExecution(decision)!;
  assert.equal(approval.orderType, "limit");
  assert.equal(approval.limitPrice, d("99.5"));
  assert.equal(approval.decisionPrice, d(100), "the slippage guard's reference stays the mid");
  const market = approvalForExecution(propose(s, proposed({})))!;
  assert.equal(market.orderType, "market");
  assert.equal(market.limitPrice, null);
});

test("limit prices go on the tick, rounded inward (a buy down, a sell up)", () => {
  assert.equal(toDecimal(onTick("buy", d("187.1299"))), "187.12");
  assert.equal(toDecimal(onTick("sell", d("187.1201"))), "187.13");
  assert.equal(toDecimal(onTick("sell", d("187.12"))), "187.12");
  assert.equal(toDecimal(onTick("buy", d("0.51237"))), "0.5123", "below $1: $0.0001");
  assert.equal(toDecimal(onTick("sell", d("0.51231"))), "0.5124");
  const s = tradableState();
  const buy = propose(s, proposed({ limitPrice: "99.9999" }));
  assert.equal(buy.limitPrice, d("99.99"));
});

test("the slippage guard caps a limit beyond it (a buy above, a sell below)", () => {
  // Guard 50 bps around 100: a buy pays at most 100.50, a sell takes at least 99.50.
  assert.equal(orderLimit("buy", d(101), d(100), d(50)), d("100.5"));
  assert.equal(orderLimit("buy", d("100.2"), d(100), d(50)), d("100.2"), "inside: kept");
  assert.equal(orderLimit("sell", d(99), d(100), d(50)), d("99.5"));
  assert.equal(orderLimit("sell", d("99.8"), d(100), d(50)), d("99.8"));
  assert.equal(orderLimit("buy", d(101), d(100), null), d(101), "no guard: only the tick");
  const s = tradableState({ maxSlippageBps: 50 });
  const buy = propose(s, proposed({ limitPrice: "103" }));
  assert.equal(buy.limitPrice, d("100.5"));
  const sell = propose(s, proposed({ action: "sell", quantity: "5", limitPrice: "90" }));
  assert.ok(sell.approved, sell.message);
  assert.equal(sell.limitPrice, d("99.5"));
});

test("a refused proposal carries no limit, and a bad guard setting is refused at start", () => {
  const s = tradableState();
  assert.equal(propose(s, proposed({ quantity: "5000", limitPrice: "99" })).limitPrice, null);
  assert.throws(() => tradableState({ maxSlippageBps: -1 }), /execution.maxSlippageBps/);
});
