/**
 * A stage whose database is unreachable when it starts does not fail: it stays up, not ready,
 * says why on its readiness (and so on /ready and in systemd's STATUS=), counts its reconnects,
 * and leads and starts once the database comes up.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { startSimulator } from "../../services/broker-sim/index.ts";
import { startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { migrate } from "../../services/core/db/migrate.ts";
import { createStagePool } from "../../services/core/db/pool.ts";
import { createReadiness } from "../../services/core/health/index.ts";
import { startStageInstance } from "../../services/pipeline/host.ts";
import { engineHostDeps } from "./execution-support.ts";
import { waitFor } from "./stage-harness.ts";

async function metric(
  deps: { metrics: { registry: { metrics(): Promise<string> } } },
  name: string,
) {
  const text = await deps.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`));
  return Number(line?.split(" ").at(-1) ?? Number.NaN);
}

test("a stage started while its database is down waits for it, says why, then leads", {
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join("/tmp", "tp-db-at-start-"));
  await chmod(dir, 0o755);
  const dataDir = join(dir, "postgres");
  // A migrated cluster, then stopped: the stage starts against a port where nothing listens.
  let server = await startEmbeddedPostgres({ dataDir, stopOnSignals: false, durable: false });
  const admin = new pg.Pool({ connectionString: server.url, max: 1 });
  // The server's fast shutdown below may still reach a connection that is closing.
  admin.on("error", () => {});
  await migrate(admin);
  await admin.end();
  const { url, port } = server;
  await server.stop();

  const sim = await startSimulator({ seed: 3, symbols: ["AAPL"], clock: "manual" });
  const pool = createStagePool(url, { max: 4 });
  pool.on("error", () => {});
  const abort = new AbortController();
  const deps = await engineHostDeps({ sim, pool, signal: abort.signal });
  const readiness = createReadiness();
  const starting = startStageInstance("execution-engine", deps, readiness);
  try {
    await waitFor(
      () =>
        readiness
          .report()
          .reasons.some((r) =>
            /^database: database unreachable since \S+: .*ECONNREFUSED.* \(\d+ s;/.test(r),
          ),
      "the reason on readiness",
      30_000,
    );
    await waitFor(
      () => readiness.report().reasons.some((r) => /attempt [2-9]/.test(r)),
      "reconnects",
      30_000,
    );
    assert.equal(await metric(deps, "tradepipe_database_up"), 0);
    assert.ok((await metric(deps, "tradepipe_database_reconnects_total")) >= 2);

    server = await startEmbeddedPostgres({ dataDir, port, stopOnSignals: false, durable: false });
    const instance = await starting;
    assert.ok(instance, "the stage started once the database came up");
    await waitFor(() => instance.readiness.report().ready, "the stage ready", 60_000);
    assert.equal(await metric(deps, "tradepipe_database_up"), 1);
    assert.equal(await metric(deps, "tradepipe_database_unavailable_seconds"), 0);
    assert.ok((await metric(deps, "tradepipe_database_unavailable_seconds_total")) > 0);
    await instance.stop();
  } finally {
    abort.abort();
    await starting.catch(() => null);
    await deps.bus.close();
    await pool.end();
    await sim.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
