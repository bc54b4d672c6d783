import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../errors.ts";
import {
  checksumOf,
  lineOfPosition,
  type MigrationFile,
  planMigrations,
  readMigrations,
} from "./migrations.ts";

function file(version: number, sql = `-- ${version}`): MigrationFile {
  const name = `m${version}`;
  return {
    version,
    name,
    file: `${String(version).padStart(4, "0")}_${name}.sql`,
    sql,
    checksum: checksumOf(sql),
  };
}

test("the repository's migrations are numbered 0001, 0002, … without gaps", () => {
  const files = readMigrations();
  assert.deepEqual(
    files.map((f) => f.version),
    files.map((_, i) => i + 1),
  );
});

test("planMigrations returns what is not applied yet, in order", () => {
  const files = [file(1), file(2), file(3)];
  const applied = [{ version: 1, name: "m1", checksum: checksumOf("-- 1") }];
  assert.deepEqual(
    planMigrations(files, applied).map((f) => f.version),
    [2, 3],
  );
  assert.deepEqual(planMigrations(files, files), []);
});

test("planMigrations refuses an edited applied migration", () => {
  assert.throws(
    () =>
      planMigrations(
        [file(1, "CREATE TABLE a ()")],
        [{ version: 1, name: "m1", checksum: checksumOf("x") }],
      ),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_DB_MIGRATION") && /checksum mismatch/.test(e.message),
  );
});

test("planMigrations refuses a new migration numbered below the newest applied one", () => {
  const applied = [file(1), file(3)];
  assert.throws(
    () => planMigrations([file(1), file(2), file(3)], applied),
    /renumber it after 0003/,
  );
});

test("checksums ignore CRLF line endings", () => {
  assert.equal(checksumOf("a\r\nb\r\n"), checksumOf("a\nb\n"));
  assert.notEqual(checksumOf("a\nb\n"), checksumOf("a\nc\n"));
});

test("lineOfPosition maps a 1-based character position to its line", () => {
  const sql = "SELECT 1;\nSELECT 2;\n\nSELECT oops;";
  assert.equal(lineOfPosition(sql, 1), 1);
  assert.equal(lineOfPosition(sql, sql.indexOf("oops") + 1), 4);
});
