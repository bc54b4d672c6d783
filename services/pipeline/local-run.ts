/**
 * local-run is `tradepipe run`: one command brings up a whole pipeline on this machine. It
 * starts Postgres (embedded unless DATABASE_URL is set) and migrates it, starts the built-in
 * simulator when the broker is the simulator, runs the five stages (as supervised processes
 * over ZeroMQ ipc://, or fused in this process), shows a live status screen, and stops
 * everything cleanly on Ctrl-C.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import type { Simulator } from "../broker-sim/index.ts";
import { type ControlHandler, startControlServer } from "../core/control/server.ts";
import { type Database, openDatabase } from "../core/db/connect.ts";
import { defaultDataDir } from "../core/db/embedded-paths.ts";

import type { EmbeddedServerStatus } from "../core/db/embedded-supervisor.ts";
import { ensureStageLogins } from "../core/db/stage-roles.ts";

import { type RouteHandler, startHealthServer } from "../core/health/index.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import { createLogger, createMetrics, type Logger } from "../core/telemetry/index.ts";
import { serveRunDashboard } from "../dashboard/run-hook.ts";
import { type PipelineStatus, StatusView } from "../supervisor/status-screen.ts";
import { Supervisor } from "../supervisor/supervisor.ts";
import { resolveBrokerConnection } from "./broker-connection.ts";
import { RECORD_DIR_ENV, type StageReport } from "./context.ts";
import { startReplicationLagSampler } from "./db-metrics.ts";
import type { LocalTransport } from "./endpoints.ts";
import { type FusedPipeline, startFusedPipeline } from "./fused.ts";
import { makePrivateDir, runStateDir, writeRunFile } from "./run-files.ts";
import type { StageStatusMessage } from "./stage-process.ts";
import { STAGE_PROCESSES, type StageProcess } from "./stages.ts";

const CLI = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

export interface LocalRunOptions {
  pipeline: TradingPipeline;
  /** Path of the spec file, handed to the stage processes. */
  specFile: string;
  fused: boolean;
  /** Transport between stage processes (ignored when fused); default zmq. */
  transport?: LocalTransport;
  /** Stop by itself after this many seconds (0: run until Ctrl-C). */
  durationSeconds: number;
  /** How often the status is redrawn (terminal) or logged (otherwise), in ms. */
  statusIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * First port of the /health, /ready and /metrics servers: the fused process takes it, stage
   * processes take it plus their index in pipeline order (as systemd units do). Default: the
   * spec's observability.metricsPort; 0 lets each pick a free port (tests).
   */
  healthPort?: number;
  /**
   * recordDir: record the session there (`tradepipe run --record DIR`): market data as the
   * market-data stage receives it, and the signal-bridge's decisions; see services/backtest.
   */
  recordDir?: string;
  /** Resolves when the run should stop (tests); Ctrl-C and --duration also stop it. */
  stopSignal?: AbortSignal;
  /** A simulator started by the caller (tests: fixed start time, admin access); else one is started. */
  simulator?: Simulator;
  /** Called once everything is up, with handles tests and tools use. */
  onStarted?: (run: RunHandle) => void;
}

/** RunHandle is what a caller of runLocal can see of a running pipeline. */
export interface RunHandle {
  databaseUrl: string;
  /** Process id of each stage process (undefined while it is down, or in fused mode). */
  pid(stage: StageProcess): number | undefined;
  /** Process id of the embedded Postgres server (undefined with DATABASE_URL). */
  databasePid(): number | undefined;
  status(): PipelineStatus;
}

export interface LocalRunSummary {
  ordersSent: number;
  fills: number;
  stoppedBecause: string;
}

interface Started {
  stop(): Promise<void>;
  pid(stage: StageProcess): number | undefined;
  stages(): PipelineStatus["stages"];
  reports(): Partial<Record<StageProcess, StageReport>>;
  failure: Promise<string>;
}

export async function runLocal(opts: LocalRunOptions): Promise<LocalRunSummary> {
  const env = { ...(opts.env ?? process.env) };
  if (opts.recordDir !== undefined) env[RECORD_DIR_ENV] = resolve(opts.recordDir);
  const { pipeline } = opts;
  // On a terminal the status screen owns the screen, so every log line goes to files instead.
  const logDir = process.stdout.isTTY ? join(runStateDir(env), "logs") : undefined;
  if (logDir) makePrivateDir(logDir);
  const log = createLogger({
    name: "tradepipe-run",
    // TRADEPIPE_LOG_LEVEL, when set, overrides the spec (createLogger reads it).
    level: env.TRADEPIPE_LOG_LEVEL ? undefined : pipeline.spec.observability.logLevel,
    base: { pipeline: pipeline.metadata.name },
    ...(logDir
      ? { destination: pino.destination({ dest: join(logDir, "run.log"), mkdir: true }) }
      : {}),
  });
  if (logDir) say(log, `Logs: ${logDir}/`);
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  };
  try {
    const db = await openDatabase({
      migrate: true,
      log,
      env,
      // Like a stage: a crashed embedded server is started again (WAL recovery runs first).
      superviseEmbedded: true,
      onServerChange: (s) => {
        if (s.state === "up") say(log, `Postgres: ${describeServer(s)}`);
      },
    });
    cleanups.push(() => db.close());
    say(
      log,
      db.embedded
        ? "Postgres: embedded server started and migrated"
        : "Postgres: DATABASE_URL migrated",
    );
    env.DATABASE_URL = db.url;

    if (pipeline.spec.broker.kind === "simulator") {
      const s = pipeline.spec.broker.simulator;
      let sim = opts.simulator;
      if (!sim) {
        const { startSimulator } = await import("../broker-sim/index.ts");
        const started = await startSimulator({
          seed: s.seed,
          speed: s.speed,
          symbols: pipeline.spec.symbols,
          startingCash: s.startingCash,
          // The broker charges the fees the tracker books, so their cash agrees.
          fees: pipeline.spec.positions.fees,
          stateFile: simulatorStateFile(env, pipeline.metadata.name),
        });
        cleanups.push(() => started.close());
        sim = started;
      }
      env.TRADEPIPE_SIM_URL = sim.tradingUrl;
      env.APCA_API_KEY_ID = sim.keys.keyId;
      env.APCA_API_SECRET_KEY = sim.keys.secretKey;
      const { describeAccount } = await import("../broker-sim/index.ts");
      const account = sim.account ? `; ${describeAccount(sim.account)}` : "";
      say(
        log,
        `Simulator: Alpaca-compatible paper broker at ${sim.tradingUrl} (seed ${s.seed})${account}`,
      );
    } else {
      say(log, `Broker: Alpaca at ${pipeline.spec.broker.tradingUrl}`);
    }
    // The stages' sockets (bus, control). Short path: Unix socket paths stay under 108 bytes.
    // mkdtemp makes a new directory of ours, mode 0700, whatever else is in /tmp.
    const runDir = mkdtempSync(join("/tmp", "tp-"));
    cleanups.push(async () => rmSync(runDir, { recursive: true, force: true }));
    const controlSocket = join(
      runDir,
      opts.fused ? "pipeline.control.sock" : "risk-manager.control.sock",
    );
    writeRunFile(db, pipeline, controlSocket, env, log, cleanups);

    const basePort = opts.healthPort ?? pipeline.spec.observability.metricsPort;
    const started = opts.fused
      ? await startFused(pipeline, db, env, log, basePort, controlSocket, cleanups)
      : await startProcesses(
          logDir,
          runDir,
          // On the embedded server each stage logs in with its own role (sql/0007_roles.sql);
          // a DATABASE_URL given by the user is used as it is.
          db.embedded
            ? await ensureStageLogins(db.pool, db.url, STAGE_PROCESSES)
            : new Map<StageProcess, string>(),
          opts.specFile,
          { ...env, TRADEPIPE_BUS_TRANSPORT: opts.transport ?? "zmq" },
          basePort,
          log,
          cleanups,
        );
    say(log, `Control: ${controlSocket} (tradepipe kill-switch on|off)`);
    say(
      log,
      opts.fused
        ? "Stages: all five in this process (fused, in-process bus)"
        : opts.transport === "uds"
          ? "Stages: five supervised processes over Unix sockets (unix://)"
          : "Stages: five supervised processes over ZeroMQ ipc://",
    );
    // The browser dashboard (services/dashboard), once the run is up.
    await serveRunDashboard(db.pool, pipeline, env, (t) => say(log, t), cleanups);
    return await watch(opts, started, log, db);
  } finally {
    await cleanup();
  }
}

/**
 * simulatorStateFile is where `tradepipe run` keeps the simulator's paper account between runs:
 * `<data dir>/simulator/<pipeline>.json`, beside the embedded Postgres cluster (the same
 * directory also when DATABASE_URL points at another database).
 */
export function simulatorStateFile(env: NodeJS.ProcessEnv, pipelineName: string): string {
  const postgresDir = defaultDataDir(env, homedir(), process.getuid?.() ?? -1);
  return join(dirname(postgresDir), "simulator", `${pipelineName}.json`);
}

/** say tells the person running tradepipe what it did, in a plain sentence on stdout. */
function say(_log: Logger, text: string): void {
  process.stdout.write(`${text}\n`);
}

async function startProcesses(
  logDir: string | undefined,
  runDir: string,
  stageUrls: ReadonlyMap<StageProcess, string>,
  specFile: string,
  env: NodeJS.ProcessEnv,
  basePort: number,
  log: Logger,
  cleanups: Array<() => Promise<void>>,
): Promise<Started> {
  if (basePort > 0) {
    const last = basePort + STAGE_PROCESSES.length - 1;
    say(
      log,
      `Metrics: http://127.0.0.1:${basePort}/metrics … :${last}/metrics (one port per stage, in pipeline order)`,
    );
  }
  const supervisor = new Supervisor();
  const stopAll = () => {
    stopping = true;
    return supervisor.stop();
  };
  cleanups.push(stopAll);
  const reports = new Map<StageProcess, StageStatusMessage>();
  // The counters of a stage that has stopped stay here, so the run's summary counts its last work.
  const lastReports = new Map<StageProcess, StageStatusMessage>();
  let failed: (reason: string) => void = () => {};
  const failure = new Promise<string>((r) => {
    failed = r;
  });
  supervisor.on("status", (name, status) => {
    reports.set(name as StageProcess, status as StageStatusMessage);
    lastReports.set(name as StageProcess, status as StageStatusMessage);
  });
  let stopping = false;
  supervisor.on("exited", (name, why) => {
    reports.delete(name as StageProcess);
    if (stopping) log.info({ stage: name, why }, "stage process stopped");
    else log.warn({ stage: name, why }, "stage process exited");
  });
  supervisor.on("restarting", (name, delayMs) =>
    log.info({ stage: name, delayMs }, "restarting stage"),
  );
  supervisor.on("gave-up", (name, reason) => failed(`${name} ${reason}`));
  for (const [index, stage] of STAGE_PROCESSES.entries()) {
    supervisor.start({
      name: stage,
      module: CLI,
      args: ["stage", stage, "-f", specFile],
      env: {
        ...env,
        TRADEPIPE_RUN_DIR: runDir,
        TRADEPIPE_HEALTH_PORT: String(basePort > 0 ? basePort + index : 0),
        ...(stageUrls.has(stage) ? { DATABASE_URL: stageUrls.get(stage)! } : {}),
      },
      ...(logDir ? { logFile: join(logDir, `${stage}.log`) } : {}),
    });
  }
  return {
    stop: stopAll,
    pid: (stage) => supervisor.pid(stage),
    failure,
    reports: () => Object.fromEntries(lastReports),
    stages: () =>
      supervisor.states().map((s) => ({
        name: s.name,
        up: s.running,
        ready: Boolean(reports.get(s.name as StageProcess)?.ready),
        restarts: s.restarts,
        detail: s.running
          ? (reports.get(s.name as StageProcess)?.reasons ?? []).join("; ") || undefined
          : s.lastExit,
      })),
  };
}

async function startFused(
  pipeline: TradingPipeline,
  db: Database,
  env: NodeJS.ProcessEnv,
  log: Logger,
  healthPort: number,
  controlSocket: string,
  cleanups: Array<() => Promise<void>>,
): Promise<Started> {
  const metrics = createMetrics({ defaultLabels: { pipeline: pipeline.metadata.name } });
  const routes: Record<string, RouteHandler> = {};
  const controlRoutes: Record<string, ControlHandler> = {};
  let fused: FusedPipeline | undefined;
  const health = await startHealthServer({
    port: healthPort,
    registry: metrics.registry,
    routes,
    readiness: () => {
      if (!fused) return { ready: false, reasons: ["starting"] };
      const reasons = STAGE_PROCESSES.flatMap((s) =>
        fused!.readiness[s].report().reasons.map((r) => `${s}: ${r}`),
      );
      return { ready: reasons.length === 0, reasons };
    },
  });
  cleanups.push(() => health.close());
  const control = await startControlServer({ routes: controlRoutes, socketPath: controlSocket });
  cleanups.push(() => control.close());
  const replicationLag = startReplicationLagSampler(db.pool, metrics, log);
  cleanups.push(async () => replicationLag.stop());
  let failed: (reason: string) => void = () => {};
  const failure = new Promise<string>((r) => {
    failed = r;
  });
  fused = await startFusedPipeline({
    pipeline,
    db: db.pool,
    log,
    metrics,
    broker: resolveBrokerConnection(pipeline, env),
    routes,
    controlRoutes,
    ...(env[RECORD_DIR_ENV] ? { recordDir: env[RECORD_DIR_ENV] } : {}),
  });
  void fused.failed.then(failed);
  cleanups.push(() => fused!.stop());
  say(log, `Health: ${health.url}/health, ${health.url}/ready, ${health.url}/metrics`);
  return {
    stop: () => fused!.stop(),
    pid: () => undefined,
    failure,
    reports: () => fused!.reports(),
    stages: () =>
      STAGE_PROCESSES.map((s) => {
        const r = fused!.readiness[s].report();
        return {
          name: s,
          up: true,
          ready: r.ready,
          restarts: 0,
          detail: r.reasons.join("; ") || undefined,
        };
      }),
  };
}

/** describeServer is the status screen's line about the embedded Postgres. */
export function describeServer(s: EmbeddedServerStatus): string {
  const crash = s.lastCrash ? ` (last crash ${s.lastCrash.how} at ${s.lastCrash.at})` : "";
  const recovered =
    s.lastRecoveryMs !== undefined ? `, back in ${(s.lastRecoveryMs / 1000).toFixed(1)} s` : "";
  switch (s.state) {
    case "up":
      return s.restarts === 0
        ? `embedded server up (pid ${s.pid})`
        : `embedded server up (pid ${s.pid}), restarted ${s.restarts}× after a crash${crash}${recovered}`;
    case "restarting":
      return `embedded server crashed${crash}: restarting it (WAL recovery)`;
    case "failed":
      return `embedded server crashed${crash} and keeps crashing: gave up`;
  }
}

function statusOf(
  opts: LocalRunOptions,
  started: Started,
  startedAt: number,
  db: Database,
): PipelineStatus {
  const r = started.reports();
  const exec = r["execution-engine"] ?? {};
  const pos = r["position-tracker"] ?? {};
  const risk = r["risk-manager"] ?? {};
  return {
    pipeline: opts.pipeline.metadata.name,
    mode: opts.fused ? "fused" : "processes",
    broker: opts.pipeline.spec.broker.kind,
    uptimeSeconds: (Date.now() - startedAt) / 1000,
    stages: started.stages(),
    ordersSent: exec.ordersSent ?? 0,
    fills: exec.fills ?? 0,
    rejects: risk.rejects ?? 0,
    rejectsByReason: risk.rejectsByReason ?? {},
    positions: pos.positions ?? [],
    realizedPnl: pos.realizedPnl ?? "0",
    unrealizedPnl: pos.unrealizedPnl ?? "0",
    circuitBreaker: risk.circuitBreaker ?? "closed",
    killSwitch: risk.killSwitch ?? false,
    database: db.server
      ? { ok: db.server.status().state === "up", line: describeServer(db.server.status()) }
      : { ok: true, line: "DATABASE_URL" },
  };
}

async function watch(
  opts: LocalRunOptions,
  started: Started,
  log: Logger,
  db: Database,
): Promise<LocalRunSummary> {
  const view = new StatusView();
  const startedAt = Date.now();
  opts.onStarted?.({
    databaseUrl: db.url,
    pid: (stage) => started.pid(stage),
    databasePid: () => db.server?.status().pid,
    status: () => statusOf(opts, started, startedAt, db),
  });
  const interval = opts.statusIntervalMs ?? (view.isTerminal ? 500 : 5_000);
  const timer = setInterval(() => view.show(statusOf(opts, started, startedAt, db)), interval);
  const stoppedBecause = await new Promise<string>((resolve) => {
    const onSignal = (sig: string) => () => resolve(`stopped by ${sig}`);
    const onInt = onSignal("Ctrl-C (SIGINT)");
    const onTerm = onSignal("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    if (opts.durationSeconds > 0) {
      setTimeout(
        () => resolve(`ran for ${opts.durationSeconds} s as asked`),
        opts.durationSeconds * 1000,
      ).unref();
    }
    opts.stopSignal?.addEventListener("abort", () => resolve("stopped by its caller"), {
      once: true,
    });
    void started.failure.then((reason) => resolve(`stopped: ${reason}`));
    void db.server?.failed.then((reason) => resolve(`stopped: ${reason}`));
  });
  clearInterval(timer);
  const final = statusOf(opts, started, startedAt, db);
  view.show(final);
  log.info({ reason: stoppedBecause }, "stopping the pipeline");
  await started.stop();
  // Orders and fills still land while the stages drain: count them after the stop.
  const drained = statusOf(opts, started, startedAt, db);
  return { ordersSent: drained.ordersSent, fills: drained.fills, stoppedBecause };
}
