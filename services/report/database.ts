/**
 * database: which database `tradepipe report` reads. DATABASE_URL when set; else the database of
 * the `tradepipe run` live on this machine (--pid picks one of several); else the embedded
 * Postgres data directory the last run left, started for the occasion and stopped after (as
 * `tradepipe migrate` does). Never creates a cluster: a report of nothing is an error.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { openDatabase } from "../core/db/connect.ts";
import { defaultDataDir } from "../core/db/embedded-paths.ts";
import { databaseUrlFromEnv, maskDatabaseUrl } from "../core/db/url.ts";
import { TradepipeError } from "../core/errors.ts";
import { liveRuns } from "../pipeline/run-files.ts";

export interface ReportDatabase {
  pool: pg.Pool;
  /** Where the data comes from, without secrets. */
  label: string;
  close(): Promise<void>;
}

export interface ReportDatabaseOptions {
  /** Embedded data directory (skips the live-run lookup). */
  dataDir?: string;
  /** The live run to read when several are running. */
  pid?: number;
  env?: NodeJS.ProcessEnv;
}

/** openReportDatabase picks and opens the database as described above. */
export async function openReportDatabase(
  opts: ReportDatabaseOptions = {},
): Promise<ReportDatabase> {
  const env = opts.env ?? process.env;
  if (databaseUrlFromEnv(env)) {
    const db = await openDatabase({ env, max: 2 });
    return {
      pool: db.pool,
      label: `${maskDatabaseUrl(db.url)} (DATABASE_URL)`,
      close: db.close,
    };
  }
  if (!opts.dataDir) {
    const runs = liveRuns(env).filter((r) => opts.pid === undefined || r.pid === opts.pid);
    if (runs.length === 1) {
      const run = runs[0]!;
      const pool = new pg.Pool({ connectionString: run.databaseUrl, max: 2 });
      pool.on("error", () => {});
      return {
        pool,
        label: `the live tradepipe run (pid ${run.pid}, pipeline ${run.pipeline})`,
        close: () => pool.end(),
      };
    }
    if (runs.length > 1) {
      const list = runs.map((r) => `  --pid ${r.pid}  (pipeline ${r.pipeline})`).join("\n");
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `several \`tradepipe run\` are running; say which:\n${list}`,
      );
    }
    if (opts.pid !== undefined) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `no \`tradepipe run\` with pid ${opts.pid} on this machine`,
      );
    }
  }
  const dataDir = resolve(opts.dataDir ?? defaultDataDir(env, homedir(), process.getuid?.() ?? -1));
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    throw new TradepipeError(
      "TP_ERR_DB_UNAVAILABLE",
      `${dataDir}: no tradepipe database here (no DATABASE_URL, no live \`tradepipe run\`, and no embedded Postgres cluster in the data directory); run \`tradepipe run\` first, or point at one with DATABASE_URL, TRADEPIPE_DATA_DIR or --data-dir`,
    );
  }
  const db = await openDatabase({ dataDir, env: { ...env, DATABASE_URL: "" }, max: 2 });
  return { pool: db.pool, label: `embedded Postgres in ${dataDir}`, close: db.close };
}
