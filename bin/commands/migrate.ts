/**
 * `tradepipe migrate [--status] [--data-dir DIR]`: applies the pending sql/ migrations to
 * DATABASE_URL, or to the embedded Postgres (started for the occasion and stopped after) when
 * DATABASE_URL is unset. Safe to run from several processes at once.
 */

import { homedir } from "node:os";
import { parseArgs } from "node:util";
import { openDatabase } from "../../services/core/db/connect.ts";
import { defaultDataDir } from "../../services/core/db/embedded-paths.ts";
import { migrate } from "../../services/core/db/migrate.ts";
import { planMigrations, readMigrations } from "../../services/core/db/migrations.ts";
import { maskDatabaseUrl } from "../../services/core/db/url.ts";

const USAGE = `usage: tradepipe migrate [--status] [--data-dir DIR]

Applies the database migrations in sql/ that have not run yet, each in its own transaction.
Uses DATABASE_URL when set, else the embedded Postgres in the data directory
(default ${defaultDataDir(process.env, homedir(), process.getuid?.() ?? -1)}).

  --status         list applied and pending migrations; apply nothing
  --data-dir DIR   embedded Postgres data directory (ignored with DATABASE_URL)
`;

export async function main(argv: string[]): Promise<number> {
  let values: { status?: boolean; "data-dir"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        status: { type: "boolean" },
        "data-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`tradepipe migrate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const db = await openDatabase(values["data-dir"] ? { dataDir: values["data-dir"] } : {});
  try {
    const where = db.embedded ? "embedded Postgres" : "DATABASE_URL";
    process.stdout.write(`database: ${maskDatabaseUrl(db.url)} (${where})\n`);
    if (values.status) return await printStatus(db.pool);
    const result = await migrate(db.pool);
    for (const a of result.applied) {
      process.stdout.write(`applied ${String(a.version).padStart(4, "0")}_${a.name}\n`);
    }
    const summary =
      result.applied.length === 0 ? "nothing to apply" : `${result.applied.length} applied`;
    process.stdout.write(`schema at version ${result.version} (${summary})\n`);
    return 0;
  } finally {
    await db.close();
  }
}

async function printStatus(pool: import("pg").Pool): Promise<number> {
  const files = readMigrations();
  const exists = await pool.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS e");
  const applied = exists.rows[0]?.e
    ? (
        await pool.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
          "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version",
        )
      ).rows
    : [];
  for (const a of applied) {
    const v = String(a.version).padStart(4, "0");
    process.stdout.write(`applied  ${v}_${a.name}  ${a.applied_at.toISOString()}\n`);
  }
  for (const p of planMigrations(files, applied)) {
    process.stdout.write(`pending  ${p.file}\n`);
  }
  return 0;
}
