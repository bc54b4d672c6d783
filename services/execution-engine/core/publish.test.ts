/** What the engine publishes about an order's moves, and the prices it keeps from quotes and trades. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stepExecution } from "./step.ts";
import { d, engine, ofType, sentOrder, T0, tradeUpdate, updates } from "./test-support.ts";

test("a move the broker reports is published; a refused one is not, and says what refused it", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const cancelled = updates(stepExecution(s, tradeUpdate(id, "canceled", "canceled")));
  assert.deepEqual(
    cancelled.map((u) => [u.status, u.terminal, u.reason, u.filledAvgPrice]),
    [["Cancelled", true, "", null]],
  );
  const refused = stepExecution(s, tradeUpdate(id, "expired", "expired"));
  assert.deepEqual(updates(refused), []);
  const audit = ofType(refused, "WriteAudit")[0]!.record;
  assert.deepEqual([audit.event, audit.detail], ["transition_refused", { cause: "expired" }]);
});

test("a fill's update carries the order's average price so far and no reason", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  stepExecution(s, tradeUpdate(id, "partial_fill", "partially_filled", 4, "100"));
  const [u] = updates(
    stepExecution(s, tradeUpdate(id, "partial_fill", "partially_filled", 8, "101")),
  );
  assert.deepEqual([u?.filledAvgPrice, u?.fillPrice, u?.reason], [d(101), d(102), ""]);
});

test("the last price is a quote's mid, one quoted side alone, or the last trade", () => {
  const s = engine(); // a trade of XOM at 100
  const last = () => s.lastPrices.get("XOM");
  const q = (bid: string, ask: string) =>
    stepExecution(s, {
      type: "QuoteReceived",
      timeNs: T0,
      symbol: "XOM",
      bid: d(bid),
      ask: d(ask),
    });
  q("99", "101");
  assert.equal(last(), d(100));
  q("98", "0");
  assert.equal(last(), d(98), "only a bid");
  q("0", "103");
  assert.equal(last(), d(103), "only an ask");
  q("0", "0");
  assert.equal(last(), d(103), "an empty quote changes nothing");
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: d(104) });
  assert.equal(last(), d(104));
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: 0n });
  assert.equal(last(), d(104), "a trade at 0 changes nothing");
});

test("a one-sided quote leaves the other side to the last trade in the slippage guard", () => {
  const s = engine(); // last trade 100
  // Only a bid far below: a buy (which lifts the ask) is judged on the last trade, and passes.
  stepExecution(s, { type: "QuoteReceived", timeNs: T0, symbol: "XOM", bid: d(90), ask: 0n });
  const buy = stepExecution(s, {
    type: "OrderApproved",
    timeNs: T0,
    correlationId: "c",
    signalId: "b",
    symbol: "XOM",
    side: "buy",
    qty: d(1),
    orderType: "limit",
    limitPrice: d(100),
    timeInForce: "day",
    decisionPrice: d(100),
  });
  assert.equal(ofType(buy, "SendOrder").length, 1);
  // Both sides quoted again: the ask is what a buy pays.
  stepExecution(s, { type: "QuoteReceived", timeNs: T0, symbol: "XOM", bid: d(99), ask: d(102) });
  assert.deepEqual(s.quotes.get("XOM"), { bid: d(99), ask: d(102) });
  stepExecution(s, { type: "QuoteReceived", timeNs: T0, symbol: "XOM", bid: 0n, ask: d(101) });
  assert.deepEqual(s.quotes.get("XOM"), { bid: 0n, ask: d(101) });
});
