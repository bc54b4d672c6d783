/**
 * connect: the one way a process gets its database. DATABASE_URL points at an existing server;
 * without it an embedded Postgres is started in tradepipe's data directory (and stopped by
 * close()).
 */

import { homedir } from "node:os";
import pg from "pg";
import { TradepipeError } from "../errors.ts";
import { type EmbeddedLog, startEmbeddedPostgres } from "./embedded.ts";
import { defaultDataDir } from "./embedded-paths.ts";
import { migrate } from "./migrate.ts";
import { databaseUrlFromEnv, maskDatabaseUrl } from "./url.ts";

export interface Database {
  pool: pg.Pool;
  /** Connection string in use (contains a password: never log it unredacted). */
  url: string;
  /** True when this process started the server (embedded). */
  embedded: boolean;
  /** Ends the pool and, when embedded, stops the server. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  log?: EmbeddedLog;
  /** Apply pending migrations before returning (default false). */
  migrate?: boolean;
  /** Embedded data directory (default: see embedded-paths.ts defaultDataDir). */
  dataDir?: string;
  /** Pool size (default 10). */
  max?: number;
  env?: NodeJS.ProcessEnv;
}

/** openDatabase connects to DATABASE_URL, or starts the embedded server when it is unset. */
export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Database> {
  const env = opts.env ?? process.env;
  const external = databaseUrlFromEnv(env);
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        // The caller's environment decides the data directory (TRADEPIPE_DATA_DIR), not ours.
        dataDir: opts.dataDir ?? defaultDataDir(env, homedir(), process.getuid?.() ?? -1),
        ...(opts.log ? { log: opts.log } : {}),
      });
  const url = external || (server?.url ?? "");
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  pool.on("error", (err) =>
    opts.log?.warn({ err: err.message }, "idle database connection failed"),
  );
  const close = async (): Promise<void> => {
    await pool.end().catch(() => {});
    await server?.stop();
  };
  try {
    await pool.query("SELECT 1").catch((cause: unknown) => {
      const where = external ? `${maskDatabaseUrl(external)} (DATABASE_URL)` : "embedded Postgres";
      throw new TradepipeError(
        "TP_ERR_DB_UNAVAILABLE",
        `cannot reach ${where}: ${(cause as Error).message || String(cause)}`,
        { cause },
      );
    });
    if (opts.migrate) await migrate(pool, opts.log ? { log: opts.log } : {});
  } catch (err) {
    await close();
    throw err;
  }
  return { pool, url, embedded: server !== undefined, close };
}
