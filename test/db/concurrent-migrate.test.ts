import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { migrate } from "../../services/core/db/migrate.ts";
import { readMigrations } from "../../services/core/db/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/pg.ts";

const CLI = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));
const dbs: TestDatabase[] = [];
after(() => Promise.all(dbs.map((d) => d.drop())));

function runMigrateCli(url: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "migrate"], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (out += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

async function appliedVersions(pool: pg.Pool): Promise<number[]> {
  const r = await pool.query<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
  );
  return r.rows.map((x) => x.version);
}

test("two migrator processes at once: both succeed, each migration applied exactly once", {
  timeout: 60_000,
}, async () => {
  const db = await createTestDatabase();
  dbs.push(db);
  const [a, b] = await Promise.all([runMigrateCli(db.url), runMigrateCli(db.url)]);
  assert.equal(a.code, 0, a.out);
  assert.equal(b.code, 0, b.out);
  const files = readMigrations();
  const appliedLines = (a.out + b.out).split("\n").filter((l) => l.startsWith("applied "));
  assert.equal(appliedLines.length, files.length, `${a.out}\n${b.out}`);
  assert.ok(/nothing to apply/.test(a.out) || /nothing to apply/.test(b.out));
  assert.deepEqual(
    await appliedVersions(db.pool),
    files.map((f) => f.version),
  );
});

test("three pools migrating one database concurrently never collide", async () => {
  const db = await createTestDatabase();
  dbs.push(db);
  const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: db.url, max: 2 }));
  // pool.end() does not wait for sockets to close; dropping the database may cut one short.
  for (const p of pools) p.on("error", () => {});
  try {
    const results = await Promise.all(pools.map((p) => migrate(p)));
    const total = results.reduce((n, r) => n + r.applied.length, 0);
    const files = readMigrations();
    assert.equal(total, files.length);
    assert.ok(results.every((r) => r.version === files.at(-1)?.version));
    assert.deepEqual(
      await appliedVersions(db.pool),
      files.map((f) => f.version),
    );
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
});
