import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase } from "../../services/core/db/connect.ts";
import { freePort } from "../../services/core/db/embedded.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { createTestDatabase } from "../support/pg.ts";

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("openDatabase uses DATABASE_URL when set, and can migrate", async () => {
  const target = await createTestDatabase();
  cleanups.push(() => target.drop());
  const db = await openDatabase({ env: { DATABASE_URL: target.url }, migrate: true });
  try {
    assert.equal(db.embedded, false);
    assert.equal(db.url, target.url);
    const r = await db.pool.query("SELECT count(*)::int AS n FROM schema_migrations");
    assert.ok(r.rows[0].n >= 4);
  } finally {
    await db.close();
  }
});

test("an unreachable DATABASE_URL fails clearly, without the user or the password", async () => {
  const port = await freePort();
  const url = `postgres://trader:do-not-print-me@127.0.0.1:${port}/tradepipe`;
  await assert.rejects(
    openDatabase({ env: { DATABASE_URL: url } }),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_DB_UNAVAILABLE") &&
      e.message.includes(`postgres://***@127.0.0.1:${port}/tradepipe (DATABASE_URL)`) &&
      !e.message.includes("do-not-print-me") &&
      !e.message.includes("trader"),
  );
});

test("without DATABASE_URL an embedded server is started and close() stops it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-connect-test-"));
  await chmod(dir, 0o755);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const db = await openDatabase({ env: {}, dataDir: join(dir, "pg"), migrate: true });
  assert.equal(db.embedded, true);
  const r = await db.pool.query("SELECT current_database() AS d");
  assert.equal(r.rows[0].d, "tradepipe");
  await db.close();
  await assert.rejects(db.pool.query("SELECT 1"));
});
