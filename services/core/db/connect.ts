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
import {
  type EmbeddedServerStatus,
  type EmbeddedSupervision,
  superviseEmbedded,
} from "./embedded-supervisor.ts";
import { migrate } from "./migrate.ts";
import { createStagePool, targetSessionAttrs } from "./pool.ts";
import { databaseUrlFromEnv, maskDatabaseUrl } from "./url.ts";

export interface Database {
  pool: pg.Pool;
  /** Connection string in use (contains a password: never log it unredacted). */
  url: string;
  /** True when this process started the server (embedded). */
  embedded: boolean;
  /** The embedded server's supervisor (restarts after a crash), when asked for and embedded. */
  server?: EmbeddedSupervision;
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
  /** Restart the embedded server whenever it crashes (tradepipe run); default false. */
  superviseEmbedded?: boolean;
  onServerChange?(status: EmbeddedServerStatus): void;
  env?: NodeJS.ProcessEnv;
}

/** openDatabase connects to DATABASE_URL, or starts the embedded server when it is unset. */
export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Database> {
  const env = opts.env ?? process.env;
  const external = databaseUrlFromEnv(env);
  const embeddedOptions = {
    // The caller's environment decides the data directory (TRADEPIPE_DATA_DIR), not ours.
    dataDir: opts.dataDir ?? defaultDataDir(env, homedir(), process.getuid?.() ?? -1),
    ...(opts.log ? { log: opts.log } : {}),
  };
  const server = external ? undefined : await startEmbeddedPostgres(embeddedOptions);
  const supervision =
    server && opts.superviseEmbedded
      ? superviseEmbedded(server, {
          // The same port: every stage's DATABASE_URL stays valid.
          restart: () => startEmbeddedPostgres({ ...embeddedOptions, port: server.port }),
          ...(opts.log ? { log: opts.log } : {}),
          ...(opts.onServerChange ? { onChange: opts.onServerChange } : {}),
        })
      : undefined;
  const url = external || (server?.url ?? "");
  // The long-lived pool notices a database that goes away (keepalives, timeouts, read-write
  // sessions only: pool.ts); migrations run on a pool of their own without those timeouts.
  const pool = createStagePool(url, { max: opts.max ?? 10 });
  pool.on("error", (err) =>
    opts.log?.warn({ err: err.message }, "idle database connection failed"),
  );
  const close = async (): Promise<void> => {
    await pool.end().catch(() => {});
    await (supervision ?? server)?.stop();
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
    if (opts.migrate) {
      const migrator = new pg.Pool({ connectionString: targetSessionAttrs(url).url, max: 1 });
      migrator.on("error", () => {});
      try {
        await migrate(migrator, opts.log ? { log: opts.log } : {});
      } finally {
        await migrator.end().catch(() => {});
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    pool,
    url,
    embedded: server !== undefined,
    ...(supervision ? { server: supervision } : {}),
    close,
  };
}
