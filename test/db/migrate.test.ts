import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { migrate } from "../../services/core/db/migrate.ts";
import { DEFAULT_MIGRATIONS_DIR, readMigrations } from "../../services/core/db/migrations.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { createTestDatabase, type TestDatabase } from "../support/pg.ts";

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function freshDb(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

async function copyOfSqlDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-sql-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

const EXPECTED_TABLES = [
  "cancel_all_requests",
  "dashboard_attribution",
  "equity_rollup_widths",
  "fills",
  "fills_rollup",
  "leadership_group",
  "order_audit_trail",
  "orders",
  "portfolio_equity_rollup",
  "portfolio_snapshots",
  "position_snapshots",
  "positions",
  "risk_state",
  "schema_migrations",
  "stage_leadership",
];

test("migrations apply to an empty database, then a second run applies nothing", async () => {
  const db = await freshDb();
  const files = readMigrations();
  assert.ok(files.length >= 4);

  const first = await migrate(db.pool);
  assert.deepEqual(
    first.applied.map((a) => a.version),
    files.map((f) => f.version),
  );
  assert.equal(first.version, files.at(-1)?.version);

  const tables = await db.pool.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  assert.deepEqual(
    tables.rows.map((r) => r.table_name),
    EXPECTED_TABLES,
  );
  const recorded = await db.pool.query(
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
  );
  assert.deepEqual(
    recorded.rows,
    files.map((f) => ({ version: f.version, name: f.name, checksum: f.checksum })),
  );

  const second = await migrate(db.pool);
  assert.deepEqual(second.applied, []);
  assert.equal(second.version, first.version);
  const count = await db.pool.query("SELECT count(*)::int AS n FROM schema_migrations");
  assert.equal(count.rows[0].n, files.length);
});

test("money and quantity columns are NUMERIC and timestamps timestamptz", async () => {
  const db = await freshDb();
  await migrate(db.pool);
  const cols = await db.pool.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
      WHERE c.table_schema = 'public' AND c.table_name <> 'schema_migrations'
        AND (c.column_name ~ '(qty|price|pnl|commission|value|peak)$' OR c.column_name ~ '_at$')`,
  );
  assert.ok(cols.rows.length > 20);
  for (const c of cols.rows) {
    const want = c.column_name.endsWith("_at") ? "timestamp with time zone" : "numeric";
    assert.equal(c.data_type, want, `${c.table_name}.${c.column_name}`);
  }
  const idx = await db.pool.query<{ indexname: string }>(
    "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'",
  );
  const names = idx.rows.map((r) => r.indexname);
  for (const want of [
    "orders_client_order_id_key",
    "orders_symbol_idx",
    "orders_status_idx",
    "orders_created_at_idx",
    "order_audit_trail_correlation_id_idx",
  ]) {
    assert.ok(names.includes(want), `index ${want}`);
  }
});

test("an applied migration whose file changed is refused with a checksum mismatch", async () => {
  const db = await freshDb();
  const dir = await copyOfSqlDir();
  await migrate(db.pool, { dir });
  const file = join(dir, "0002_append_only_audit.sql");
  await writeFile(file, `${await readFile(file, "utf8")}\n-- edited after it was applied\n`);
  await assert.rejects(
    migrate(db.pool, { dir }),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_DB_MIGRATION") &&
      /0002_append_only_audit\.sql: checksum mismatch/.test(e.message),
  );
});

test("an applied migration missing from the folder is refused", async () => {
  const db = await freshDb();
  const dir = await copyOfSqlDir();
  await migrate(db.pool, { dir });
  await rm(join(dir, "0003_fencing.sql"));
  await assert.rejects(
    migrate(db.pool, { dir }),
    /0003_fencing is applied in the database but missing/,
  );
});

test("a failing migration is rolled back whole and reported with file and line", async () => {
  const db = await freshDb();
  const dir = await copyOfSqlDir();
  await migrate(db.pool, { dir });
  await writeFile(
    join(dir, "9000_broken.sql"),
    "CREATE TABLE half_done (id int);\n\nSELECT no_such_column FROM half_done;\n",
  );
  await assert.rejects(
    migrate(db.pool, { dir }),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_DB_MIGRATION") &&
      e.message.startsWith("9000_broken.sql:3: ") &&
      /no_such_column/.test(e.message),
  );
  const left = await db.pool.query("SELECT to_regclass('half_done') AS t");
  assert.equal(left.rows[0].t, null, "the table created before the error was rolled back");
  const recorded = await db.pool.query("SELECT 1 FROM schema_migrations WHERE version = 9000");
  assert.equal(recorded.rowCount, 0);
});

test("badly named migration files are refused before anything runs", async () => {
  const db = await freshDb();
  const dir = await copyOfSqlDir();
  await writeFile(join(dir, "5_AddThing.sql"), "SELECT 1;");
  await assert.rejects(
    migrate(db.pool, { dir }),
    /5_AddThing\.sql: migration file names must look like/,
  );
  const t = await db.pool.query("SELECT to_regclass('orders') AS t");
  assert.equal(t.rows[0].t, null);
});
