/**
 * pg: fresh, uniquely named databases for tests on a real Postgres server.
 *
 * The server is the one at TRADEPIPE_TEST_DATABASE_URL (the test runner starts one embedded
 * server for the whole run and sets it). When a test file runs on its own without it, one
 * throw-away embedded server is started in a temporary directory for this process and stopped,
 * and its directory removed, when the process finishes.
 */

import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { migrate } from "../../services/core/db/migrate.ts";

export interface TestDatabase {
  /** Connection string of the new database. */
  url: string;
  /** Database name (tp_test_…). */
  name: string;
  /** A pool on the database (max 10 connections; lets the process exit when idle). */
  pool: pg.Pool;
  /**
   * Ends the pool and drops the database, forcing off any other session. Pools a test opens
   * itself should have an "error" listener: pg's pool.end() does not wait for its sockets to
   * close, so the forced drop can cut one short.
   */
  drop(): Promise<void>;
}

let serverUrl: Promise<string> | undefined;
let counter = 0;

/** testServerUrl is a connection string to the test server's maintenance database. */
export function testServerUrl(): Promise<string> {
  serverUrl ??= process.env.TRADEPIPE_TEST_DATABASE_URL
    ? Promise.resolve(process.env.TRADEPIPE_TEST_DATABASE_URL)
    : startProcessServer();
  return serverUrl;
}

/** createTestDatabase creates an empty database with a unique name on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = await testServerUrl();
  counter += 1;
  const name = `tp_test_${process.pid}_${counter}_${randomBytes(3).toString("hex")}`;
  await withAdmin(admin, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = withDatabase(admin, name);
  const pool = new pg.Pool({ connectionString: url, max: 10, allowExitOnIdle: true });
  pool.on("error", () => {}); // an idle client killed by DROP … WITH (FORCE) is expected
  let dropped = false;
  return {
    url,
    name,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => {});
      await withAdmin(admin, (c) =>
        c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}

/** withMigratedDatabase is createTestDatabase followed by every migration in sql/. */
export async function withMigratedDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  try {
    await migrate(db.pool);
  } catch (err) {
    await db.drop();
    throw err;
  }
  return db;
}

/** withDatabase swaps the database name in a connection string. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function withAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function startProcessServer(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-test-pg-"));
  // As root the server runs as an unprivileged user that must be able to enter this directory.
  await chmod(dir, 0o755);
  let server: EmbeddedPostgres;
  try {
    server = await startEmbeddedPostgres({ dataDir: join(dir, "data"), durable: false });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let cleaned = false;
  // beforeExit fires once the tests have finished and nothing else is pending: stop there, so
  // the server shuts down cleanly before its directory is removed.
  process.on("beforeExit", () => {
    if (cleaned) return;
    cleaned = true;
    void server.stop().finally(() => rm(dir, { recursive: true, force: true }));
  });
  process.on("exit", () => {
    if (!cleaned) rmSync(dir, { recursive: true, force: true });
  });
  return server.adminUrl;
}
