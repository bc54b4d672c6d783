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
  /** commitFloor: the server's bare round trip and one-row commit, paced like the ticks. */
  commitFloor(n: number, pauseMs: number): Promise<CommitFloor>;
  stop(): Promise<void>;
}

/** CommitFloor: Postgres's own floor on this machine, ns samples. */
export interface CommitFloor {
  /** `SELECT 1`: a round trip to the server, nothing written. */
  roundTrip: number[];
  /** A one-row INSERT in its own transaction (autocommit): the WAL write and, durable, flush. */
  commit: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const newDatabase = async (): Promise<BenchDatabase> => {
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
  };
  return {
    durable,
    newDatabase,
    async commitFloor(n, pauseMs) {
      const db = await newDatabase();
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const out: CommitFloor = { roundTrip: [], commit: [] };
      try {
        await c.query("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, v text NOT NULL)");
        const ping = { name: "bench_ping", text: "SELECT 1" };
        const insert = { name: "bench_insert", text: "INSERT INTO bench_commit (v) VALUES ($1)" };
        for (let i = 0; i < n + 20; i++) {
          await sleep(pauseMs);
          let t0 = process.hrtime.bigint();
          await c.query(ping);
          if (i >= 20) out.roundTrip.push(Number(process.hrtime.bigint() - t0));
          await sleep(pauseMs);
          t0 = process.hrtime.bigint();
          await c.query({ ...insert, values: [`tick ${i}`] });
          if (i >= 20) out.commit.push(Number(process.hrtime.bigint() - t0));
        }
      } finally {
        await c.end();
        await db.drop();
      }
      return out;
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
