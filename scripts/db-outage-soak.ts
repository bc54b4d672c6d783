/**
 * db-outage-soak: a longer run of what test/e2e/database-outage.test.ts proves once. The
 * default pipeline runs as `tradepipe run` does (five stage processes, its own embedded Postgres
 * in a temporary data directory, the simulator at 5× speed) while the database is taken away
 * round after round, in turn:
 *
 *   kill   — SIGKILL of the postmaster: the run restarts it (WAL recovery);
 *   hang   — every server process frozen (SIGSTOP) for --hang seconds, then resumed: a primary
 *            that stops answering without closing a connection.
 *
 * After each round it waits until every stage is ready and a new order reached the broker, and
 * prints how long that took; at the end it stops trading (kill switch) and checks that nothing
 * was lost or sent twice. Exits non-zero on any failure.
 *
 *   node_modules/.bin/node scripts/db-outage-soak.ts [--rounds 10] [--hang 20] [--pause 20]
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import type { RunHandle } from "../services/pipeline/local-run.ts";
import { STAGE_PROCESSES } from "../services/pipeline/stages.ts";
import {
  defaultPipeline,
  embeddedReopener,
  quiesceAndCheck,
  simState,
  startRun,
  startTestSimulator,
  waitFor,
} from "../test/e2e/support.ts";
import { processTree, signalAll } from "../test/support/processes.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "10" },
    hang: { type: "string", default: "20" },
    pause: { type: "string", default: "20" },
  },
});
const rounds = Number(values.rounds);
const hangSeconds = Number(values.hang);
const pauseSeconds = Number(values.pause);
for (const [name, v] of Object.entries({ rounds, hang: hangSeconds, pause: pauseSeconds })) {
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`--${name} must be a positive whole number`);
    process.exit(2);
  }
}

const allReady = (h: RunHandle) => h.status().stages.every((s) => s.up && s.ready);

const dataDir = await mkdtemp(join("/tmp", "tp-soak-"));
await chmod(dataDir, 0o755);
const pipeline = await defaultPipeline();
const sim = await startTestSimulator(pipeline, 5);
const { run, stop, handle } = startRun({
  pipeline,
  simulator: sim,
  fused: false,
  env: { TRADEPIPE_DATA_DIR: dataDir, TRADEPIPE_LOG_LEVEL: "error" },
});
const reopener = embeddedReopener(dataDir, () => undefined);
let failed = false;
try {
  const h = await waitFor("the pipeline to start", 120_000, handle);
  await waitFor("every stage ready", 180_000, () => allReady(h));
  const pids = STAGE_PROCESSES.map((s) => h.pid(s));
  for (let round = 1; round <= rounds; round++) {
    await sleep(pauseSeconds * 1000);
    const kind = round % 2 === 1 ? "kill" : "hang";
    const server = h.databasePid();
    if (server === undefined) throw new Error("no embedded server");
    const t0 = Date.now();
    if (kind === "kill") {
      process.kill(server, "SIGKILL");
    } else {
      const tree = processTree(server);
      signalAll(tree, "SIGSTOP");
      await sleep(hangSeconds * 1000);
      signalAll(tree, "SIGCONT");
    }
    const back = Date.now() - t0;
    await waitFor("every stage ready again", 300_000, () => allReady(h));
    const ready = Date.now() - t0;
    const orders = simState(sim).order_requests.length;
    await waitFor("a new order", 300_000, () => simState(sim).order_requests.length > orders);
    const order = Date.now() - t0;
    const exited = STAGE_PROCESSES.filter((s, i) => h.pid(s) !== pids[i]);
    console.log(
      `round ${round} ${kind}${kind === "hang" ? ` ${hangSeconds} s` : ""}: database back after ${back} ms, ` +
        `every stage ready after ${ready} ms, a new order after ${order} ms; ` +
        `stage processes restarted: ${exited.length === 0 ? "none" : exited.join(", ")}`,
    );
  }
  const pool = new pg.Pool({ connectionString: h.databaseUrl, max: 2 });
  pool.on("error", () => {});
  await quiesceAndCheck({
    pool,
    sim,
    handle: h,
    stop,
    run,
    reopen: reopener.reopen,
  });
  console.log(`soak passed: ${rounds} rounds; nothing lost, nothing sent twice`);
} catch (err) {
  failed = true;
  console.error(`soak failed: ${(err as Error).stack ?? err}`);
} finally {
  stop();
  await run.catch(() => {});
  await reopener.close();
  await sim.close();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
