/**
 * Fencing covers every table a stage writes: the list is read from the database itself (every
 * table with a fencing_epoch column), so a new stage-owned table, or a dropped trigger, turns
 * this red without anyone remembering to extend a hand-written list.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { SQLSTATE_STALE_EPOCH } from "../../services/core/db/errors.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
});
after(async () => {
  await db.drop();
});

/** Tables that carry a fencing_epoch column: the ones a leader stamps its writes with. */
async function tablesWithEpochColumn(): Promise<string[]> {
  const { rows } = await db.pool.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = current_schema() AND c.column_name = 'fencing_epoch'
        AND t.table_type = 'BASE TABLE'
      ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

/** The owner stage each fenced table's trigger passes to tp_check_fencing_epoch. */
async function fencingTriggers(): Promise<Map<string, string>> {
  const { rows } = await db.pool.query<{ table_name: string; arg: string; enabled: string }>(
    `SELECT c.relname AS table_name,
            encode(t.tgargs, 'escape') AS arg,
            t.tgenabled AS enabled
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE p.proname = 'tp_check_fencing_epoch' AND NOT t.tgisinternal
        AND (t.tgtype & 2) <> 0 -- BEFORE
        AND (t.tgtype & 4) <> 0 -- INSERT`,
  );
  // tgenabled 'D' means the trigger was disabled (ALTER TABLE … DISABLE TRIGGER).
  return new Map(
    rows.filter((r) => r.enabled !== "D").map((r) => [r.table_name, r.arg.replace(/\\000$/, "")]),
  );
}

test("every table with a fencing epoch has an enabled BEFORE INSERT fencing trigger", async () => {
  const tables = await tablesWithEpochColumn();
  // The migrations define six stage-owned tables today; fewer means a table lost its column.
  assert.ok(tables.length >= 6, `expected at least 6 fenced tables, found ${tables.join(", ")}`);
  const triggers = await fencingTriggers();
  const unfenced = tables.filter((t) => !triggers.has(t));
  assert.deepEqual(unfenced, [], `tables without a fencing trigger: ${unfenced.join(", ")}`);
});

test("the fenced_tables view lists exactly the tables that carry a fencing trigger", async () => {
  const { rows } = await db.pool.query<{ table_name: string }>(
    "SELECT table_name FROM fenced_tables ORDER BY 1",
  );
  const triggers = await fencingTriggers();
  assert.deepEqual(
    rows.map((r) => r.table_name),
    [...triggers.keys()].sort(),
  );
});

test("a stale epoch is refused on every fenced table", async () => {
  const tables = await tablesWithEpochColumn();
  const triggers = await fencingTriggers();
  const stages = new Set<string>(["execution-engine", "position-tracker", "risk-manager"]);
  for (const owner of triggers.values()) if (owner !== "*") stages.add(owner);
  // Every owning stage leads under epoch 7; the writes below carry epoch 6, as a deposed leader's
  // would. The trigger fires before NOT NULL and CHECK constraints, so a row holding only the
  // epoch (and the stage column where the trigger reads the owner from it) reaches it.
  for (const stage of stages) {
    await db.pool.query(
      "INSERT INTO stage_leadership (stage, holder, epoch) VALUES ($1, 'test-holder', 7)",
      [stage],
    );
  }
  for (const table of tables) {
    const owner = triggers.get(table);
    const columns = owner === "*" ? "(stage, fencing_epoch)" : "(fencing_epoch)";
    const values = owner === "*" ? "('execution-engine', 6)" : "(6)";
    await assert.rejects(
      db.pool.query(`INSERT INTO ${pg.escapeIdentifier(table)} ${columns} VALUES ${values}`),
      (err: { code?: string; message?: string }) => {
        assert.equal(err.code, SQLSTATE_STALE_EPOCH, `${table}: ${err.message}`);
        return true;
      },
      `a write with a stale epoch on ${table} was not refused`,
    );
  }
});
