import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { inspect } from "node:util";
import { isTradepipeError } from "../core/errors.ts";
import { loadCredentials } from "./credentials.ts";

test("loadCredentials reads the environment", () => {
  const c = loadCredentials({
    env: { APCA_API_KEY_ID: "PKTEST1234", APCA_API_SECRET_KEY: "s3cret-value" },
  });
  assert.equal(c.keyId, "PKTEST1234");
  assert.equal(c.secretKey, "s3cret-value");
  assert.deepEqual(c.headers(), {
    "APCA-API-KEY-ID": "PKTEST1234",
    "APCA-API-SECRET-KEY": "s3cret-value",
  });
  assert.equal(c.source, "env");
});

test("loadCredentials prefers a mounted Secret directory and trims file contents", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tp-secret-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "APCA_API_KEY_ID"), "PKFILE\n");
  writeFileSync(join(dir, "APCA_API_SECRET_KEY"), "file-secret\n");
  const c = loadCredentials({
    secretDir: dir,
    env: { APCA_API_KEY_ID: "PKENV", APCA_API_SECRET_KEY: "env-secret" },
  });
  assert.equal(c.keyId, "PKFILE");
  assert.equal(c.secretKey, "file-secret");
});

test("a missing key is named in the error, and nothing secret is", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tp-secret-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "APCA_API_KEY_ID"), "PKFILE");
  assert.throws(
    () => loadCredentials({ secretDir: dir, env: { APCA_API_SECRET_KEY: "hidden-env-secret" } }),
    (err: unknown) => {
      assert.ok(isTradepipeError(err, "TP_ERR_CREDENTIALS_MISSING"));
      assert.match(err.message, /missing APCA_API_SECRET_KEY/);
      assert.match(err.message, /environment: APCA_API_KEY_ID not set/);
      assert.doesNotMatch(err.message, /hidden-env-secret/);
      return true;
    },
  );
});

test("the secret never shows in JSON, inspect or string form", () => {
  const c = loadCredentials({
    env: { APCA_API_KEY_ID: "PKTEST1234", APCA_API_SECRET_KEY: "s3cret-value" },
  });
  for (const text of [JSON.stringify({ c }), inspect(c), `${c}`, inspect({ nested: c })]) {
    assert.doesNotMatch(text, /s3cret-value/);
    assert.doesNotMatch(text, /PKTEST1234/);
  }
});
