/** Where the database URL comes from (a file, a systemd credential, the environment) and how it is shown. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { databaseUrlFromEnv, maskDatabaseUrl, withVerifiedTls } from "./url.ts";

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

test("a CA file or credential makes the URL verify the server, whatever the URL said", () => {
  const creds = join(dir, "creds");
  mkdirSync(creds);
  writeFileSync(join(creds, "database-url"), "postgres://a:b@db.example/tp?sslmode=disable");
  writeFileSync(join(creds, "database-ca.crt"), "PEM");
  const fromCredential = new URL(databaseUrlFromEnv({ CREDENTIALS_DIRECTORY: creds }) ?? "");
  assert.equal(fromCredential.searchParams.get("sslmode"), "verify-full");
  assert.equal(fromCredential.searchParams.get("sslrootcert"), join(creds, "database-ca.crt"));
  const ca = join(dir, "ca.crt");
  writeFileSync(ca, "PEM");
  assert.equal(
    databaseUrlFromEnv({ DATABASE_URL: "postgres://a:b@db/tp", DATABASE_CA_FILE: ca }),
    `postgres://a:b@db/tp?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`,
  );
  assert.throws(
    () => databaseUrlFromEnv({ DATABASE_URL: "postgres://db/tp", DATABASE_CA_FILE: "/nope" }),
    /DATABASE_CA_FILE \/nope: no such file/,
  );
  // Several hosts (which WHATWG URL cannot parse) keep their form.
  assert.equal(
    withVerifiedTls(
      "postgres://u:p@10.0.0.11:5432,10.0.0.12:5432/tp?target_session_attrs=read-write&sslmode=prefer",
      "/etc/ca.crt",
    ),
    "postgres://u:p@10.0.0.11:5432,10.0.0.12:5432/tp?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.crt",
  );
});
