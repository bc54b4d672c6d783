/**
 * Database outages under `tradepipe run` with orders flowing. (1) The embedded Postgres is
 * killed with SIGKILL: the run restarts it (WAL recovery) and trading resumes by itself. (2) The
 * database is stopped for 60 s and started again: every stage process rides it out (none exits),
 * stands by while it is away, and trades again once it is back. After each, nothing was lost or
 * doubled (quiesceAndCheck). The figures printed (time to stop acting, time to resume) are the
 * ones README.md quotes. (3) The database away for 10 s: the stages' broker WebSockets
 * (trade_updates, market data) stay open — one connection each at the simulator, none reopened.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Simulator } from "../../services/broker-sim/index.ts";
import { startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import type { LocalRunSummary, RunHandle } from "../../services/pipeline/local-run.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import {
  defaultPipeline,
  embeddedReopener,
  quiesceAndCheck,
  simState,
  startRun,
  startTestSimulator,
  waitFor,
} from "./support.ts";

const OUTAGE_SECONDS = 60;

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join("/tmp", prefix));
  // As root, Postgres runs as another user, who must be able to enter the directory.
  await chmod(dir, 0o755);
  return dir;
}

const allReady = (h: RunHandle) => h.status().stages.every((s) => s.up && s.ready);
const engineReady = (h: RunHandle) =>
  h.status().stages.find((s) => s.name === "execution-engine")?.ready === true;
const stagePids = (h: RunHandle) => STAGE_PROCESSES.map((s) => h.pid(s));

/**
 * measureOutage: from `t0` (the database went away), how long until the execution-engine
 * stopped being ready (it may not send), then — once `back` resolves — until every stage is
 * ready again and a new order reached the broker.
 */
async function waitForResume(h: RunHandle, sim: Simulator, t0: number) {
  await waitFor("every stage ready again", 180_000, () => allReady(h));
  const readyMs = Date.now() - t0;
  const count = simState(sim).order_requests.length;
  await waitFor("a new order at the broker", 180_000, () => {
    return simState(sim).order_requests.length > count;
  });
  return { readyMs, orderMs: Date.now() - t0 };
}

test("kill -9 of the embedded Postgres during order flow: it is restarted and trading resumes", {
  timeout: 600_000,
}, async () => {
  const dataDir = await tempDir("tp-db-kill-");
  const pipeline = await defaultPipeline();
  const sim = await startTestSimulator(pipeline, 5);
  const { run, stop, handle } = startRun({
    pipeline,
    simulator: sim,
    fused: false,
    env: { TRADEPIPE_DATA_DIR: dataDir },
  });
  let pool: pg.Pool | undefined;
  const reopener = embeddedReopener(dataDir, () => pool);
  try {
    const h = await waitFor("the pipeline to start", 120_000, handle);
    pool = new pg.Pool({ connectionString: h.databaseUrl, max: 2 });
    pool.on("error", () => {});
    await waitFor("every stage ready", 120_000, () => allReady(h));
    await waitFor("the first fill", 120_000, () => simState(sim).fills.length > 0);
    const pids = stagePids(h);
    const dbPid = h.databasePid();
    assert.ok(dbPid, "the run has an embedded server");

    const t0 = Date.now();
    process.kill(dbPid, "SIGKILL");
    await waitFor("the execution-engine to stop acting", 60_000, () => !engineReady(h));
    const stopMs = Date.now() - t0;
    await waitFor("the embedded server to be restarted", 120_000, () => {
      const pid = h.databasePid();
      return pid !== undefined && pid !== dbPid && h.status().database?.ok;
    });
    const serverMs = Date.now() - t0;
    const { readyMs, orderMs } = await waitForResume(h, sim, t0);
    console.log(
      `# kill -9 of the embedded Postgres: execution-engine not ready after ${stopMs} ms; ` +
        `server restarted after ${serverMs} ms; every stage ready after ${readyMs} ms; ` +
        `first new order at the broker after ${orderMs} ms`,
    );
    assert.match(
      h.status().database?.line ?? "",
      /restarted 1× after a crash \(last crash killed by SIGKILL/,
    );
    assert.deepEqual(stagePids(h), pids, "no stage process exited");
    await quiesceAndCheck({
      pool,
      sim,
      handle: h,
      stop,
      run,
      reopen: reopener.reopen,
    });
  } finally {
    stop();
    await run.catch(() => {});
    await pool?.end().catch(() => {});
    await reopener.close();
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

/**
 * withTradingRun: `tradepipe run` (stage processes) on a Postgres server of the test's own,
 * which the body may stop and start again on the same port and data, once every stage is ready
 * and the first fill reached the broker; everything is torn down afterwards.
 */
async function withTradingRun(
  prefix: string,
  body: (r: {
    h: RunHandle;
    sim: Simulator;
    pool: pg.Pool;
    stop: () => void;
    run: Promise<LocalRunSummary>;
    server: { stop(): Promise<void>; start(): Promise<void> };
  }) => Promise<void>,
): Promise<void> {
  const dataDir = await tempDir(prefix);
  let db = await startEmbeddedPostgres({ dataDir, stopOnSignals: false });
  const port = db.port;
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
    const h = await waitFor("the pipeline to start", 120_000, handle);
    await waitFor("every stage ready", 120_000, () => allReady(h));
    await waitFor("the first fill", 120_000, () => simState(sim).fills.length > 0);
    const server = {
      stop: () => db.stop(),
      async start() {
        db = await startEmbeddedPostgres({ dataDir, port, stopOnSignals: false });
      },
    };
    await body({ h, sim, pool, stop, run, server });
  } finally {
    stop();
    await run.catch(() => {});
    await pool.end();
    await sim.close();
    await db.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

test(`a database stopped for ${OUTAGE_SECONDS} s: no stage process exits, trading resumes`, {
  timeout: 600_000,
}, async () => {
  await withTradingRun("tp-db-stop-", async ({ h, sim, pool, stop, run, server }) => {
    const pids = stagePids(h);

    const t0 = Date.now();
    await server.stop();
    await waitFor("the execution-engine to stop acting", 60_000, () => !engineReady(h));
    const stopMs = Date.now() - t0;
    // Orders already on their way when the database went may still land; after that, none.
    await sleep(5_000);
    const sentDuringOutage = simState(sim).order_requests.length;
    const reasons = new Set<string>();
    while (Date.now() - t0 < OUTAGE_SECONDS * 1000) {
      for (const s of h.status().stages) if (s.detail) reasons.add(s.detail);
      assert.deepEqual(stagePids(h), pids, "no stage process exited during the outage");
      await sleep(1_000);
    }
    assert.equal(
      simState(sim).order_requests.length,
      sentDuringOutage,
      "no order reached the broker while the database was away",
    );
    assert.ok(
      [...reasons].some((r) => /database unreachable since \S+: .+ \(\d+ s;/.test(r)),
      `a stage said why it is not ready: ${[...reasons].join(" | ")}`,
    );

    await server.start();
    const backMs = Date.now() - t0;
    const { readyMs, orderMs } = await waitForResume(h, sim, t0);
    console.log(
      `# database stopped for ${OUTAGE_SECONDS} s: execution-engine not ready after ${stopMs} ms; ` +
        `after the database was back, every stage ready in ${readyMs - backMs} ms and ` +
        `the first new order at the broker in ${orderMs - backMs} ms`,
    );
    assert.deepEqual(stagePids(h), pids, "no stage process exited");
    await quiesceAndCheck({ pool, sim, handle: h, stop, run });
  });
});

test("a database away for 10 s: the broker's WebSockets stay open, one connection per stream", {
  timeout: 600_000,
}, async () => {
  await withTradingRun("tp-db-streams-", async ({ h, sim, pool, stop, run, server }) => {
    const before = simState(sim).streams;
    assert.deepEqual([before.trade, before.data], [1, 1], "one trade and one data connection");

    const t0 = Date.now();
    await server.stop();
    // The stages lost their leadership and were stopped: the case that used to close the streams.
    await waitFor("the execution-engine to stop acting", 60_000, () => !engineReady(h));
    await waitFor("market-data to stand by", 60_000, () =>
      h.status().stages.some((s) => s.name === "market-data" && !s.ready),
    );
    await sleep(Math.max(0, 10_000 - (Date.now() - t0)));
    await server.start();
    await waitForResume(h, sim, t0);
    const after = simState(sim).streams;
    console.log(
      `# database away 10 s: WebSocket connections opened at the simulator before ${JSON.stringify(before.opened)}, after ${JSON.stringify(after.opened)}`,
    );
    assert.deepEqual(after.opened, before.opened, "no stream was closed and opened again");
    assert.deepEqual([after.trade, after.data], [1, 1]);
    // Fills that arrived while no stage was attached reached the database all the same.
    await quiesceAndCheck({ pool, sim, handle: h, stop, run });
  });
});
