/**
 * One execution is one fill row, however it reaches Postgres: a journal replayed after the
 * write-behind stored the order's executions must not add a synthesized gap row for the same
 * quantity (found by the in-flight crash test: 20 shares booked for a 10-share order).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestDatabase, withMigratedDatabase } from "../../test/support/pg.ts";
import { fromDecimal } from "../core/money.ts";
import type { AuditRecord, Order } from "./core/index.ts";
import { ExecutionStore } from "./store.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
});
after(async () => {
  await db.drop();
});

let seq = 0;
const order = (id: string, filled: string): Order => ({
  clientOrderId: id,
  signalId: id,
  correlationId: id,
  symbol: "AAPL",
  side: "buy",
  qty: fromDecimal("10"),
  orderType: "limit",
  limitPrice: fromDecimal("190"),
  timeInForce: "day",
  decisionPrice: fromDecimal("190"),
  status: "Filled",
  brokerOrderId: `b-${id}`,
  filledQty: fromDecimal(filled),
  filledNotional: fromDecimal(filled) * 190n,
  attempts: 1,
  awaiting: "none",
  cancelRequested: false,
  createdNs: 1n,
  updatedNs: 1n,
});
const record = (id: string, detail: Record<string, string>): AuditRecord => ({
  seq: ++seq,
  clientOrderId: id,
  correlationId: id,
  event: "fill",
  fromStatus: "New",
  toStatus: "Filled",
  attempt: 1,
  detail,
  timeNs: 1_000_000n * BigInt(seq),
});
/** A fill learnt from a lookup: 10 filled, no execution in hand (a gap of 10). */
const lookedUp = (id: string) => record(id, { fillQty: "10", fillPrice: "190", filledQty: "10" });

const rowsOf = async (id: string) =>
  (
    await db.pool.query<{ execution_id: string; qty: string }>(
      "SELECT execution_id, trim_scale(qty)::text AS qty FROM fills WHERE client_order_id = $1 ORDER BY id",
      [id],
    )
  ).rows.map((r) => [r.execution_id, r.qty]);

test("a replayed gap row is not written when the order's executions are stored already", async () => {
  const store = new ExecutionStore(db.pool, 0);
  // The write-behind stored the lookup's fill with the order's FILL activity (its own id).
  await store.writeBatch([
    {
      record: lookedUp("o1"),
      order: order("o1", "10"),
      executions: [
        { executionId: "act-1", qty: fromDecimal("10"), price: fromDecimal("190"), timeNs: 1n },
      ],
    },
  ]);
  // The journal holding the same record is replayed without the activities (none fetched).
  await store.writeBatch([{ record: lookedUp("o1"), order: order("o1", "10"), executions: null }]);
  assert.deepEqual(await rowsOf("o1"), [["act-1", "10"]]);
});

test("with nothing stored, the gap is one synthesized row, written once", async () => {
  const store = new ExecutionStore(db.pool, 0);
  await store.writeBatch([{ record: lookedUp("o2"), order: order("o2", "10"), executions: null }]);
  await store.writeBatch([{ record: lookedUp("o2"), order: order("o2", "10"), executions: null }]);
  assert.deepEqual(await rowsOf("o2"), [["o2@10", "10"]]);
});
