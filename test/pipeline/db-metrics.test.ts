/** tradepipe_db_replication_lag_seconds from a real Postgres: 0 with no standby behind. */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { createLogger, createMetrics } from "../../services/core/telemetry/index.ts";
import { startReplicationLagSampler } from "../../services/pipeline/db-metrics.ts";
import { createTestDatabase } from "../support/pg.ts";

test("the replication lag gauge reads pg_stat_replication: 0 without standbys", async () => {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  const metrics = createMetrics({ defaultMetrics: false });
  const sampler = startReplicationLagSampler(
    pool,
    metrics,
    createLogger({ name: "test", level: "silent" }),
    60_000,
  );
  try {
    assert.equal(await sampler.sample(), 0);
    const text = await metrics.registry.metrics();
    assert.match(text, /^tradepipe_db_replication_lag_seconds 0$/m);
  } finally {
    sampler.stop();
    await pool.end();
    await db.drop();
  }
});

test("an unreadable lag reads NaN (unknown), never 0", async () => {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  await pool.end();
  const metrics = createMetrics({ defaultMetrics: false });
  const sampler = startReplicationLagSampler(
    pool,
    metrics,
    createLogger({ name: "test", level: "silent" }),
    60_000,
  );
  try {
    assert.equal(await sampler.sample(), null);
    assert.doesNotMatch(
      await metrics.registry.metrics(),
      /^tradepipe_db_replication_lag_seconds \d/m,
    );
  } finally {
    sampler.stop();
    await db.drop();
  }
});
