/**
 * The disk under Postgres fills up while the pipeline trades (an SRE's "fill the disk"), with
 * real parts: the embedded Postgres's data directory is on a small tmpfs that really runs out of
 * space, `tradepipe run` runs the five stages as processes on it, the simulator is the broker.
 *
 * A full disk is not a server that went away: Postgres stays up, answers reads and refuses
 * every write that needs a new block with SQLSTATE 53100 ("could not extend file ...: No space
 * left on device"). Promised: the execution-engine's orders go on behind its journal until the
 * audit backlog bound holds new ones, with the reason on /ready; when the server drops every
 * session (as a crash-restart or a failover does) each stage starts a new term on the full disk
 * and waits it out, standing by — no stage process exits; once space is back trading resumes
 * by itself and nothing was lost or sent twice (quiesceAndCheck).
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import type { RunHandle } from "../../services/pipeline/local-run.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { fillDisk, mountTmpfs, requireRoot } from "../support/small-disk.ts";
import {
  busyPipeline,
  quiesceAndCheck,
  simState,
  startRun,
  startTestSimulator,
  waitFor,
} from "./support.ts";

let mountPoint = "";
let workDir = "";
let unmount = () => {};

before(() => {
  requireRoot(
    "this test mounts a small tmpfs under Postgres's data directory to fill its disk for real",
  );
  workDir = mkdtempSync(join(tmpdir(), "tp-db-disk-full-"));
  // Postgres runs as an unprivileged user, who must be able to enter the directory.
  chmodSync(workDir, 0o755);
  mountPoint = join(workDir, "disk");
  // 96 MiB: the new cluster with the pipeline's tables takes about 45 MiB, WAL included.
  unmount = mountTmpfs(mountPoint, "96m", "0755");
});

after(() => {
  if (mountPoint !== "") unmount();
  if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
});

const stagePids = (h: RunHandle) => STAGE_PROCESSES.map((s) => h.pid(s));
const allReady = (h: RunHandle) => h.status().stages.every((s) => s.up && s.ready);
const stageLine = (h: RunHandle, name: string) => h.status().stages.find((s) => s.name === name);
/** ordersAtBroker: client_order_ids sent (a retry of an order sent before is the same one). */
const ordersAtBroker = (sim: Parameters<typeof simState>[0]) =>
  new Set(
    simState(sim)
      .order_requests.filter((r) => r.kind === "submit")
      .map((r) => r.client_order_id),
  ).size;

/** brokerQuiet waits until no new client_order_id reached the broker for 3 s; returns the count. */
async function brokerQuiet(sim: Parameters<typeof simState>[0]): Promise<number> {
  let count = ordersAtBroker(sim);
  let since = Date.now();
  return waitFor("the broker to see no new order for 3 s", 60_000, () => {
    const now = ordersAtBroker(sim);
    if (now !== count) {
      count = now;
      since = Date.now();
    }
    return Date.now() - since >= 3_000 ? count : undefined;
  });
}

test("Postgres's disk fills up under order flow: orders halt, no stage exits, nothing is lost or sent twice", {
  timeout: 600_000,
}, async () => {
  const db = await startEmbeddedPostgres({
    dataDir: join(mountPoint, "postgres"),
    stopOnSignals: false,
  });
  const { specFile, pipeline } = await busyPipeline(workDir);
  const sim = await startTestSimulator(pipeline, 5);
  const { run, stop, handle } = startRun({
    pipeline,
    specFile,
    simulator: sim,
    databaseUrl: db.url,
    fused: false,
    env: { TRADEPIPE_JOURNAL_DIR: join(workDir, "journal") },
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  try {
    const h = await waitFor("the pipeline to start", 120_000, handle);
    await waitFor("every stage ready", 120_000, () => allReady(h));
    await waitFor("the first fill", 120_000, () => simState(sim).fills.length > 0);
    const pids = stagePids(h);

    // A fresh WAL segment first, so that what follows is the data files' full disk (writes
    // refused with 53100, the server up) and not a WAL write's PANIC, which stops the server:
    // that is a database outage (test/e2e/database-outage.test.ts).
    await pool.query("SELECT pg_switch_wal()");
    await pool.query("CHECKPOINT");
    const filler = fillDisk(mountPoint);
    const t0 = Date.now();
    await assert.rejects(
      pool.query("CREATE TABLE disk_probe AS SELECT g FROM generate_series(1, 10000) g"),
      (err: { code?: string; message?: string }) => {
        assert.equal(err.code, "53100", `a write on the full disk: ${err.message}`);
        return true;
      },
    );
    const read = await pool.query<{ n: string }>("SELECT count(*)::text AS n FROM orders");
    assert.ok(Number(read.rows[0]!.n) > 0, "reads still work");

    // The audit rows cannot be written: the backlog bound holds new orders, and says so.
    const halted = await waitFor("the audit backlog bound to hold new orders", 60_000, () => {
      const s = stageLine(h, "execution-engine");
      return s && !s.ready && /new orders held: audit backlog .*\(bound/.test(s.detail ?? "")
        ? s.detail
        : undefined;
    });
    const haltMs = Date.now() - t0;
    // Orders handed to the broker client before the bound tripped may still be waiting in its
    // rate limiter (they were journaled and sent, in the engine's view): wait until they are out.
    const sentWhenHalted = await brokerQuiet(sim);
    await sleep(2_000);
    assert.equal(ordersAtBroker(sim), sentWhenHalted, `no new order sent while held (${halted})`);

    // The server drops every session, as a crash-restart or a failover does, the disk still
    // full: every stage loses its leadership and starts a new term on a database that refuses
    // writes (the engine's first act is to replay its journal into Postgres).
    const ended = await pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    assert.ok(ended.rowCount! > 0, "the stages' sessions were ended");
    const exited = () => STAGE_PROCESSES.filter((s, i) => h.pid(s) !== pids[i]);
    const standingBy = await waitFor(
      "the engine to stand by on the full disk (or a stage to exit)",
      60_000,
      () => {
        if (exited().length > 0) return `exited: ${exited().join(", ")}`;
        const detail = stageLine(h, "execution-engine")?.detail ?? "";
        return /database unreachable since .*No space left on device/.test(detail)
          ? detail
          : undefined;
      },
    );
    // Stand by for a while: several attempts at a new term, each refused by the full disk.
    await sleep(10_000);
    assert.deepEqual(
      exited(),
      [],
      `no stage process exited for the full disk (${standingBy}): ${JSON.stringify(h.status().stages)}`,
    );
    assert.equal(ordersAtBroker(sim), sentWhenHalted, "no order sent while the disk was full");

    rmSync(filler);
    const t1 = Date.now();
    await waitFor("every stage ready once space is back", 120_000, () => allReady(h));
    const readyMs = Date.now() - t1;
    await waitFor("a new order at the broker", 120_000, () => ordersAtBroker(sim) > sentWhenHalted);
    const orderMs = Date.now() - t1;
    console.log(
      `# Postgres's disk full: new orders held after ${haltMs} ms; once space was back, every ` +
        `stage ready in ${readyMs} ms and the first new order at the broker in ${orderMs} ms`,
    );
    assert.deepEqual(stagePids(h), pids, "no stage process exited");
    // The recovery looked up every order the full disk left unfinished: the engine's broker
    // client may still hold a minute of rate-limited calls, which the kill switch's cancels
    // wait behind.
    await quiesceAndCheck({ pool, sim, handle: h, stop, run, quietWithinMs: 180_000 });
  } finally {
    stop();
    await run.catch(() => {});
    await pool.end();
    await sim.close();
    await db.stop();
  }
});
