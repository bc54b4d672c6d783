/**
 * pipeline-db: the pipeline benchmark's Postgres servers — one durable (fsync on, as
 * `tradepipe run` runs it) and, for comparison, one with `durable: false` (fsync,
 * full_page_writes and synchronous_commit off: not a production setting). Each is a throw-away
 * embedded cluster on the same disk as the default data directory; every run gets a fresh
 * migrated database on it.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../../services/core/db/embedded.ts";
import { migrate } from "../../../services/core/db/migrate.ts";

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export interface BenchPostgres {
  durable: boolean;
  /** newDatabase creates and migrates a fresh database. */
  newDatabase(): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function startBenchPostgres(durable: boolean): Promise<BenchPostgres> {
  const dir = await mkdtemp(join(tmpdir(), `tp-bench-pg-${durable ? "durable" : "nofsync"}-`));
  // As root the server runs as an unprivileged user that must be able to enter this directory.
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: join(dir, "data"),
    durable,
    stopOnSignals: true,
  });
  return {
    durable,
    async newDatabase() {
      const name = `bench_${randomBytes(4).toString("hex")}`;
      await admin(server.adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
      const u = new URL(server.adminUrl);
      u.pathname = `/${name}`;
      const url = u.toString();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        await migrate(pool);
      } finally {
        await pool.end();
      }
      return {
        url,
        drop: async () => {
          await admin(server.adminUrl, (c) =>
            c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
          );
        },
      };
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
