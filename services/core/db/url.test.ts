/** Where the database URL comes from (a file, a systemd credential, the environment) and how it is shown. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { databaseUrlFromEnv, maskDatabaseUrl } from "./url.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-url-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("DATABASE_URL_FILE first, then the systemd credential, then DATABASE_URL", () => {
  const file = join(dir, "url");
  writeFileSync(file, "postgres://a:b@file/db\n", { mode: 0o600 });
  writeFileSync(join(dir, "database-url"), "postgres://a:b@credential/db");
  const env = { DATABASE_URL: "postgres://a:b@env/db" };
  assert.equal(
    databaseUrlFromEnv({ ...env, DATABASE_URL_FILE: file, CREDENTIALS_DIRECTORY: dir }),
    "postgres://a:b@file/db",
  );
  assert.equal(
    databaseUrlFromEnv({ ...env, CREDENTIALS_DIRECTORY: dir }),
    "postgres://a:b@credential/db",
  );
  assert.equal(
    databaseUrlFromEnv({ ...env, CREDENTIALS_DIRECTORY: join(dir, "none") }),
    "postgres://a:b@env/db",
  );
  assert.equal(databaseUrlFromEnv({}), undefined);
  assert.throws(
    () => databaseUrlFromEnv({ DATABASE_URL_FILE: join(dir, "missing") }),
    /DATABASE_URL_FILE .*missing: cannot read it \(ENOENT\)/,
  );
  writeFileSync(join(dir, "empty"), "\n");
  assert.throws(
    () => databaseUrlFromEnv({ DATABASE_URL_FILE: join(dir, "empty") }),
    /the file is empty/,
  );
});

test("masking hides the whole userinfo, even a password with a space or an @, and everything unparseable", () => {
  const cases: Array<[string, string]> = [
    ["postgres://trader:s3cret@db.example:5432/tp", "postgres://***@db.example:5432/tp"],
    ["postgres://trader:pass word@db/tp", "postgres://***@db/tp"],
    ["postgres://trader:p@ss@db/tp", "postgres://***@db/tp"],
    ["postgres://justauser@db/tp", "postgres://***@db/tp"],
    ["postgres://db/tp?password=s3cret&sslmode=require", "postgres://db/tp"],
    ["host=db password=s3cret", "***"],
    ["trader:s3cret@db", "***"],
  ];
  for (const [url, shown] of cases) {
    assert.equal(maskDatabaseUrl(url), shown, url);
    assert.ok(!maskDatabaseUrl(url).includes("s3cret"));
    assert.ok(!maskDatabaseUrl(url).includes("word"));
  }
});
