import assert from "node:assert/strict";
import { test } from "node:test";
import { CENSOR, maskSecretsInString, redactValue } from "./redact.ts";

test("maskSecretsInString hides the password of a connection string and keeps the rest", () => {
  assert.equal(
    maskSecretsInString("db at postgres://trader:s3cr%40t@10.0.0.5:5432/tradepipe ready"),
    "db at postgres://trader:***@10.0.0.5:5432/tradepipe ready",
  );
  assert.equal(
    maskSecretsInString("postgresql://a:b@h/db and redis://:tok@r:6379"),
    "postgresql://a:***@h/db and redis://:***@r:6379",
  );
});

test("maskSecretsInString leaves URLs without a password alone", () => {
  for (const s of ["postgres://trader@h/db", "http://example.com:8080/a@b", "plain text"]) {
    assert.equal(maskSecretsInString(s), s);
  }
});

test("maskSecretsInString masks key=value passwords (libpq DSN, query strings)", () => {
  assert.equal(
    maskSecretsInString("host=h user=u password=hunter2 dbname=d"),
    "host=h user=u password=*** dbname=d",
  );
  assert.equal(maskSecretsInString("https://h/x?api_key=abc&x=1"), "https://h/x?api_key=***&x=1");
});

test("redactValue censors secret keys at any depth, case-insensitively, without mutating", () => {
  const input = {
    symbol: "AAPL",
    broker: { credentials: { apiKey: "AK1", SecretKey: "SK1" } },
    headers: { "APCA-API-KEY-ID": "AK2", Authorization: "Bearer x", accept: "json" },
    list: [{ password: "pw" }],
  };
  const out = redactValue(input) as typeof input;
  assert.deepEqual(out, {
    symbol: "AAPL",
    broker: { credentials: { apiKey: CENSOR, SecretKey: CENSOR } },
    headers: { "APCA-API-KEY-ID": CENSOR, Authorization: CENSOR, accept: "json" },
    list: [{ password: CENSOR }],
  });
  assert.equal(input.broker.credentials.apiKey, "AK1");
});

test("redactValue survives cycles and leaves non-plain objects to their serialisers", () => {
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  const err = new Error("boom");
  const out = redactValue({ a, err }) as { a: { name: string }; err: Error };
  assert.equal(out.a.name, "a");
  assert.equal(out.err, err);
});
