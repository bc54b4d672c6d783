/**
 * migrations: reading the numbered files in sql/ and deciding what to apply. Pure apart from
 * reading the directory, so the rules (order, duplicates, checksum drift) are tested on their own.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TradepipeError } from "../errors.ts";

/** DEFAULT_MIGRATIONS_DIR is the repository's sql/ folder. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../../sql/", import.meta.url));

export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** checksumOf hashes a migration's text; line endings are normalised so a CRLF checkout agrees. */
export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex");
}

/** readMigrations lists `NNNN_name.sql` files of `dir` in version order. */
export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (cause) {
    throw new TradepipeError("TP_ERR_DB_MIGRATION", `${dir}: cannot read migrations folder`, {
      cause,
    });
  }
  const out: MigrationFile[] = [];
  for (const file of names.filter((n) => n.endsWith(".sql")).sort()) {
    const m = FILE_PATTERN.exec(file);
    if (!m) {
      throw new TradepipeError(
        "TP_ERR_DB_MIGRATION",
        `${join(dir, file)}: migration file names must look like 0007_add_thing.sql (4 digits, underscore, lower-case name)`,
      );
    }
    const sql = readFileSync(join(dir, file), "utf8");
    out.push({ version: Number(m[1]), name: m[2] ?? "", file, sql, checksum: checksumOf(sql) });
  }
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1];
    const cur = out[i];
    if (prev && cur && prev.version === cur.version) {
      throw new TradepipeError(
        "TP_ERR_DB_MIGRATION",
        `${dir}: two migrations share version ${cur.version}: ${prev.file} and ${cur.file}`,
      );
    }
  }
  return out;
}

/**
 * planMigrations returns the files still to apply, after checking that every applied migration
 * still exists unchanged. An edited applied migration is refused: the database would no longer
 * match what the files describe. Add a new migration instead.
 */
export function planMigrations(
  files: MigrationFile[],
  applied: AppliedMigration[],
): MigrationFile[] {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const a of applied) {
    const f = byVersion.get(a.version);
    if (!f) {
      throw new TradepipeError(
        "TP_ERR_DB_MIGRATION",
        `migration ${pad(a.version)}_${a.name} is applied in the database but missing from the migrations folder (is this build older than the database?)`,
      );
    }
    if (f.checksum !== a.checksum) {
      throw new TradepipeError(
        "TP_ERR_DB_MIGRATION",
        `${f.file}: checksum mismatch: this migration was applied with checksum ${a.checksum.slice(0, 12)}… but the file now hashes to ${f.checksum.slice(0, 12)}…; applied migrations must not be edited, add a new migration instead`,
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  const pending = files.filter((f) => !done.has(f.version));
  const lastApplied = Math.max(0, ...applied.map((a) => a.version));
  const early = pending.find((f) => f.version < lastApplied);
  if (early) {
    throw new TradepipeError(
      "TP_ERR_DB_MIGRATION",
      `${early.file}: version ${early.version} is older than the newest applied migration (${pad(lastApplied)}); renumber it after ${pad(lastApplied)}`,
    );
  }
  return pending;
}

/** lineOfPosition turns Postgres' 1-based character position into a line number. */
export function lineOfPosition(sql: string, position: number): number {
  return sql.slice(0, Math.max(0, position - 1)).split("\n").length;
}

function pad(version: number): string {
  return String(version).padStart(4, "0");
}
