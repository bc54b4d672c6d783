/**
 * Helpers for the end-to-end tests: a simulator under test control and its admin state, and
 * `tradepipe run` as a child process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { DEFAULT_PIPELINE_FILE } from "../../bin/commands/run.ts";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { fromDecimal } from "../../services/core/money.ts";
import { loadPipelineFile, type TradingPipeline } from "../../services/core/spec/index.ts";
import {
  type LocalRunSummary,
  type RunHandle,
  runLocal,
} from "../../services/pipeline/local-run.ts";
import { testJournalDir } from "../support/journal-dir.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

export interface SimState {
  orders: Array<{
    client_order_id: string;
    symbol: string;
    side: string;
    qty: string;
    filled_qty: string;
    status: string;
  }>;
  order_requests: Array<{ kind: string; client_order_id: string | null; status: number }>;
  fills: Array<{ execution_id: string; client_order_id: string; symbol: string; qty: string }>;
  positions: Array<{ symbol: string; qty: string }>;
  /** WebSocket connections open now, and accepted since the start (`opened`). */
  streams: { trade: number; data: number; opened: { trade: number; data: number } };
}

export function simState(sim: Simulator): SimState {
  return sim.admin.state() as unknown as SimState;
}

export async function defaultPipeline(): Promise<TradingPipeline> {
  return loadPipelineFile(DEFAULT_PIPELINE_FILE);
}

/**
 * busyPipeline writes into `dir` the default pipeline without its signal cool-down (orders every
 * few hundred milliseconds instead of one a minute per symbol) and without its sector limit (the
 * five symbols are mostly one sector, so after a minute of such trading that limit refuses
 * nearly every order), for tests that need orders in flight for minutes; returns the file (to
 * give the run) and the pipeline.
 */
export async function busyPipeline(
  dir: string,
): Promise<{ specFile: string; pipeline: TradingPipeline }> {
  const specFile = join(dir, "pipeline.yaml");
  writeFileSync(
    specFile,
    readFileSync(DEFAULT_PIPELINE_FILE, "utf8")
      .replace(/signalCooldownSeconds: \d+/, "signalCooldownSeconds: 0")
      .replace(/maxSectorConcentration: [\d.]+/, "maxSectorConcentration: 1"),
  );
  const pipeline = await loadPipelineFile(specFile);
  assert.equal(pipeline.spec.aggregation.signalCooldownSeconds, 0, "the cool-down is off");
  assert.equal(pipeline.spec.risk.maxSectorConcentration, 1, "the sector limit is off");
  return { specFile, pipeline };
}

/**
 * A simulator as `tradepipe run` would start it, but with a fixed start time; with
 * `clock: "manual"` its market stands still until the test sets the clock running.
 */
export async function startTestSimulator(
  pipeline: TradingPipeline,
  speed?: number,
  clock: "realtime" | "manual" = "realtime",
  partialFillProbability?: number,
): Promise<Simulator> {
  const s = pipeline.spec.broker.simulator;
  return startSimulator({
    seed: s.seed,
    speed: speed ?? s.speed,
    clock,
    symbols: pipeline.spec.symbols,
    startingCash: s.startingCash,
    startTime: "2026-03-02T14:30:00Z",
    ...(partialFillProbability !== undefined ? { partialFillProbability } : {}),
  });
}

/** waitFor polls `check` until it returns a value, or fails after `ms` naming `what`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  check: () => T | undefined | false | Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** duplicates returns the client_order_ids the broker received more than once. */
export function duplicateSends(state: SimState): string[] {
  const seen = new Map<string, number>();
  for (const r of state.order_requests) {
    if (r.kind !== "submit" || !r.client_order_id) continue;
    seen.set(r.client_order_id, (seen.get(r.client_order_id) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

/** RunOutput: what a `tradepipe run` child printed, its exit code and when it first filled. */
export interface RunOutput {
  out: string;
  err: string;
  code: number | null;
  /** Milliseconds from the start to the first status line reporting fills. */
  firstFillMs: number;
}

/**
 * runUntilFilled starts `tradepipe run` with `env`, waits for a status line with fills > 0,
 * then stops it with Ctrl-C (SIGINT) and waits for it to exit. The stages' /metrics listen on
 * free ports, so other tests can run beside it. Rejects, with the output, if it exits first.
 */
export async function runUntilFilled(env: NodeJS.ProcessEnv): Promise<RunOutput> {
  const child = spawn(process.execPath, [cli, "run", "--metrics-port", "0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const started = Date.now();
    const firstFillMs = await new Promise<number>((resolve, reject) => {
      // The status line comes every 5 s when stdout is not a terminal.
      const timer = setInterval(() => {
        const fills = [...out.matchAll(/^status .* fills=(\d+)/gm)].map((m) => Number(m[1]));
        if (fills.some((n) => n > 0)) {
          clearInterval(timer);
          resolve(Date.now() - started);
        }
      }, 250);
      void exited.then((code) => {
        clearInterval(timer);
        reject(
          new Error(
            `tradepipe run exited (${code}) before any fill:\n${out.slice(-3000)}\n${err.slice(-3000)}`,
          ),
        );
      });
    });
    child.kill("SIGINT");
    const code = await exited;
    return { out, err, code, firstFillMs };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** CliExit: how a `tradepipe` child ended and what it printed. */
export interface CliExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** tradepipe runs the CLI with `args` to its end; past `timeoutMs` it is interrupted and rejects. */
export function tradepipe(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<CliExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGINT");
      reject(new Error(`tradepipe ${args.join(" ")}: still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `tradepipe run` started in this process by startRun. */
export interface TestRun {
  /** Settles when the run has stopped. */
  run: Promise<LocalRunSummary>;
  /** Asks the run to stop (as Ctrl-C would). */
  stop(): void;
  /** The run's handle, once it has started. */
  handle(): RunHandle | undefined;
}

/**
 * startRun runs the default pipeline as `tradepipe run` does, on `databaseUrl` (or an embedded
 * server) and `simulator`, quietly (warn-level logs, no status lines, free health ports); `env`
 * adds to the environment.
 */
export function startRun(o: {
  pipeline: TradingPipeline;
  simulator: Simulator;
  /** Absent: the run starts its own embedded Postgres (in `env.TRADEPIPE_DATA_DIR`). */
  databaseUrl?: string;
  fused: boolean;
  env?: NodeJS.ProcessEnv;
  /** First /health, /ready, /metrics port (default 0: free ports). */
  healthPort?: number;
  /** Transport between stage processes when not fused (default zmq). */
  transport?: "zmq" | "uds";
  /** Record the session there (`tradepipe run --record DIR`). */
  recordDir?: string;
  /** The spec file stage processes read (it must hold `pipeline`); default config/pipeline.yaml. */
  specFile?: string;
}): TestRun {
  const stop = new AbortController();
  let handle: RunHandle | undefined;
  const run = runLocal({
    pipeline: o.pipeline,
    specFile: o.specFile ?? DEFAULT_PIPELINE_FILE,
    fused: o.fused,
    ...(o.transport ? { transport: o.transport } : {}),
    ...(o.recordDir ? { recordDir: o.recordDir } : {}),
    durationSeconds: 0,
    simulator: o.simulator,
    stopSignal: stop.signal,
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl ?? "",
      TRADEPIPE_LOG_LEVEL: "warn",
      // The engine's journal goes beside a test's own data directory, or into one directory of
      // this test process (kept across the runs of a restart test), never the machine's.
      ...(o.env?.TRADEPIPE_DATA_DIR ? {} : { TRADEPIPE_JOURNAL_DIR: testJournalDir() }),
      ...o.env,
    },
    statusIntervalMs: 60_000,
    healthPort: o.healthPort ?? 0,
    onStarted: (h) => {
      handle = h;
    },
  });
  return { run, stop: () => stop.abort(), handle: () => handle };
}

/**
 * quiesceAndCheck stops a run's trading and proves that nothing was lost or doubled: the kill
 * switch stops new orders and cancels open ones; once the broker has been quiet for 2 s the
 * run is stopped, and then no client_order_id reached the broker twice, every fill the broker
 * reported is in the database, positions equal the broker's, and every order sent has its audit
 * trail.
 */
export async function quiesceAndCheck(o: {
  pool: pg.Pool;
  sim: Simulator;
  handle: RunHandle;
  stop(): void;
  run: Promise<LocalRunSummary>;
  /**
   * A run that owns its embedded server stops it with the run: start it again here, for the
   * checks after the stop (default: `pool` stays usable).
   */
  reopen?: () => Promise<pg.Pool>;
  /**
   * How long the broker may take to fall quiet after the kill switch (default 60 s): longer
   * where the engine's broker client holds a queue of rate-limited calls (after a recovery that
   * looked many orders up), which the cancels wait behind.
   */
  quietWithinMs?: number;
}): Promise<void> {
  const { sim, handle, stop, run } = o;
  let pool = o.pool;
  // Quiesce before comparing: the kill switch stops new orders and cancels open ones. An order
  // already on its way when it engaged may still reach the broker, so wait until the risk-manager
  // reports it engaged and the broker has seen no new order and no open one for 2 s; then the
  // database must catch up with everything the broker did.
  await pool.query("SELECT tp_set_kill_switch(true, 'test: quiesce', 'test')");
  await waitFor(
    "the kill switch to reach the risk-manager",
    30_000,
    () => handle.status().killSwitch,
  );
  const openStatuses = new Set(["new", "accepted", "pending_new", "partially_filled"]);
  let lastCount = -1;
  let stableSince = Date.now();
  await waitFor("the broker to be quiet for 2 s", o.quietWithinMs ?? 60_000, () => {
    const s = simState(sim);
    const open = s.orders.some((o) => openStatuses.has(o.status));
    if (open || s.order_requests.length !== lastCount) {
      lastCount = s.order_requests.length;
      stableSince = Date.now();
      return false;
    }
    return Date.now() - stableSince >= 2_000;
  });
  const positionsOf = async () => {
    const rows = await pool.query<{ symbol: string; qty: string }>(
      "SELECT symbol, qty::text FROM positions",
    );
    return new Map(rows.rows.map((r) => [r.symbol, fromDecimal(r.qty)]));
  };
  const theirsNow = () =>
    new Map(simState(sim).positions.map((p) => [p.symbol, fromDecimal(p.qty)]));
  const same = (a: Map<string, bigint>, b: Map<string, bigint>) =>
    [...new Set([...a.keys(), ...b.keys()])].every((k) => (a.get(k) ?? 0n) === (b.get(k) ?? 0n));
  // A timeout here falls through to the assertions below, which say what differs.
  await waitFor("the database's positions to catch up with the broker's", 30_000, async () =>
    same(await positionsOf(), theirsNow()),
  ).catch(() => {});
  const trackerView = handle.status().positions;
  stop();
  await run;
  if (o.reopen) pool = await o.reopen();

  const state = simState(sim);
  assert.deepEqual(duplicateSends(state), [], "no client_order_id was sent twice");

  const dbFills = await pool.query<{ client_order_id: string; qty: string }>(
    "SELECT client_order_id, sum(qty)::text AS qty FROM fills GROUP BY client_order_id",
  );
  const filledInDb = new Map(dbFills.rows.map((r) => [r.client_order_id, fromDecimal(r.qty)]));
  for (const o of state.orders) {
    const brokerFilled = fromDecimal(o.filled_qty ?? "0");
    if (brokerFilled === 0n) continue;
    const inDb = filledInDb.get(o.client_order_id) ?? 0n;
    if (inDb === brokerFilled) continue;
    // Say which rows the database holds and which executions the broker reported.
    const rows = await pool.query(
      "SELECT execution_id, qty::text, price::text, fencing_epoch FROM fills WHERE client_order_id = $1 ORDER BY id",
      [o.client_order_id],
    );
    const audit = await pool.query(
      "SELECT seq, event_type, from_status, to_status, detail FROM order_audit_trail WHERE client_order_id = $1 ORDER BY seq",
      [o.client_order_id],
    );
    assert.equal(
      inDb,
      brokerFilled,
      `fills of ${o.client_order_id}: rows ${JSON.stringify(rows.rows)}; audit ${JSON.stringify(audit.rows)}; broker executions ${JSON.stringify(state.fills.filter((f) => f.client_order_id === o.client_order_id))}`,
    );
  }

  const dbPositions = await pool.query<{ symbol: string; qty: string }>(
    "SELECT symbol, qty::text FROM positions",
  );
  const ours = new Map(dbPositions.rows.map((r) => [r.symbol, fromDecimal(r.qty)]));
  const theirs = new Map(state.positions.map((p) => [p.symbol, fromDecimal(p.qty)]));
  for (const sym of new Set([...ours.keys(), ...theirs.keys()])) {
    if ((ours.get(sym) ?? 0n) === (theirs.get(sym) ?? 0n)) continue;
    // Say what each side booked, so a failure shows where the two parted.
    const booked = await pool.query(
      "SELECT id, client_order_id, execution_id, side, qty::text, filled_at FROM fills WHERE symbol = $1 ORDER BY filled_at, id",
      [sym],
    );
    const reported = state.fills.filter((f) => f.symbol === sym);
    assert.fail(
      `position in ${sym}: ours ${ours.get(sym) ?? 0n}, broker's ${theirs.get(sym) ?? 0n}\n` +
        `tracker's live view: ${JSON.stringify(trackerView.filter((p) => p.symbol === sym))}\n` +
        `fills table: ${JSON.stringify(booked.rows)}\nbroker fills: ${JSON.stringify(reported)}`,
    );
  }

  const audited = await pool.query<{ client_order_id: string }>(
    "SELECT DISTINCT client_order_id FROM order_audit_trail WHERE client_order_id IS NOT NULL",
  );
  const auditedIds = new Set(audited.rows.map((r) => r.client_order_id));
  for (const r of state.order_requests) {
    if (r.client_order_id)
      assert.ok(auditedIds.has(r.client_order_id), `audit trail of ${r.client_order_id}`);
  }
}

/**
 * embeddedReopener: for quiesceAndCheck of a run that owned its embedded server (in
 * `dataDir`/postgres) and stopped it with the run — `reopen` ends `pool` and starts the server
 * again for the checks; `close` stops it.
 */
export function embeddedReopener(dataDir: string, pool: () => pg.Pool | undefined) {
  let server: EmbeddedPostgres | undefined;
  let checks: pg.Pool | undefined;
  return {
    async reopen(): Promise<pg.Pool> {
      await pool()?.end();
      server = await startEmbeddedPostgres({
        dataDir: join(dataDir, "postgres"),
        stopOnSignals: false,
      });
      checks = new pg.Pool({ connectionString: server.url, max: 2 });
      checks.on("error", () => {});
      return checks;
    },
    async close(): Promise<void> {
      await checks?.end();
      await server?.stop();
    },
  };
}

/** BusyRun: a `tradepipe run` of the busy pipeline (see busyPipeline) and everything it runs on. */
export interface BusyRun extends TestRun {
  pipeline: TradingPipeline;
  db: TestDatabase;
  sim: Simulator;
  /** A small pool on the run's database, for the test's own queries. */
  pool: pg.Pool;
  /** Stops the run and removes the database, the simulator and the spec's directory. */
  close(): Promise<void>;
}

/**
 * startBusyRun starts the busy pipeline as stage processes on a fresh migrated database and a
 * simulator at speed 5. `route` may put something between the stages and the simulator (a
 * proxy): it gets the simulator and returns the one the run is to see.
 */
export async function startBusyRun(
  name: string,
  route: (sim: Simulator) => Simulator | Promise<Simulator> = (sim) => sim,
): Promise<BusyRun> {
  const dir = mkdtempSync(join(tmpdir(), `tp-${name}-`));
  // Without the default pipeline's cool-down: orders every few hundred milliseconds.
  const { specFile, pipeline } = await busyPipeline(dir);
  const db = await withMigratedDatabase();
  const sim = await startTestSimulator(pipeline, 5);
  const started = startRun({
    pipeline,
    specFile,
    simulator: await route(sim),
    databaseUrl: db.url,
    fused: false,
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  return {
    ...started,
    pipeline,
    db,
    sim,
    pool,
    async close() {
      started.stop();
      await started.run.catch(() => {});
      await pool.end();
      await sim.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
