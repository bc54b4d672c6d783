/**
 * tradepipe_db_replication_lag_seconds against a real streaming standby: a primary and a standby
 * made from a cold copy of it (the embedded Postgres binaries have no pg_basebackup), streaming
 * over TCP. The gauge reads a lag that grows while the standby's replay is paused and the primary
 * writes; 0, not "unknown", once the standby has replayed everything and WAL has stopped (Postgres
 * then shows replay_lag as NULL); NaN for a role that may not see the standby's progress; 0 again
 * when no standby is connected.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { EmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { createLogger, createMetrics } from "../../services/core/telemetry/index.ts";
import { startReplicationLagSampler } from "../../services/pipeline/db-metrics.ts";
import { startPrimaryAndStandby } from "../support/replication.ts";

let root: string;
let primary: EmbeddedPostgres;
let standby: EmbeddedPostgres | undefined;
let pool: pg.Pool;
let standbyPool: pg.Pool;

before(async () => {
  const pair = await startPrimaryAndStandby("tp-replication-");
  root = pair.root;
  primary = pair.primary;
  standby = pair.standby;
  pool = new pg.Pool({ connectionString: primary.url, max: 4 });
  pool.on("error", () => {});
  standbyPool = new pg.Pool({ connectionString: standby.url, max: 1 });
  standbyPool.on("error", () => {});
  await pool.query("CREATE TABLE ticks (n int)");
});

after(async () => {
  if (standby) await standbyPool?.end();
  await pool?.end();
  await standby?.stop();
  await primary?.stop();
  await rm(root, { recursive: true, force: true });
});

function sampler(p: pg.Pool) {
  const metrics = createMetrics({ defaultMetrics: false });
  const s = startReplicationLagSampler(
    p,
    metrics,
    createLogger({ name: "t", level: "silent" }),
    60_000,
  );
  return { ...s, metrics };
}

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

test("a standby whose replay is paused while the primary writes: the lag is read and grows", async () => {
  const s = sampler(pool);
  try {
    await until("the standby to stream", 30_000, async () => {
      const r = await pool.query("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'");
      return r.rowCount === 1 ? true : undefined;
    });
    await standbyPool.query("SELECT pg_wal_replay_pause()");
    const seen: number[] = [];
    for (let i = 0; i < 15; i++) {
      await pool.query("INSERT INTO ticks SELECT generate_series(1, 100)");
      const lag = await s.sample();
      if (lag !== null) seen.push(lag);
      await sleep(200);
    }
    assert.ok(seen.length > 0, "the lag was measured");
    assert.ok(seen.every(Number.isFinite));
    const last = seen.at(-1) ?? 0;
    assert.ok(last > 1, `a paused standby falls behind (last lag ${last} s after ~3 s of writes)`);
    assert.match(
      await s.metrics.registry.metrics(),
      /^tradepipe_db_replication_lag_seconds [1-9]/m,
    );
  } finally {
    await standbyPool.query("SELECT pg_wal_replay_resume()");
    s.stop();
  }
});

test("a standby that has replayed everything on an idle primary is 0 s behind, not unknown", async () => {
  const s = sampler(pool);
  try {
    // Postgres clears replay_lag (NULL) a moment after the standby catches up and WAL stops.
    await until("replay_lag to clear on the idle primary", 30_000, async () => {
      const r = await pool.query(
        "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming' AND replay_lag IS NULL AND replay_lsn >= pg_current_wal_lsn()",
      );
      return r.rowCount === 1 ? true : undefined;
    });
    assert.equal(await s.sample(), 0);
    assert.match(await s.metrics.registry.metrics(), /^tradepipe_db_replication_lag_seconds 0$/m);
  } finally {
    s.stop();
  }
});

test("a role that may not see the standby's progress reads NaN (unknown), never 0", async () => {
  await pool.query("CREATE ROLE no_monitor LOGIN PASSWORD 'no-monitor-pw'");
  const url = new URL(primary.url);
  url.username = "no_monitor";
  url.password = "no-monitor-pw";
  const limited = new pg.Pool({ connectionString: url.toString(), max: 1 });
  limited.on("error", () => {});
  const s = sampler(limited);
  try {
    // The standby is there (the superuser sees it), but this role sees no state or position.
    const seen = await pool.query("SELECT count(*)::int AS n FROM pg_stat_replication");
    assert.equal(seen.rows[0]?.n, 1);
    assert.equal(await s.sample(), null);
    assert.doesNotMatch(
      await s.metrics.registry.metrics(),
      /^tradepipe_db_replication_lag_seconds \d/m,
    );
  } finally {
    s.stop();
    await limited.end();
  }
});

test("with the standby gone, nothing is behind: 0", async () => {
  await standbyPool.end();
  await standby?.stop();
  standby = undefined;
  const s = sampler(pool);
  try {
    await until("the standby to disconnect", 30_000, async () => {
      const r = await pool.query("SELECT count(*)::int AS n FROM pg_stat_replication");
      return r.rows[0]?.n === 0 ? true : undefined;
    });
    assert.equal(await s.sample(), 0);
  } finally {
    s.stop();
  }
});
