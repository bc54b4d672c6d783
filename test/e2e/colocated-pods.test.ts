/**
 * Two colocated "pods" of one pipeline, as the operator runs them with replicas 2: each pod is
 * five stage processes joined by ipc:// sockets in a directory of its own, both on one
 * Postgres and one broker, each stage process told its pod (TRADEPIPE_LEADERSHIP_GROUP, as the
 * operator sets it). Every stage must lead from the same pod, or the pipeline would trade
 * nothing; when that pod dies (its processes killed with SIGKILL), the other pod's stages take
 * over together and trade, and no client_order_id reaches the broker twice.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import type { RunHandle } from "../../services/pipeline/local-run.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { withMigratedDatabase } from "../support/pg.ts";
import {
  defaultPipeline,
  duplicateSends,
  simState,
  startRun,
  startTestSimulator,
  waitFor,
} from "./support.ts";

test("colocated pods: all stages lead from one pod, and all move together when it dies", {
  timeout: 600_000,
}, async () => {
  const db = await withMigratedDatabase();
  const pipeline = await defaultPipeline();
  const sim = await startTestSimulator(pipeline, 5);
  const dir = await mkdtemp("/tmp/tp-colocated-");
  await chmod(dir, 0o755);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});

  // A pod of five stage processes in a run directory of its own, told its pod as the operator does.
  const startPod = (name: string) => ({
    name,
    ...startRun({
      pipeline,
      simulator: sim,
      databaseUrl: db.url,
      fused: false,
      env: {
        TRADEPIPE_DATA_DIR: join(dir, name),
        POD_NAME: name,
        TRADEPIPE_LEADERSHIP_GROUP: name,
      },
    }),
  });
  /** The pod each stage's leader is in, from stage_leadership (holder = pod/pid/stage). */
  const leaderPods = async () => {
    const r = await pool.query<{ stage: string; holder: string }>(
      "SELECT stage, holder FROM stage_leadership",
    );
    return new Map(r.rows.map((x) => [x.stage, x.holder.split("/")[0]]));
  };

  const a = startPod("pod-a");
  const b = startPod("pod-b");
  try {
    const ha = await waitFor("pod A to start", 60_000, a.handle);
    const hb = await waitFor("pod B to start", 60_000, b.handle);
    const readyIn = (h: RunHandle) => h.status().stages.filter((s) => s.up && s.ready).length;
    // Both pods start at once; whichever leads, it leads every stage.
    const [leading, standby] = await waitFor("one pod to lead all five stages", 90_000, () => {
      if (readyIn(ha) === 5) return [a, b] as const;
      if (readyIn(hb) === 5) return [b, a] as const;
      return undefined;
    }).catch((err: Error) => {
      const show = (h: RunHandle) =>
        JSON.stringify(h.status().stages.map((s) => [s.name, s.ready, s.detail]));
      throw new Error(`${err.message}: pod A ${show(ha)}; pod B ${show(hb)}`);
    });
    const hLeading = leading === a ? ha : hb;
    const hStandby = leading === a ? hb : ha;
    await waitFor("the first fill", 90_000, () => simState(sim).fills.length > 0);
    const pods = await leaderPods();
    assert.deepEqual(
      STAGE_PROCESSES.map((s) => pods.get(s)),
      STAGE_PROCESSES.map(() => leading.name),
      "every stage's leader is in the leading pod",
    );
    assert.equal(readyIn(hStandby), 0, "the other pod's stages stand by (alive, not ready)");
    assert.ok(hStandby.status().stages.every((s) => s.up));

    // The leading pod dies: its supervisor stops restarting, its processes are killed outright.
    const pids = STAGE_PROCESSES.map((s) => hLeading.pid(s));
    leading.stop();
    for (const pid of pids) if (pid) process.kill(pid, "SIGKILL");
    await leading.run;
    const before = simState(sim).order_requests.length;
    const t0 = Date.now();
    await waitFor("the other pod to lead all five stages", 90_000, () => readyIn(hStandby) === 5);
    const takeover = Date.now() - t0;
    const after = await leaderPods();
    assert.deepEqual(
      STAGE_PROCESSES.map((s) => after.get(s)),
      STAGE_PROCESSES.map(() => standby.name),
    );
    await waitFor(
      "an order from the new pod",
      120_000,
      () => simState(sim).order_requests.length > before,
    );
    process.stdout.write(`# all five stages led from ${standby.name} ${takeover} ms after\n`);
    assert.deepEqual(duplicateSends(simState(sim)), [], "no client_order_id was sent twice");
  } finally {
    a.stop();
    b.stop();
    await Promise.allSettled([a.run, b.run]);
    await pool.end();
    await sim.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
