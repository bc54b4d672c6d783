import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../services/core/telemetry/logger.ts";

const SECRETS = [
  "AKFAKEKEYID0001",
  "fakeSecretKey/0002",
  "hunter2-password",
  "pgpass-in-url",
  "pgpass-in-error",
  "child-binding-secret",
  "bearer-token-0003",
  "dsn-password",
];

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

test("no API key, secret key or password reaches the log output", () => {
  const out = capture();
  const log = createLogger({ name: "redaction-test", level: "trace", destination: out.stream });
  log.info(
    {
      apiKey: SECRETS[0],
      secretKey: SECRETS[1],
      password: SECRETS[2],
      headers: { "APCA-API-KEY-ID": SECRETS[0], "APCA-API-SECRET-KEY": SECRETS[1] },
      req: { headers: { authorization: `Bearer ${SECRETS[6]}` } },
      config: { broker: { credentials: { apiKey: SECRETS[0], secretKey: SECRETS[1] } } },
      databaseUrl: `postgres://tradepipe:${SECRETS[3]}@127.0.0.1:5432/tradepipe`,
    },
    `connecting to postgres://tradepipe:${SECRETS[3]}@db.internal:5432/tradepipe`,
  );
  log.error(
    { err: new Error(`cannot reach postgresql://admin:${SECRETS[4]}@10.1.2.3/db`) },
    "database down",
  );
  log.child({ apiKey: SECRETS[5] }).warn("child logger");
  log.debug(`libpq style host=h user=u password=${SECRETS[7]}`);
  log.info({ DATABASE_URL: `postgres://u:${SECRETS[3]}@h/d` }, "env");

  const text = out.text();
  const lines = text.trim().split("\n");
  assert.equal(lines.length, 5, "one JSON line per event");
  for (const line of lines) JSON.parse(line);
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `secret ${secret} leaked into: ${text}`);
  }
  // What is not secret stays readable.
  assert.match(text, /postgres:\/\/tradepipe:\*\*\*@db\.internal:5432\/tradepipe/);
  assert.match(text, /10\.1\.2\.3/);
  assert.match(text, /"apiKey":"\[REDACTED\]"/);
});

test("log lines are JSON with level, time, name and message", () => {
  const out = capture();
  const log = createLogger({ name: "shape-test", level: "info", destination: out.stream });
  log.info({ symbol: "AAPL", qty: "10" }, "order sent");
  log.debug("below the level");
  const lines = out.text().trim().split("\n");
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
  assert.equal(line.level, 30);
  assert.equal(line.name, "shape-test");
  assert.equal(line.msg, "order sent");
  assert.equal(line.symbol, "AAPL");
  assert.equal(typeof line.time, "string");
});
