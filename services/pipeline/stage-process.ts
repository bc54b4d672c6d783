/**
 * stage-process runs one stage as its own process: the shape used by the local supervisor,
 * systemd units and pods. It owns the process-level parts (logger, metrics, health server,
 * database pool, ZeroMQ bus, systemd notifications, signals) and hands the stage to host.ts.
 */

import { readBusCurveDir } from "../core/bus/curve.ts";
import { openBus } from "../core/bus/open.ts";
import type { ControlHandler } from "../core/control/server.ts";
import { joinLeadershipGroup } from "../core/db/leadership-group.ts";
import { createStagePool } from "../core/db/pool.ts";
import { databaseUrlFromEnv } from "../core/db/url.ts";
import { TradepipeError } from "../core/errors.ts";
import { createReadiness, type RouteHandler, startHealthServer } from "../core/health/index.ts";
import { createKubeClient, loadKubeConfig } from "../core/kube/client.ts";
import { wallClockNs } from "../core/messages/time.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import { createLogger, createMetrics, type Logger, startTracing } from "../core/telemetry/index.ts";
import { resolveBrokerConnection } from "./broker-connection.ts";
import { RECORD_DIR_ENV, type StageReport } from "./context.ts";
import { startControlListener } from "./control-listener.ts";
import { startReplicationLagSampler } from "./db-metrics.ts";
import { endpointsFromEnv } from "./endpoints.ts";
import { loadSectors, startStageInstance } from "./host.ts";
import { createKeptStreams } from "./kept-streams.ts";
import { startKubeStageLease } from "./kube-lease.ts";
import { type LeaseOutageReport, startLeaseOutageReport } from "./lease-outage-report.ts";
import { busObserver, sharedMetrics } from "./metrics.ts";
import { systemdNotifier } from "./sd-notify.ts";
import { watchSpecFile } from "./spec-watch.ts";
import { type StageProcess, UPSTREAMS } from "./stages.ts";

export interface StageProcessOptions {
  stage: StageProcess;
  pipeline: TradingPipeline;
  /** The file `pipeline` came from: watched while running (spec-watch.ts). */
  specFile?: string;
  env?: NodeJS.ProcessEnv;
}

/** The message a stage process sends its supervisor over the IPC channel. */
export interface StageStatusMessage extends StageReport {
  type: "status";
  stage: StageProcess;
  ready: boolean;
  reasons: string[];
  healthUrl: string;
}

export async function runStageProcess(opts: StageProcessOptions): Promise<number> {
  const env = opts.env ?? process.env;
  const { stage, pipeline } = opts;
  const log = createLogger({
    name: stage,
    // TRADEPIPE_LOG_LEVEL, when set, overrides the spec (createLogger reads it).
    level: env.TRADEPIPE_LOG_LEVEL ? undefined : pipeline.spec.observability.logLevel,
    base: { pipeline: pipeline.metadata.name },
  });
  const tracing = await startTracing({
    serviceName: `tradepipe-${stage}`,
    otlpEndpoint: pipeline.spec.observability.otlpEndpoint,
  });
  const metrics = sharedMetrics(
    createMetrics({ defaultLabels: { stage, pipeline: pipeline.metadata.name } }),
  );
  const readiness = createReadiness();
  const notifier = systemdNotifier(env);
  const databaseUrl = databaseUrlFromEnv(env);
  if (!databaseUrl) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      "a stage process needs its database: set DATABASE_URL_FILE (or a systemd credential database-url, or DATABASE_URL)",
    );
  }
  const routes: Record<string, RouteHandler> = {};
  const health = await startHealthServer({
    routes,
    port: Number(env.TRADEPIPE_HEALTH_PORT ?? 0),
    host: env.TRADEPIPE_HEALTH_HOST ?? "127.0.0.1",
    registry: metrics.registry,
    readiness,
  });
  const controlRoutes: Record<string, ControlHandler> = {};
  const control = await startControlListener(env, stage, pipeline.metadata.name, controlRoutes);
  const specWatcher = opts.specFile ? watchSpecFile(opts.specFile, log) : undefined;
  // Keepalives, timeouts and read-write sessions only: a database that goes away is noticed.
  const db = createStagePool(databaseUrl, { max: 6 });
  db.on("error", (err) => log.warn({ err: err.message }, "idle database connection failed"));
  const replicationLag = startReplicationLagSampler(db, metrics, log);
  const endpoints = endpointsFromEnv(env);
  // In a pod the operator mounts the pipeline's bus key pair: the bus is CURVE-encrypted and
  // only holders of the pair may subscribe (services/core/bus/curve.ts).
  const curveDir = env.TRADEPIPE_BUS_CURVE_DIR;
  const bus = await openBus({
    bind: [endpoints.bind(stage)],
    connect: UPSTREAMS[stage].map((s) => endpoints.connect(s)),
    observer: busObserver(metrics, wallClockNs),
    ...(curveDir ? { curve: readBusCurveDir(curveDir) } : {}),
    onAuthentication: (d) => {
      if (!d.allowed) log.warn({ address: d.address, key: d.clientKey }, "bus client refused");
    },
  });
  log.info(
    {
      bind: endpoints.bind(stage),
      health: health.url,
      control: control?.address,
      curve: Boolean(curveDir),
    },
    "stage process up",
  );
  // systemd: the unit is up once it serves /health; whether it leads, stands by or waits for
  // its database is its STATUS= text (never a failed start: a database outage is no crash).
  notifier.ready(statusText(stage, readiness.report().reasons));

  let lastSent = 0;
  let pending: NodeJS.Timeout | undefined;
  let latest: StageStatusMessage | undefined;
  const sendStatus = () => {
    pending = undefined;
    lastSent = Date.now();
    if (latest && process.send && process.connected) process.send(latest);
  };
  const shutdown = new AbortController();
  const stopStopping = notifier.startWatchdog();
  let exitCode = 0;
  // The first SIGTERM/SIGINT stops the stage cleanly; once stopping has begun (a signal, a lost
  // leadership, or a start that failed), another one ends the process at once: a handler must
  // never leave a process that no signal but SIGKILL can end.
  let stopping = false;
  let signalled: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    signalled = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "signal while stopping: exiting now");
      process.exit(exitCode || 1);
    }
    stopping = true;
    log.info({ signal }, "stopping");
    shutdown.abort();
    signalled();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  const streams = createKeptStreams();
  // In a pod: an outage is reported on the stage Lease, for the pipeline's status.
  const outageReport = await startOutageReport(env, log);
  // A colocated pod's stages lead together (the operator names the pod's group).
  const groupName = env.TRADEPIPE_LEADERSHIP_GROUP;
  const group = groupName ? joinLeadershipGroup(db, groupName) : undefined;
  // Everything the start needs is read inside the catch below, so a missing key or file ends
  // the process cleanly (exit 1) like any other failed start.
  const instance = await (async () =>
    startStageInstance(
      stage,
      {
        pipeline,
        bus,
        db,
        log,
        metrics,
        broker: resolveBrokerConnection(pipeline, env),
        sectors: await loadSectors(),
        routes,
        controlRoutes,
        // The broker's WebSockets stay open through a database outage (kept-streams.ts).
        streams,
        ...(specWatcher ? { watchSpec: specWatcher.watch } : {}),
        signal: shutdown.signal,
        onReport: (_stage, report, r) => {
          const { ready, reasons } = r.report();
          latest = { type: "status", stage, ready, reasons, healthUrl: health.url, ...report };
          notifier.status(statusText(stage, reasons));
          const outage = report.databaseOutage;
          outageReport?.set(typeof outage === "string" ? outage : null);
          // At most four status messages a second reach the supervisor.
          if (!pending)
            pending = setTimeout(sendStatus, Math.max(0, 250 - (Date.now() - lastSent)));
        },
        ...(group ? { group } : {}),
        ...(env[RECORD_DIR_ENV] ? { recordDir: env[RECORD_DIR_ENV] } : {}),
      },
      readiness,
    ))().catch((err: unknown) => {
    log.error({ err: (err as Error).message }, "stage failed to start");
    exitCode = 1;
    return null;
  });
  // In a pod: the operator's Lease handshake (leader shown in status, kill switch on delete).
  const kubeLease = instance
    ? await startKubeStageLease({ db, log, env }).catch((err: unknown) => {
        log.error({ err: (err as Error).message }, "stage Lease not started");
        return null;
      })
    : null;
  if (instance) {
    // A stage's own fault (not its database going away) ends the process: its supervisor
    // (local run, systemd, Kubernetes) restarts it and gives up on a crash loop.
    instance.failed.catch((err: unknown) => {
      log.error({ err: (err as Error).message }, "stage failed");
      exitCode = 1;
      shutdown.abort();
    });
    await Promise.race([done, new Promise((r) => shutdown.signal.addEventListener("abort", r))]);
  }
  stopping = true;
  notifier.stopping();
  stopStopping();
  if (pending) clearTimeout(pending);
  await kubeLease?.stop().catch(() => {});
  await outageReport?.stop();
  await instance?.stop().catch((err: unknown) => {
    log.error({ err: (err as Error).message }, "stage did not stop cleanly");
    exitCode = 1;
  });
  // The last counters (fills that landed while stopping) reach the supervisor before the exit.
  if (pending) clearTimeout(pending);
  const last = latest;
  if (last && process.send && process.connected) {
    await new Promise<void>((resolve) => process.send?.(last, undefined, {}, () => resolve()));
  }
  await group?.release();
  await streams.close();
  replicationLag.stop();
  await bus.close();
  await db.end().catch(() => {});
  specWatcher?.stop();
  await control?.close();
  await health.close();
  await tracing.shutdown();
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  log.info({ exitCode }, "stage process stopped");
  return exitCode;
}

/**
 * startOutageReport: with TRADEPIPE_STAGE_LEASE (a pod), a database outage is written to the
 * stage Lease for the operator (lease-outage-report.ts); null elsewhere, or when the API server
 * cannot be configured (the stage works on without it).
 */
async function startOutageReport(
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<LeaseOutageReport | null> {
  const lease = env.TRADEPIPE_STAGE_LEASE;
  const namespace = env.POD_NAMESPACE;
  const pod = env.POD_NAME;
  if (!lease || !namespace || !pod) return null;
  try {
    const client = await createKubeClient(loadKubeConfig(env.TRADEPIPE_KUBECONFIG));
    const report = startLeaseOutageReport({ client, namespace, lease, pod, log });
    return {
      ...report,
      async stop() {
        await report.stop();
        await client.close();
      },
    };
  } catch (err) {
    log.warn({ err: (err as Error).message }, "outages will not be reported on the stage Lease");
    return null;
  }
}

/**
 * statusText is the one-line state of a stage process for systemd's STATUS= (what `systemctl
 * status` shows): "leading <stage>" when it leads and is ready; "<stage>: database unreachable
 * since <time>: <error> (…)" during a database outage; else why it is not ready (standing by,
 * recovering).
 */
export function statusText(stage: StageProcess, reasons: readonly string[]): string {
  if (reasons.length === 0) return `leading ${stage}`;
  // A database outage says it all (the stage stands by until it is back): the same sentence
  // as the TradingPipeline's condition on Kubernetes.
  const outage = reasons.find((r) => r.startsWith(DATABASE_REASON));
  if (outage) return `${stage}: ${outage.slice(DATABASE_REASON.length)}`;
  return `${stage} not ready: ${reasons.join("; ")}`;
}

/** The readiness check a database outage sets (host.ts), as it prefixes its reason. */
const DATABASE_REASON = "database: ";
