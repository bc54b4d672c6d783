import assert from "node:assert/strict";
import { test } from "node:test";
import { databaseOutageMessage } from "./host.ts";
import { statusText } from "./stage-process.ts";

test("systemd's STATUS= during a database outage is the sentence the Kubernetes condition quotes", () => {
  const outage = databaseOutageMessage("2026-12-07T17:50:01.123Z", "connect ECONNREFUSED ::1:5432");
  assert.equal(
    outage,
    "database unreachable since 2026-12-07T17:50:01.123Z: connect ECONNREFUSED ::1:5432",
  );
  const reasons = [
    "leader: standby: until the database is back",
    `database: ${outage} (12 s; reconnecting, attempt 4)`,
  ];
  assert.equal(
    statusText("execution-engine", reasons),
    `execution-engine: ${outage} (12 s; reconnecting, attempt 4)`,
  );
  assert.equal(statusText("execution-engine", []), "leading execution-engine");
  assert.equal(
    statusText("market-data", ["leader: standby: waiting for the stage lock"]),
    "market-data not ready: leader: standby: waiting for the stage lock",
  );
});
