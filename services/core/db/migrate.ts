/**
 * migrate: applies the pending sql/ migrations, one transaction each, under a session advisory
 * lock so two processes never migrate at once (the second waits, then finds nothing to do).
 */
import type pg from "pg";
import { TradepipeError } from "../errors.ts";
import {
  type AppliedMigration,
  DEFAULT_MIGRATIONS_DIR,
  lineOfPosition,
  type MigrationFile,
  planMigrations,
  readMigrations,
} from "./migrations.ts";

export interface MigrateLog {
  info(obj: object, msg?: string): void;
}

export interface MigrateOptions {
  /** Folder of NNNN_name.sql files (default: the repository's sql/). */
  dir?: string;
  log?: MigrateLog;
}

export interface MigrateResult {
  /** Migrations applied by this call, in order. */
  applied: { version: number; name: string }[];
  /** Highest version present after the call (0 for none). */
  version: number;
}

/** MIGRATION_LOCK_KEY names the advisory lock; every tradepipe migrator uses the same one. */
export const MIGRATION_LOCK_KEY = "tradepipe.migrate";

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms integer NOT NULL
)`;

/** OWNER_ROLE_USABLE: the owner role exists, may create in the schema, and we may become it. */
const OWNER_ROLE_USABLE = `
SELECT has_schema_privilege(r.oid, 'public', 'CREATE')
   AND pg_has_role(current_user, r.oid, 'MEMBER') AS owner
  FROM pg_roles r WHERE r.rolname = 'tradepipe_owner'`;

/** migrate brings the database behind `pool` up to the newest migration. */
export async function migrate(pool: pg.Pool, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const files = readMigrations(opts.dir ?? DEFAULT_MIGRATIONS_DIR);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(CREATE_TABLE);
      const { rows } = await client.query<AppliedMigration>(
        "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
      );
      const pending = planMigrations(files, rows);
      const applied: MigrateResult["applied"] = [];
      for (const m of pending) {
        await applyOne(client, m);
        applied.push({ version: m.version, name: m.name });
        opts.log?.info({ version: m.version, name: m.name }, "migration applied");
      }
      const version = Math.max(0, ...rows.map((r) => r.version), ...applied.map((a) => a.version));
      return { applied, version };
    } finally {
      await client
        .query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [MIGRATION_LOCK_KEY])
        .catch(() => {
          broken = true;
        });
    }
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than reuse it.
    client.release(broken);
  }
}

async function applyOne(client: pg.PoolClient, m: MigrationFile): Promise<void> {
  const started = performance.now();
  await client.query("BEGIN");
  try {
    // Once the schema belongs to tradepipe_owner (sql/0007_roles.sql), migrations run as it, so
    // what they create belongs to it too, never to whoever happens to migrate.
    const { rows } = await client.query<{ owner: boolean }>(OWNER_ROLE_USABLE);
    if (rows[0]?.owner) await client.query("SET LOCAL ROLE tradepipe_owner");
    await client.query(m.sql);
    await client.query("RESET ROLE");
    await client.query(
      "INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
      [m.version, m.name, m.checksum, Math.round(performance.now() - started)],
    );
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    const e = err as { message?: string; position?: string };
    const where = e.position ? `:${lineOfPosition(m.sql, Number(e.position))}` : "";
    throw new TradepipeError(
      "TP_ERR_DB_MIGRATION",
      `${m.file}${where}: ${e.message ?? String(err)} (the migration was rolled back)`,
      { cause: err },
    );
  }
}
