/**
 * A late fill booked at the wrong price, as the engine records it: each broker execution is its
 * own fill row, whatever order the executions arrive in; a gap is filled from FILL activities.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { findOrder, stepExecution } from "./core/index.ts";
import { d, engine, ofType, sentOrder, snapshot, T0 } from "./core/test-support.ts";
import { type FillRow, fillRowsOf } from "./fill-rows.ts";

/** rowsOf steps one event and returns the fill rows its audit records leave. */
function rowsOf(
  s: ReturnType<typeof engine>,
  id: string,
  event: Parameters<typeof stepExecution>[1],
  executions?: Parameters<typeof fillRowsOf>[2],
): FillRow[] {
  const order = { ...findOrder(s, id)! };
  const cmds = stepExecution(s, event);
  return ofType(cmds, "WriteAudit").flatMap((c) => fillRowsOf(c.record, order, executions));
}

const fillOf = (
  id: string,
  execution: string,
  qty: number,
  price: number,
  cum: number,
  avg: number,
) =>
  ({
    type: "TradeUpdated",
    timeNs: T0,
    clientOrderId: id,
    event: cum === 100 ? "fill" : "partial_fill",
    order: snapshot(cum === 100 ? "filled" : "partially_filled", cum, avg),
    executionId: execution,
    fillQty: d(qty),
    fillPrice: d(price),
  }) as const;

const brief = (rows: FillRow[]) => rows.map((r) => [r.execution_id, r.qty, r.price, r.late]);

test("a late fill booked at the wrong price: 50 @ 110 then the late 50 @ 100 are two rows at their own prices", () => {
  const s = engine();
  const id = sentOrder(s, "late", 100);
  // The second execution arrives first: its update already says 100 filled at 105 average.
  const first = rowsOf(s, id, fillOf(id, "x2", 50, 110, 100, 105), [
    { executionId: "x1", qty: d(50), price: d(100), timeNs: T0 },
    { executionId: "x2", qty: d(50), price: d(110), timeNs: T0 },
  ]);
  assert.deepEqual(brief(first), [
    ["x2", "50", "110", false],
    ["x1", "50", "100", false],
    ["x2", "50", "110", false],
  ]);
  // The late first execution adds nothing to the order, but is still its own row (a duplicate
  // of the activity's row by id, so the table keeps one).
  assert.deepEqual(brief(rowsOf(s, id, fillOf(id, "x1", 50, 100, 50, 100))), [
    ["x1", "50", "100", true],
  ]);
});

test("without activities a gap is one synthesized row priced from the cumulative average", () => {
  const s = engine();
  const id = sentOrder(s, "gap", 100);
  const rows = rowsOf(s, id, fillOf(id, "x2", 50, 110, 100, 105), null);
  assert.deepEqual(brief(rows), [
    ["x2", "50", "110", false],
    [`${id}@100`, "50", "100", false],
  ]);
});

test("a fill learnt from a lookup is recorded from the order's FILL activities", () => {
  const s = engine();
  const id = sentOrder(s, "lookup", 10);
  const rows = rowsOf(
    s,
    id,
    {
      type: "OrderResolved",
      timeNs: T0,
      clientOrderId: id,
      order: snapshot("filled", 10, "100.5"),
    },
    [
      { executionId: "e1", qty: d(4), price: d(100), timeNs: T0 },
      { executionId: "e2", qty: d(6), price: d("100.8333333"), timeNs: T0 },
    ],
  );
  assert.deepEqual(brief(rows), [
    ["e1", "4", "100", false],
    ["e2", "6", "100.8333333", false],
  ]);
});
