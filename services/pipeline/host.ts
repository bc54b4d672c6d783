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
import { type Leadership, waitForLeadership } from "../core/db/leadership.ts";
import type { LeadershipGroup } from "../core/db/leadership-group.ts";
import { TradepipeError } from "../core/errors.ts";
import { createReadiness, type Readiness, type RouteHandler } from "../core/health/index.ts";
import { wallClockNs } from "../core/messages/time.ts";
import { loadSectorMap, type TradingPipeline } from "../core/spec/index.ts";
import type { Logger, Metrics } from "../core/telemetry/index.ts";
import type { BrokerConnection, RunningStage, StageContext, StageReport } from "./context.ts";
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
}

export interface StageInstance {
  stage: StageProcess;
  readiness: Readiness;
  lastReport(): StageReport;
  stop(): Promise<void>;
}

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
 * startStageInstance waits to lead `stage`, then starts it. Until it leads, its readiness says
 * "standby"; a standby instance is alive (/health) but not ready (/ready).
 */
export async function startStageInstance(
  stage: StageProcess,
  deps: HostDeps,
  readiness: Readiness = createReadiness(),
): Promise<StageInstance | null> {
  const log = deps.log.child({ stage });
  const readyGauge = deps.metrics.gauge(
    "stage_ready",
    "1 when the stage instance is ready to trade (its /ready answers 200), else 0.",
    ["stage"],
  );
  const leaderGauge = deps.metrics.gauge(
    "stage_leader",
    "1 while this instance holds its stage's leadership, else 0 (standby).",
    ["stage"],
  );
  const epochGauge = deps.metrics.gauge(
    "stage_fencing_epoch",
    "Fencing epoch of this instance's leadership (0 while standing by).",
    ["stage"],
  );
  readyGauge.set({ stage }, 0);
  // Checks change from inside the stage without telling the host; sample them each second.
  const sampler = setInterval(
    () => readyGauge.set({ stage }, readiness.report().ready ? 1 : 0),
    1000,
  );
  sampler.unref();
  leaderGauge.set({ stage }, 0);
  epochGauge.set({ stage }, 0);
  readiness.declare("leader", "started");
  readiness.set("leader", false, "standby: waiting for the stage lock");
  let report: StageReport = {};
  const publish = (r: StageReport) => {
    report = { ...report, ...r };
    readyGauge.set({ stage }, readiness.report().ready ? 1 : 0);
    deps.onReport?.(stage, report, readiness);
  };
  publish({ detail: "standby" });

  const definition = await loadStage(stage);
  const group = deps.group;
  if (group) readiness.set("leader", false, `standby: waiting for pod ${group.name} to lead`);
  const leadership: Leadership | null = await waitForLeadership(
    deps.db,
    stage,
    holderIdentity(stage),
    {
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(group ? { mayLead: () => groupBars(group) } : {}),
    },
  );
  if (!leadership) {
    clearInterval(sampler);
    return null;
  }
  readiness.set("leader", true);
  leaderGauge.set({ stage }, 1);
  epochGauge.set({ stage }, leadership.epoch);
  log.info({ epoch: leadership.epoch }, "leading the stage");

  const ctx: StageContext = {
    stage,
    pipeline: deps.pipeline,
    bus: deps.bus,
    db: deps.db,
    epoch: leadership.epoch,
    log,
    metrics: deps.metrics,
    readiness,
    broker: deps.broker,
    sectors: deps.sectors,
    routes: deps.routes,
    controlRoutes: deps.controlRoutes,
    ...(deps.watchSpec ? { watchSpec: deps.watchSpec } : {}),
    nowNs: wallClockNs,
    report: publish,
  };
  let running: RunningStage;
  try {
    running = await definition.start(ctx);
  } catch (err) {
    clearInterval(sampler);
    await leadership.release();
    throw err;
  }
  readiness.set("started", true);
  publish({ detail: "" });

  let stopped = false;
  void leadership.lost.then((reason) => {
    if (stopped) return;
    log.error({ err: reason.message }, "leadership lost: stopping the stage");
    readiness.set("leader", false, "leadership lost");
    leaderGauge.set({ stage }, 0);
    deps.onLeadershipLost?.(stage, reason);
  });

  return {
    stage,
    readiness,
    lastReport: () => report,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sampler);
      readyGauge.set({ stage }, 0);
      readiness.set("started", false, "stopping");
      try {
        await running.stop();
      } finally {
        await leadership.release();
      }
    },
  };
}

/** groupBars: why this pod's stages may not lead now, or null when its pod leads. */
async function groupBars(group: LeadershipGroup): Promise<string | null> {
  if (await group.leading()) return null;
  const leader = await group.leader();
  return leader === null ? "no pod leads the pipeline yet" : `pod ${leader} leads the pipeline`;
}
