import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SQLSTATE_APPEND_ONLY, translateDbError } from "../../services/core/db/errors.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
  // No leader yet: the current epoch is 0, so these writes carry 0.
  await db.pool.query(
    `INSERT INTO order_audit_trail (stage, event_type, correlation_id, client_order_id, symbol, payload, occurred_at, fencing_epoch)
     VALUES ('execution-engine', 'intent', 'corr-1', 'tp-default-sig-1', 'AAPL', '{"qty":"10"}', now(), 0),
            ('execution-engine', 'submitted', 'corr-1', 'tp-default-sig-1', 'AAPL', '{}', now(), 0)`,
  );
});
after(() => db.drop());

function refusedAsAppendOnly(op: string) {
  return (err: unknown) => {
    assert.equal((err as { code?: string }).code, SQLSTATE_APPEND_ONLY);
    assert.match((err as Error).message, new RegExp(`append-only: ${op} is not allowed`));
    assert.ok(isTradepipeError(translateDbError(err), "TP_ERR_APPEND_ONLY"));
    return true;
  };
}

test("the audit trail accepts inserts", async () => {
  const r = await db.pool.query("SELECT event_type FROM order_audit_trail ORDER BY id");
  assert.deepEqual(
    r.rows.map((x) => x.event_type),
    ["intent", "submitted"],
  );
});

test("UPDATE on the audit trail is refused by the database", async () => {
  await assert.rejects(
    db.pool.query(
      "UPDATE order_audit_trail SET reason = 'rewritten' WHERE correlation_id = 'corr-1'",
    ),
    refusedAsAppendOnly("UPDATE"),
  );
});

test("DELETE on the audit trail is refused by the database", async () => {
  await assert.rejects(
    db.pool.query("DELETE FROM order_audit_trail WHERE event_type = 'intent'"),
    refusedAsAppendOnly("DELETE"),
  );
});

test("TRUNCATE on the audit trail is refused by the database", async () => {
  await assert.rejects(
    db.pool.query("TRUNCATE order_audit_trail"),
    refusedAsAppendOnly("TRUNCATE"),
  );
});

test("after the refusals every row is still there, unchanged", async () => {
  const r = await db.pool.query(
    "SELECT count(*)::int AS n, count(reason)::int AS changed FROM order_audit_trail",
  );
  assert.deepEqual(r.rows[0], { n: 2, changed: 0 });
});
