/**
 * fused runs all five stages in one process over the in-process bus: the lowest-latency wiring
 * of the same stage code. Stages start in pipeline order; each still takes its stage's
 * leadership, so a fused process and stage processes never trade against one database at once.
 */
import type pg from "pg";
import { InProcBus } from "../core/bus/index.ts";
import type { ControlHandler } from "../core/control/server.ts";
import { createReadiness, type Readiness, type RouteHandler } from "../core/health/index.ts";
import { wallClockNs } from "../core/messages/time.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import type { Logger, Metrics } from "../core/telemetry/index.ts";
import type { BrokerConnection, StageReport } from "./context.ts";
import { loadSectors, type StageInstance, startStageInstance } from "./host.ts";
import { createKeptStreams } from "./kept-streams.ts";
import { busObserver, sharedMetrics } from "./metrics.ts";
import { STAGE_PROCESSES, type StageProcess } from "./stages.ts";

export interface FusedPipelineOptions {
  pipeline: TradingPipeline;
  db: pg.Pool;
  log: Logger;
  metrics: Metrics;
  broker: BrokerConnection;
  /** Routes of the process's health server; stages add theirs. */
  routes: Record<string, RouteHandler>;
  /** Routes of the process's control listener; stages add theirs. */
  controlRoutes: Record<string, ControlHandler>;
  onLeadershipLost?: (stage: StageProcess, reason: Error) => void;
  /** StageContext.recordDir (`tradepipe run --record DIR`). */
  recordDir?: string;
}

export interface FusedPipeline {
  bus: InProcBus;
  readiness: Readonly<Record<StageProcess, Readiness>>;
  reports(): Record<StageProcess, StageReport>;
  /** Settles with the reason when a stage failed on its own (not its database going away). */
  failed: Promise<string>;
  stop(): Promise<void>;
}

export async function startFusedPipeline(opts: FusedPipelineOptions): Promise<FusedPipeline> {
  const metrics = sharedMetrics(opts.metrics);
  const bus = new InProcBus({ observer: busObserver(metrics, wallClockNs) });
  const sectors = await loadSectors();
  const readiness = Object.fromEntries(
    STAGE_PROCESSES.map((s) => [s, createReadiness()]),
  ) as Record<StageProcess, Readiness>;
  const instances: StageInstance[] = [];
  // The broker's WebSockets outlive a term of leadership here too (kept-streams.ts).
  const streams = createKeptStreams();
  // Stops downstream stages first; safe to call more than once (the runner's stop and its
  // cleanup both do).
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      for (const instance of [...instances].reverse()) await instance.stop();
      await streams.close();
      await bus.close();
    })();
    return stopping;
  };
  try {
    for (const stage of STAGE_PROCESSES) {
      const instance = await startStageInstance(
        stage,
        {
          pipeline: opts.pipeline,
          bus,
          db: opts.db,
          log: opts.log,
          metrics,
          broker: opts.broker,
          sectors,
          routes: opts.routes,
          controlRoutes: opts.controlRoutes,
          streams,
          ...(opts.onLeadershipLost ? { onLeadershipLost: opts.onLeadershipLost } : {}),
          ...(opts.recordDir ? { recordDir: opts.recordDir } : {}),
        },
        readiness[stage],
      );
      if (instance) instances.push(instance);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const failed = Promise.race(
    instances.map((i) =>
      i.failed.catch((err: unknown) => `${i.stage} failed: ${(err as Error).message}`),
    ),
  );
  return {
    bus,
    readiness,
    failed,
    reports: () =>
      Object.fromEntries(instances.map((i) => [i.stage, i.lastReport()])) as Record<
        StageProcess,
        StageReport
      >,
    stop: stopAll,
  };
}
