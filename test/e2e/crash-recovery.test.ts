/**
 * Crash recovery of the multi-process pipeline: each stage process is killed with SIGKILL in
 * turn while orders flow; the supervisor restarts it. Afterwards no client_order_id reached the
 * broker twice, every fill the broker reported is in the database, positions equal the
 * broker's, and every order sent has its audit trail.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { withMigratedDatabase } from "../support/pg.ts";
import {
  defaultPipeline,
  quiesceAndCheck,
  simState,
  startRun,
  startTestSimulator,
  waitFor,
} from "./support.ts";

test("kill -9 of each stage in turn loses and duplicates nothing", {
  timeout: 600_000,
}, async () => {
  const db = await withMigratedDatabase();
  const pipeline = await defaultPipeline();
  const sim = await startTestSimulator(pipeline, 5);
  const { run, stop, handle } = startRun({
    pipeline,
    simulator: sim,
    databaseUrl: db.url,
    fused: false,
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  try {
    const h = await waitFor("the pipeline to start", 60_000, handle);
    const allReady = () => h.status().stages.every((s) => s.up && s.ready);
    await waitFor("every stage ready", 90_000, allReady).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(h.status().stages)}`);
    });
    await waitFor("the first fill", 90_000, () => simState(sim).fills.length > 0);
    for (const stage of STAGE_PROCESSES) {
      const pid = h.pid(stage);
      assert.ok(pid, `${stage} has a process`);
      const before = simState(sim).order_requests.length;
      process.kill(pid, "SIGKILL");
      await waitFor(`${stage} restarted`, 30_000, () => {
        const p = h.pid(stage);
        return p !== undefined && p !== pid;
      });
      await waitFor(`every stage ready after ${stage} restarted`, 90_000, allReady);
      // Orders keep flowing after the restart.
      await waitFor(
        `an order after ${stage} restarted`,
        120_000,
        () => simState(sim).order_requests.length > before,
      );
    }
    await quiesceAndCheck({ pool, sim, handle: h, stop, run });
  } finally {
    stop();
    await run.catch(() => {});
    await pool.end();
    await sim.close();
    await db.drop();
  }
});
