/**
 * What the engine makes of the broker's view of an order: how a fill is priced from the figures
 * in hand, what the audit record of an update carries for the fills table, what is published,
 * and what is reported.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import {
  approval,
  d,
  engine,
  ofType,
  SECOND,
  sentOrder,
  snapshot,
  T0,
  tradeUpdate,
  updates,
} from "./test-support.ts";
import type { TradeUpdated } from "./types.ts";

/** execution: a trade update carrying its own execution's figures. */
function execution(
  id: string,
  cumulative: number,
  avg: string | null,
  qty: string,
  price: string,
): TradeUpdated {
  const status = cumulative >= 10 ? "filled" : "partially_filled";
  return {
    ...tradeUpdate(id, cumulative >= 10 ? "fill" : "partial_fill", status, cumulative, avg),
    executionId: `x-${cumulative}`,
    fillQty: d(qty),
    fillPrice: d(price),
  };
}

function filledPrice(s: ExecutionState, e: TradeUpdated): bigint | null {
  return updates(stepExecution(s, e))[0]?.fillPrice ?? null;
}

test("a fill is priced at its own execution's price when the update carries it", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  // The cumulative average (100) would say otherwise; the execution's own figures win.
  assert.equal(filledPrice(s, execution(id, 4, "100", "4", "100.5")), d("100.5"));
  assert.equal(s.orders.get(id)?.filledNotional, d(402));
});

test("a cumulative step that skips an execution is priced from the broker's average", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  stepExecution(s, execution(id, 5, "100", "5", "100"));
  // 10 at an average of 101 after 5 at 100: the 5 in between cost (1010 − 500) / 5 = 102,
  // whatever the one execution in hand (1 at 99) says.
  assert.equal(filledPrice(s, execution(id, 10, "101", "1", "99")), d(102));
});

test("without an average, a fill is priced at the execution's price, else the decision price", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  assert.equal(filledPrice(s, execution(id, 3, null, "1", "99.5")), d("99.5"));
  const t = engine();
  const other = sentOrder(t, "sig-2");
  const looked = stepExecution(t, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: other,
    order: snapshot("partially_filled", 3),
  });
  assert.equal(updates(looked)[0]?.fillPrice, d(100), "the decision price");
});

test("the audit record of an execution carries what the fills table needs", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const cmds = stepExecution(s, execution(id, 4, "100.5", "4", "100.5"));
  assert.deepEqual(ofType(cmds, "WriteAudit")[0]?.record.detail, {
    brokerStatus: "partially_filled",
    filledQty: "4",
    executionId: "x-4",
    fillQty: "4",
    fillPrice: "100.5",
    executionQty: "4",
    executionPrice: "100.5",
  });
  // A late execution (the cumulative figure already counted it) keeps its own figures, no fill.
  stepExecution(s, execution(id, 6, "100.5", "2", "100.5"));
  const late = stepExecution(s, execution(id, 5, "100.5", "1", "100.5"));
  assert.deepEqual(ofType(late, "WriteAudit")[0]?.record.detail, {
    brokerStatus: "partially_filled",
    filledQty: "6",
    executionId: "x-5",
    executionQty: "1",
    executionPrice: "100.5",
    effect: "duplicate",
  });
  assert.equal(updates(late).length, 0, "nothing new to publish");
});

test("an update without an execution id or figures records no execution", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const noId = stepExecution(s, { ...execution(id, 4, "100", "4", "100"), executionId: "" });
  assert.deepEqual(ofType(noId, "WriteAudit")[0]?.record.detail, {
    brokerStatus: "partially_filled",
    filledQty: "4",
    fillQty: "4",
    fillPrice: "100",
  });
  for (const missing of [{ fillQty: null }, { fillPrice: null }]) {
    const t = engine();
    const other = sentOrder(t, "sig-2");
    const cmds = stepExecution(t, { ...execution(other, 4, "100", "4", "100"), ...missing });
    const detail = ofType(cmds, "WriteAudit")[0]!.record.detail;
    assert.equal(detail["executionId"], "x-4");
    assert.equal(detail["executionQty"], undefined, JSON.stringify(missing));
    assert.equal(detail["executionPrice"], undefined, JSON.stringify(missing));
  }
});

test("an update that changes nothing is audited as a duplicate and publishes nothing", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const again = stepExecution(s, tradeUpdate(id, "new", "new"));
  assert.equal(ofType(again, "WriteAudit")[0]?.record.detail["effect"], "duplicate");
  assert.equal(updates(again).length, 0);
  stepExecution(s, tradeUpdate(id, "partial_fill", "partially_filled", 2, "100"));
  const more = stepExecution(s, tradeUpdate(id, "partial_fill", "partially_filled", 5, "100"));
  assert.equal(ofType(more, "WriteAudit")[0]?.record.detail["effect"], "fill", "a fill, no move");
  assert.equal(updates(more)[0]?.fillQty, d(3));
});

test("an interim broker status that carries a fill moves the order to PartiallyFilled", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const cmds = stepExecution(s, tradeUpdate(id, "pending_cancel", "pending_cancel", 3, "100"));
  assert.equal(s.orders.get(id)?.status, "PartiallyFilled");
  assert.equal(updates(cmds)[0]?.status, "PartiallyFilled");
});

test("filling more than the order's quantity is reported as an overfill", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const cmds = stepExecution(s, tradeUpdate(id, "fill", "filled", 12, "100"));
  const overfill = ofType(cmds, "ReportAnomaly").filter((a) => a.kind === "overfill");
  assert.deepEqual(overfill, [
    {
      type: "ReportAnomaly",
      kind: "overfill",
      clientOrderId: id,
      message: `order ${id} filled 12 of 10`,
    },
  ]);
  const exact = engine();
  const other = sentOrder(exact, "sig-2");
  const ok = stepExecution(exact, tradeUpdate(other, "fill", "filled", 10, "100"));
  assert.equal(ofType(ok, "ReportAnomaly").length, 0);
});

test("the broker's order id is kept when a later view of the order lacks it", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1"); // acknowledged as b-1
  stepExecution(s, {
    ...tradeUpdate(id, "new", "new"),
    order: { ...snapshot("new"), brokerOrderId: "" },
  });
  const cancel = ofType(
    stepExecution(s, { type: "KillSwitchChanged", timeNs: T0, engaged: true }),
    "CancelOrder",
  );
  assert.equal(cancel[0]?.brokerOrderId, "b-1");
});

test("a sell filled too far below its decision price is reported; above it is not", () => {
  const sell = (fill: string) => {
    const s = engine();
    const send = ofType(stepExecution(s, approval("s-1", 10, 100, "sell")), "SendOrder")[0]!;
    const id = send.request.clientOrderId;
    stepExecution(s, {
      type: "SendSucceeded",
      timeNs: T0 + SECOND,
      clientOrderId: id,
      order: snapshot("new"),
    });
    return ofType(stepExecution(s, tradeUpdate(id, "fill", "filled", 10, fill)), "ReportAnomaly");
  };
  const low = sell("99");
  assert.equal(low[0]?.kind, "fill_slippage");
  assert.match(low[0]!.message, /XOM sell filled at 99, 100 bps from the decision price 100/);
  assert.deepEqual(sell("101"), []);
});
