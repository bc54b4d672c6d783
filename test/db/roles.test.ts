/**
 * Least privilege in the database (sql/0007_roles.sql), against the real server: a stage's login
 * role cannot run a program through COPY, cannot switch triggers off with
 * session_replication_role, cannot change or remove the audit trail, cannot touch the kill switch
 * columns but through tp_set_kill_switch, and cannot write another stage's tables; each can do
 * what its stage does.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { migrate } from "../../services/core/db/migrate.ts";
import { ensureStageLogins } from "../../services/core/db/stage-roles.ts";

const SQL_DIR = fileURLToPath(new URL("../../sql", import.meta.url));

import { type TestDatabase, withDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
const made: string[] = [];
const clients: pg.Client[] = [];

before(async () => {
  db = await withMigratedDatabase();
});
after(async () => {
  for (const c of clients) await c.end().catch(() => {});
  await db.drop();
  // Roles are the server's, not the database's: drop them from the maintenance database.
  const admin = new pg.Client({ connectionString: withDatabase(db.url, "postgres") });
  await admin.connect();
  try {
    for (const r of made) await admin.query(`DROP ROLE IF EXISTS ${r}`);
  } finally {
    await admin.end();
  }
});

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** loginAs makes a LOGIN role in `group` and connects to the test database with it. */
async function loginAs(group: string): Promise<pg.Client> {
  const name = `tp_login_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  await adminQuery(`CREATE ROLE ${name} LOGIN PASSWORD '${password}' IN ROLE ${group}`);
  made.push(name);
  const u = new URL(db.url);
  u.username = name;
  u.password = password;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  clients.push(c);
  return c;
}

const refused = (code: string, message?: RegExp) => (err: unknown) => {
  assert.equal((err as { code?: string }).code, code, (err as Error).message);
  if (message) assert.match((err as Error).message, message);
  return true;
};

test("a stage role cannot run a program through COPY, nor switch the audit trigger off", async () => {
  for (const group of [
    "tradepipe_execution_engine",
    "tradepipe_risk_manager",
    "tradepipe_market_data",
  ]) {
    const c = await loginAs(group);
    await assert.rejects(
      c.query("COPY (SELECT 1) TO PROGRAM 'id > /tmp/tp-pwned'"),
      refused("42501", /external program/),
    );
    await assert.rejects(
      c.query("SET session_replication_role = replica"),
      refused("42501", /session_replication_role/),
    );
    await assert.rejects(c.query("SELECT pg_read_file('/etc/passwd')"), refused("42501"));
  }
});

test("the execution engine appends to the audit trail and can neither change nor remove it", async () => {
  const c = await loginAs("tradepipe_execution_engine");
  await c.query(
    `INSERT INTO order_audit_trail (stage, event_type, correlation_id, occurred_at, fencing_epoch)
     VALUES ('execution-engine', 'intent', 'c-1', now(), 0)`,
  );
  await assert.rejects(
    c.query("UPDATE order_audit_trail SET reason = 'rewritten'"),
    refused("42501", /permission denied/),
  );
  await assert.rejects(c.query("DELETE FROM order_audit_trail"), refused("42501"));
  await assert.rejects(c.query("TRUNCATE order_audit_trail"), refused("42501"));
  await assert.rejects(
    c.query("ALTER TABLE order_audit_trail DISABLE TRIGGER ALL"),
    refused("42501"),
  );
  await assert.rejects(
    c.query("DROP TRIGGER order_audit_trail_no_update_delete ON order_audit_trail"),
    refused("42501"),
  );
  // Another stage's table: refused.
  await assert.rejects(
    c.query("UPDATE positions SET qty = 0"),
    refused("42501", /permission denied for table positions/),
  );
  const rows = await db.pool.query("SELECT count(*)::int AS n FROM order_audit_trail");
  assert.equal(rows.rows[0].n, 1);
});

test("the kill switch columns change only through tp_set_kill_switch, which records the change", async () => {
  const risk = await loginAs("tradepipe_risk_manager");
  await assert.rejects(
    risk.query("UPDATE risk_state SET kill_switch_engaged = false WHERE id = 1"),
    refused("42501", /permission denied/),
  );
  // Its own columns it may write.
  await risk.query("UPDATE risk_state SET circuit_state = 'open', fencing_epoch = 0 WHERE id = 1");
  const r = await risk.query(
    "SELECT kill_switch_engaged FROM tp_set_kill_switch(true, 'test', 'test')",
  );
  assert.equal(r.rows[0].kill_switch_engaged, true);

  const ops = await loginAs("tradepipe_kill_switch");
  const off = await ops.query(
    "SELECT kill_switch_engaged FROM tp_set_kill_switch(false, null, 'ops')",
  );
  assert.equal(off.rows[0].kill_switch_engaged, false);
  await assert.rejects(ops.query("SELECT * FROM orders"), refused("42501"));
  await assert.rejects(
    ops.query("UPDATE risk_state SET kill_switch_engaged = true"),
    refused("42501"),
  );
});

test("pause and cancel-all change only through their functions; the execution engine serves requests", async () => {
  const risk = await loginAs("tradepipe_risk_manager");
  await assert.rejects(
    risk.query("UPDATE risk_state SET paused = true WHERE id = 1"),
    refused("42501", /permission denied/),
  );
  const ops = await loginAs("tradepipe_kill_switch");
  const paused = await ops.query(
    "SELECT paused, paused_changed_by FROM tp_set_pause(true, 'x', 'ops')",
  );
  assert.deepEqual(paused.rows[0], { paused: true, paused_changed_by: "ops" });
  await ops.query("SELECT tp_set_pause(false, null, 'ops')");
  const req = await ops.query("SELECT id FROM tp_request_cancel_all('x', 'ops')");
  await assert.rejects(
    ops.query("INSERT INTO cancel_all_requests (requested_by) VALUES ('forged')"),
    refused("42501"),
  );

  const engine = await loginAs("tradepipe_execution_engine");
  await assert.rejects(
    engine.query("SELECT tp_request_cancel_all('x', 'engine')"),
    refused("42501"),
  );
  await assert.rejects(
    engine.query("UPDATE cancel_all_requests SET requested_by = 'someone'"),
    refused("42501"),
  );
  await engine.query("SELECT tp_finish_cancel_all($1, 3, NULL)", [req.rows[0].id]);
  const done = await engine.query(
    "SELECT cancelled_count, done_at FROM cancel_all_requests WHERE id = $1",
    [req.rows[0].id],
  );
  assert.equal(done.rows[0].cancelled_count, 3);
  assert.notEqual(done.rows[0].done_at, null);
});

test("every object belongs to the NOLOGIN owner role, and PUBLIC may not create in the schema", async () => {
  const owners = await db.pool.query(
    `SELECT c.relname, pg_get_userbyid(c.relowner) AS owner
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND c.relname <> 'schema_migrations'`,
  );
  for (const row of owners.rows) assert.equal(row.owner, "tradepipe_owner", row.relname);
  const role = await db.pool.query(
    "SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'tradepipe_owner'",
  );
  assert.deepEqual(role.rows[0], { rolcanlogin: false, rolsuper: false });
  const stage = await loginAs("tradepipe_signal_bridge");
  await assert.rejects(stage.query("CREATE TABLE mine (x int)"), refused("42501"));
});

test("ensureStageLogins gives each stage a URL whose session holds its stage's role and no more", async () => {
  const urls = await ensureStageLogins(db.pool, db.url, ["execution-engine", "risk-manager"]);
  for (const r of ["tradepipe_execution_engine_login", "tradepipe_risk_manager_login"]) {
    if (!made.includes(r)) made.push(r);
  }
  const ee = new pg.Client({ connectionString: urls.get("execution-engine")! });
  await ee.connect();
  clients.push(ee);
  const who = await ee.query(
    `SELECT current_user AS me, pg_has_role(current_user, 'tradepipe_execution_engine', 'MEMBER') AS ee,
            pg_has_role(current_user, 'tradepipe_risk_manager', 'MEMBER') AS rm,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super`,
  );
  assert.deepEqual(who.rows[0], {
    me: "tradepipe_execution_engine_login",
    ee: true,
    rm: false,
    super: false,
  });
  await assert.rejects(ee.query("COPY (SELECT 1) TO PROGRAM 'true'"), refused("42501"));
  // A second run re-keys the role: the old password no longer works.
  const again = await ensureStageLogins(db.pool, db.url, ["execution-engine"]);
  assert.notEqual(again.get("execution-engine"), urls.get("execution-engine"));
  const stale = new pg.Client({ connectionString: urls.get("execution-engine")! });
  await assert.rejects(stale.connect(), /password authentication failed/);
});

test("a migration after the roles runs as the owner role: what it creates belongs to it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tp-migrations-"));
  try {
    for (const f of await readdir(SQL_DIR)) {
      if (f.endsWith(".sql")) await copyFile(join(SQL_DIR, f), join(dir, f));
    }
    await writeFile(join(dir, "0099_probe.sql"), "CREATE TABLE probe_after_roles (x int);\n");
    const r = await migrate(db.pool, { dir });
    assert.deepEqual(
      r.applied.map((a) => a.version),
      [99],
    );
    const owner = await db.pool.query(
      "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'probe_after_roles'",
    );
    assert.equal(owner.rows[0].owner, "tradepipe_owner");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
