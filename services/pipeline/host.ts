/**
 * host: starts one stage instance inside a process that already has its bus, database, logger
 * and metrics. It waits for the stage's leadership (a Postgres advisory lock with a fencing
 * epoch), builds the StageContext and starts the stage; the multi-process runner and the fused
 * mode both use it, so a stage runs the same way in either.
 */
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import type { Bus } from "../core/bus/index.ts";
import type { ControlHandler } from "../core/control/server.ts";
import { isDatabaseUnavailable } from "../core/db/errors.ts";
import { type Leadership, waitForLeadership } from "../core/db/leadership.ts";
import type { LeadershipGroup } from "../core/db/leadership-group.ts";
import { isTradepipeError, TradepipeError } from "../core/errors.ts";
import { createReadiness, type Readiness, type RouteHandler } from "../core/health/index.ts";
import { wallClockNs } from "../core/messages/time.ts";
import { loadSectorMap, type TradingPipeline } from "../core/spec/index.ts";
import type { Logger, Metrics } from "../core/telemetry/index.ts";
import type { BrokerConnection, RunningStage, StageContext, StageReport } from "./context.ts";
import type { KeptStreams } from "./kept-streams.ts";
import { loadStage } from "./registry.ts";
import type { StageProcess } from "./stages.ts";

export const DEFAULT_SECTORS_FILE = fileURLToPath(
  new URL("../../config/sectors.yaml", import.meta.url),
);

export interface HostDeps {
  pipeline: TradingPipeline;
  bus: Bus;
  db: pg.Pool;
  log: Logger;
  metrics: Metrics;
  broker: BrokerConnection;
  sectors: ReadonlyMap<string, string>;
  /** Read-only routes of the process's health server; stages add theirs (GET /kill-switch). */
  routes: Record<string, RouteHandler>;
  /** Routes of the process's control listener (POST /kill-switch). */
  controlRoutes: Record<string, ControlHandler>;
  /** Broker streams that outlive a term of leadership (see StageContext.streams). */
  streams?: KeptStreams;
  /** Spec file changes while running (StageContext.watchSpec). */
  watchSpec?: StageContext["watchSpec"];
  /** Aborts the wait for leadership (shutdown while standing by). */
  signal?: AbortSignal;
  /** Called with every report; the runner forwards them to the supervisor. */
  onReport?: (stage: StageProcess, report: StageReport, readiness: Readiness) => void;
  /** Called when leadership is lost without release: the instance must stop acting at once. */
  onLeadershipLost?: (stage: StageProcess, reason: Error) => void;
  /**
   * The colocated pod this instance belongs to: it leads only while its pod leads the pipeline
   * (leadership-group.ts). Absent where each stage stands alone (a local run, systemd, one pod
   * per stage).
   */
  group?: LeadershipGroup;
  /** StageContext.recordDir (`tradepipe run --record DIR`). */
  recordDir?: string;
}

export interface StageInstance {
  stage: StageProcess;
  readiness: Readiness;
  lastReport(): StageReport;
  /**
   * Rejects when the stage failed on its own (an error that is not the database going away)
   * after it first started: the process should exit and be restarted by its supervisor.
   */
  failed: Promise<never>;
  stop(): Promise<void>;
}

/** STAGE_OUTAGE: how a stage instance rides out a database that went away. */
export const STAGE_OUTAGE = {
  /** First wait before reconnecting; doubles up to maxBackoffMs. */
  minBackoffMs: 250,
  maxBackoffMs: 5_000,
  /** A stage that does not stop within this long after losing leadership is left behind. */
  stopTimeoutMs: 10_000,
};

export async function loadSectors(
  path = process.env.TRADEPIPE_SECTORS_FILE ?? DEFAULT_SECTORS_FILE,
) {
  const result = await loadSectorMap(path);
  if (!result.ok) {
    const lines = result.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    throw new TradepipeError("TP_ERR_CONFIG", `sector map ${path}: ${lines}`);
  }
  return result.sectors;
}

/** holderIdentity names this instance in stage_leadership (host, pid). */
export function holderIdentity(stage: StageProcess): string {
  return `${process.env.POD_NAME ?? hostname()}/${process.pid}/${stage}`;
}

/**
 * startStageInstance waits to lead `stage`, then starts it, and resolves once it has started
 * (null when `signal` aborted first). Until it leads, its readiness says "standby"; a standby
 * instance is alive (/health) but not ready (/ready).
 *
 * The instance then keeps its stage led for as long as it runs: when leadership is lost (the
 * database went away, a renewal failed or hung, the deadline passed, or another instance took
 * over) the stage is stopped at once — it may not act past the deadline anyway — and the
 * instance goes back to standing by: it reconnects with backoff, takes the leadership again
 * under a new fencing epoch and starts the stage afresh, which rebuilds from Postgres and
 * reconciles with the broker before it trades. The process never exits for a database outage;
 * a database that is unreachable at start is waited for the same way.
 */
export async function startStageInstance(
  stage: StageProcess,
  deps: HostDeps,
  readiness: Readiness = createReadiness(),
): Promise<StageInstance | null> {
  const log = deps.log.child({ stage });
  const m = hostMetrics(deps.metrics);
  m.ready.set({ stage }, 0);
  // Checks change from inside the stage without telling the host; sample them each second.
  const sampler = setInterval(() => {
    m.ready.set({ stage }, readiness.report().ready ? 1 : 0);
    outage.sample();
  }, 1000);
  sampler.unref();
  m.leader.set({ stage }, 0);
  m.epoch.set({ stage }, 0);
  readiness.declare("leader", "started");
  readiness.set("leader", false, "standby: waiting for the stage lock");
  let report: StageReport = {};
  const publish = (r: StageReport) => {
    report = { ...report, ...r };
    m.ready.set({ stage }, readiness.report().ready ? 1 : 0);
    deps.onReport?.(stage, report, readiness);
  };
  const outage = databaseOutage(stage, m, readiness, log, publish);
  publish({ detail: "standby" });

  const definition = await loadStage(stage);
  const group = deps.group;
  const stopRequested = new AbortController();
  const abort = deps.signal
    ? AbortSignal.any([deps.signal, stopRequested.signal])
    : stopRequested.signal;
  let current: { leadership: Leadership; running: RunningStage } | undefined;
  let firstStarted: (ok: boolean) => void = () => {};
  let firstFailed: (err: Error) => void = () => {};
  const first = new Promise<boolean>((resolve, reject) => {
    firstStarted = resolve;
    firstFailed = reject;
  });
  let failedReject: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    failedReject = reject;
  });
  failed.catch(() => {});
  let started = false;

  /** lead: one term of leadership, from standby to the stage's stop. false: stop for good. */
  const lead = async (): Promise<boolean> => {
    if (outage.isDown()) readiness.set("leader", false, "standby: until the database is back");
    else if (group)
      readiness.set("leader", false, `standby: waiting for pod ${group.name} to lead`);
    else readiness.set("leader", false, "standby: waiting for the stage lock");
    const leadership = await waitForLeadership(deps.db, stage, holderIdentity(stage), {
      signal: abort,
      ...(group ? { mayLead: () => groupBars(group) } : {}),
      onTakeoverWait: (ms) =>
        readiness.set(
          "leader",
          false,
          `taking over: waiting ${ms} ms for the previous leader's deadline to pass`,
        ),
    });
    outage.up();
    if (!leadership) return false;
    readiness.set("leader", true);
    m.leader.set({ stage }, 1);
    m.epoch.set({ stage }, leadership.epoch);
    log.info({ epoch: leadership.epoch }, "leading the stage");
    const ctx: StageContext = {
      stage,
      pipeline: deps.pipeline,
      bus: deps.bus,
      db: deps.db,
      epoch: leadership.epoch,
      leadership: {
        mayAct: () => leadership.mayAct(),
        refused: (what) => {
          m.refused.inc({ stage, reason: "leadership_deadline" });
          log.warn({ what }, "not done: this instance's leadership deadline has passed");
        },
      },
      log,
      metrics: deps.metrics,
      readiness,
      broker: deps.broker,
      sectors: deps.sectors,
      routes: deps.routes,
      controlRoutes: deps.controlRoutes,
      ...(deps.streams ? { streams: deps.streams } : {}),
      ...(deps.watchSpec ? { watchSpec: deps.watchSpec } : {}),
      ...(deps.recordDir ? { recordDir: deps.recordDir } : {}),
      nowNs: wallClockNs,
      report: publish,
    };
    let running: RunningStage;
    try {
      running = await definition.start(ctx);
    } catch (err) {
      // IMPORTANT: asked before the release, which ends the leadership and so makes mayAct()
      // false: asked after it, every failed start looked like an outage and was retried forever
      // (a strategy's bad parameter kept the stage "waiting for the database").
      const leadershipEnded = !leadership.mayAct();
      await leadership.release();
      resetLeader();
      // A stage that could not start because its database went away (or its leadership ended
      // under it) waits for the database like any standby; any other error is its own fault.
      if (isDatabaseUnavailable(err) || leadershipEnded) throw new OutageError(err);
      throw err;
    }
    current = { leadership, running };
    readiness.set("started", true);
    publish({ detail: "" });
    if (!started) {
      started = true;
      firstStarted(true);
    }
    const ended = await Promise.race([
      leadership.lost,
      new Promise<null>((r) => abort.addEventListener("abort", () => r(null), { once: true })),
      (running.failed ?? new Promise<never>(() => {})).catch((err: unknown) => ({
        failedOnItsOwn: err instanceof Error ? err : new Error(String(err)),
      })),
    ]);
    if (ended === null) return false; // stop(): it stops the stage itself
    if ("failedOnItsOwn" in ended) {
      const err = ended.failedOnItsOwn;
      log.error({ err: err.message }, "the stage failed on its own: releasing its leadership");
      readiness.set("started", false, `failed: ${err.message}`);
      publish({ detail: `failed: ${err.message}` });
      current = undefined;
      await stopWithin(running, STAGE_OUTAGE.stopTimeoutMs, log);
      await leadership.release();
      resetLeader();
      // Not an outage: the lifecycle ends and `failed` rejects (the process exits).
      throw err;
    }
    const kind = lossKind(ended);
    m.lost.inc({ stage, reason: kind });
    log.error({ err: ended.message, reason: kind }, "leadership lost: stopping the stage");
    readiness.set("leader", false, `leadership lost: ${ended.message}`);
    readiness.set("started", false, "stopped: leadership lost");
    resetLeader();
    // Say so now: stopping the stage may take a while when its database hangs.
    publish({ detail: `leadership lost: ${ended.message}` });
    deps.onLeadershipLost?.(stage, ended);
    current = undefined;
    await stopWithin(running, STAGE_OUTAGE.stopTimeoutMs, log);
    await leadership.release();
    if (kind !== "epoch" && kind !== "moved") outage.down(ended);
    return true;
  };
  const resetLeader = () => {
    m.leader.set({ stage }, 0);
    m.epoch.set({ stage }, 0);
  };

  const lifecycle = (async () => {
    let backoff = STAGE_OUTAGE.minBackoffMs;
    while (!abort.aborted) {
      try {
        if (!(await lead())) break;
        backoff = STAGE_OUTAGE.minBackoffMs;
      } catch (err) {
        const cause = err instanceof OutageError ? err.cause : err;
        if (!(err instanceof OutageError) && !isDatabaseUnavailable(cause)) throw err;
        outage.down(cause);
        await sleep(backoff, abort);
        backoff = Math.min(backoff * 2, STAGE_OUTAGE.maxBackoffMs);
        if (!abort.aborted) outage.reconnecting();
      }
    }
  })();
  lifecycle.then(
    () => {
      if (!started) firstStarted(false);
    },
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      if (!started) firstFailed(e);
      else failedReject(e);
    },
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopRequested.abort();
      clearInterval(sampler);
      m.ready.set({ stage }, 0);
      readiness.set("started", false, "stopping");
      await lifecycle.catch(() => {});
      const c = current;
      current = undefined;
      if (!c) return;
      try {
        await c.running.stop();
      } finally {
        await c.leadership.release();
        resetLeader();
      }
    })();
    return stopping;
  };

  let ok: boolean;
  try {
    ok = await first;
  } catch (err) {
    clearInterval(sampler);
    throw err;
  }
  if (!ok) {
    clearInterval(sampler);
    return null;
  }
  return { stage, readiness, lastReport: () => report, failed, stop };
}

/** OutageError marks a stage start that failed because the database went away. */
class OutageError extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

/** lossKind names why leadership ended, for the leadership_lost_total metric. */
function lossKind(err: Error): "deadline" | "epoch" | "moved" | "connection" {
  if (isTradepipeError(err, "TP_ERR_LEADERSHIP_DEADLINE")) return "deadline";
  if (isTradepipeError(err, "TP_ERR_STALE_EPOCH")) return "epoch";
  if (isTradepipeError(err, "TP_ERR_LEADERSHIP_MOVED")) return "moved";
  return "connection";
}

async function stopWithin(running: RunningStage, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    running.stop().then(
      () => true,
      (err: unknown) => {
        log.warn({ err: (err as Error).message }, "stage did not stop cleanly");
        return true;
      },
    ),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]);
  clearTimeout(timer);
  if (!stopped) log.error({ waitedMs: ms }, "stage did not stop in time after losing leadership");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

type HostMetrics = ReturnType<typeof hostMetrics>;

function hostMetrics(metrics: Metrics) {
  return {
    ready: metrics.gauge(
      "stage_ready",
      "1 when the stage instance is ready to trade (its /ready answers 200), else 0.",
      ["stage"],
    ),
    leader: metrics.gauge(
      "stage_leader",
      "1 while this instance holds its stage's leadership, else 0 (standby).",
      ["stage"],
    ),
    epoch: metrics.gauge(
      "stage_fencing_epoch",
      "Fencing epoch of this instance's leadership (0 while standing by).",
      ["stage"],
    ),
    up: metrics.gauge(
      "database_up",
      "1 while this stage instance reaches its database, 0 during an outage.",
      ["stage"],
    ),
    outageSeconds: metrics.gauge(
      "database_unavailable_seconds",
      "How long the current database outage has lasted (0 while the database is reachable).",
      ["stage"],
    ),
    outageTotal: metrics.counter(
      "database_unavailable_seconds_total",
      "Total time this stage instance spent without its database.",
      ["stage"],
    ),
    reconnects: metrics.counter(
      "database_reconnects_total",
      "Attempts to reach the database again after it went away.",
      ["stage"],
    ),
    lost: metrics.counter(
      "leadership_lost_total",
      "Leaderships lost without release, by reason: deadline (no renewal within the bound, or one hung), connection (the database went away), epoch (another instance took over), moved (the colocated pod no longer leads).",
      ["stage", "reason"],
    ),
    refused: metrics.counter(
      "orders_refused_total",
      "Orders not sent because this instance's leadership deadline had passed (its database was away).",
      ["stage", "reason"],
    ),
  };
}

/**
 * databaseOutageMessage: the one sentence every rendering shows for a stage's database outage —
 * the readiness reason (/ready, `tradepipe run`'s screen), systemd's STATUS= and, through the
 * stage Lease, the TradingPipeline's StagesReady condition.
 */
export function databaseOutageMessage(sinceIso: string, error: string): string {
  return `database unreachable since ${sinceIso}: ${error}`;
}

/**
 * databaseOutage tracks one stage instance's view of its database: up, or down since when and
 * why; it sets the readiness check "database", the metrics and the status detail.
 */
function databaseOutage(
  stage: StageProcess,
  m: HostMetrics,
  readiness: Readiness,
  log: Logger,
  publish: (r: StageReport) => void,
) {
  let downSince: number | undefined;
  /** When the outage began, by the wall clock: what a person compares with other logs. */
  let downSinceIso = "";
  let lastReason = "";
  let attempts = 0;
  let counted = 0;
  m.up.set({ stage }, 1);
  m.outageSeconds.set({ stage }, 0);
  const describe = () => {
    const s = Math.round((performance.now() - (downSince ?? performance.now())) / 1000);
    return `${databaseOutageMessage(downSinceIso, lastReason)} (${s} s; reconnecting, attempt ${attempts})`;
  };
  const sample = () => {
    if (downSince === undefined) return;
    const seconds = (performance.now() - downSince) / 1000;
    m.outageSeconds.set({ stage }, seconds);
    m.outageTotal.inc({ stage }, seconds - counted);
    counted = seconds;
    readiness.set("database", false, describe());
  };
  return {
    sample,
    isDown: () => downSince !== undefined,
    down(err: unknown) {
      lastReason = (err as Error)?.message ?? String(err);
      if (downSince === undefined) {
        downSince = performance.now();
        downSinceIso = new Date().toISOString();
        counted = 0;
        attempts = 0;
        m.up.set({ stage }, 0);
        log.error({ err: lastReason }, "database unreachable: standing by and reconnecting");
      }
      readiness.set("database", false, describe());
      publish({
        detail: describe(),
        database: "unreachable",
        databaseOutage: databaseOutageMessage(downSinceIso, lastReason),
      });
    },
    reconnecting() {
      attempts++;
      m.reconnects.inc({ stage });
      sample();
    },
    up() {
      if (downSince === undefined) return;
      sample();
      const seconds = (performance.now() - downSince) / 1000;
      log.warn({ seconds, attempts }, "database reachable again");
      downSince = undefined;
      m.up.set({ stage }, 1);
      m.outageSeconds.set({ stage }, 0);
      readiness.remove("database");
      publish({ detail: "", database: "up", databaseOutage: undefined });
    },
  };
}

/** groupBars: why this pod's stages may not lead now, or null when its pod leads. */
async function groupBars(group: LeadershipGroup): Promise<string | null> {
  if (await group.leading()) return null;
  const leader = await group.leader();
  return leader === null ? "no pod leads the pipeline yet" : `pod ${leader} leads the pipeline`;
}
