/**
 * pipeline-fused-node: the fused pipeline (all stages, one process, InProcBus) as the benchmark
 * runs it, with the probe preloaded (NODE_OPTIONS=--import pipeline-probe.ts), which stamps the
 * path's bus hops, journal appends and write-behind commits; this process adds a second, warm model call per scored
 * tick and hands the metrics text back at stop.
 * When the risk-manager and execution-engine shells are not in the tree it runs market-data and
 * signal-bridge only, and the path ends at the signal.
 *   node pipeline-fused-node.ts <json: specFile, databaseUrl, simUrl, keyId, secretKey, stages>
 *   ← { type: "ready" } once every stage is ready; → { type: "stop" } stops and exits.
 */

import { subscribe } from "node:diagnostics_channel";
import pg from "pg";
import { Credentials } from "../../../services/alpaca-client/credentials.ts";
import { InProcBus } from "../../../services/core/bus/index.ts";
import { createReadiness, type Readiness } from "../../../services/core/health/index.ts";
import { loadPipelineFile } from "../../../services/core/spec/index.ts";
import { createLogger, createMetrics } from "../../../services/core/telemetry/index.ts";
import { EXECUTION_SETTINGS } from "../../../services/execution-engine/stage.ts";
import { simulatorEndpoints } from "../../../services/pipeline/broker-connection.ts";
import { startFusedPipeline } from "../../../services/pipeline/fused.ts";
import {
  loadSectors,
  type StageInstance,
  startStageInstance,
} from "../../../services/pipeline/host.ts";
import { sharedMetrics } from "../../../services/pipeline/metrics.ts";
import type { StageProcess } from "../../../services/pipeline/stages.ts";
import { loadModelScorer, resolveModelPath } from "../../../services/signal-bridge/model-scorer.ts";
import { installProbe } from "./pipeline-probe.ts";

const opts = JSON.parse(process.argv[2] ?? "{}") as {
  specFile: string;
  databaseUrl: string;
  simUrl: string;
  keyId: string;
  secretKey: string;
  stages: "all" | "md+sb";
  /** orderPath: "undici" turns the execution-engine's dedicated order connections off. */
  orderPath?: "dedicated" | "undici";
};
if (opts.orderPath === "undici") EXECUTION_SETTINGS.orderConnections = 0;
const probe = installProbe();
const pipeline = await loadPipelineFile(opts.specFile);
// A second session of the same model, called again once each scored tick's synchronous work is
// done (a microtask, so it never delays the measured path): the same call with the process's
// caches just warmed by the stage's.
const warm = await loadModelScorer(resolveModelPath(pipeline.spec.strategy.modelRef));
warm.input.fill(0.1);
const warmCalls: number[] = [];
subscribe("tradepipe:sb.timing", (m) => {
  if ((m as { inferenceNs: number }).inferenceNs < 0) return;
  queueMicrotask(() => {
    const t0 = process.hrtime.bigint();
    warm.scoreSync?.();
    warmCalls.push(Number(process.hrtime.bigint() - t0));
  });
});
// As many connections as `tradepipe run --fused` gives its stages (services/core/db/connect.ts):
// the stages' leadership sessions and LISTEN connections hold some for good, and with 8 the
// position-tracker waited for one forever.
const db = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
db.on("error", () => {});
const log = createLogger({ name: "bench-fused", level: "warn" });
const metrics = sharedMetrics(createMetrics({ defaultMetrics: false }));
const broker = {
  kind: "simulator" as const,
  endpoints: simulatorEndpoints(opts.simUrl, pipeline.spec.broker.dataFeed),
  credentials: new Credentials(opts.keyId, opts.secretKey, "bench"),
};
let bus: InProcBus;
let readiness: Readiness[];
let stop: () => Promise<void>;
if (opts.stages === "all") {
  const fused = await startFusedPipeline({
    pipeline,
    db,
    log,
    metrics,
    broker,
    routes: {},
    controlRoutes: {},
  });
  bus = fused.bus;
  readiness = Object.values(fused.readiness);
  stop = () => fused.stop();
} else {
  bus = new InProcBus();
  const sectors = await loadSectors();
  const started: Array<StageInstance | null> = [];
  readiness = [];
  for (const stage of ["market-data", "signal-bridge"] as StageProcess[]) {
    const r = createReadiness();
    readiness.push(r);
    const deps = {
      pipeline,
      bus,
      db,
      log,
      metrics,
      broker,
      sectors,
      routes: {},
      controlRoutes: {},
    };
    started.push(await startStageInstance(stage, deps, r));
  }
  stop = async () => {
    for (const s of started.reverse()) await s?.stop();
  };
}
void bus;

const deadline = Date.now() + 60_000;
while (!readiness.every((r) => r.report().ready)) {
  if (Date.now() > deadline) {
    const reasons = readiness.flatMap((r) => r.report().reasons);
    process.send?.({ type: "failed", reason: `not ready after 60 s: ${reasons.join("; ")}` });
    break;
  }
  await new Promise((r) => setTimeout(r, 50));
}
process.send?.({ type: "ready" });

const finish = async () => {
  const text = await metrics.registry.metrics();
  await stop().catch(() => {});
  await db.end().catch(() => {});
  void probe;
  const stamps = {
    type: "stamps",
    warmCalls,
    metrics: text,
  };
  process.send?.(stamps, () => process.exit(0));
};
process.on("message", (m: { type: string }) => {
  if (m.type === "stop") void finish();
});
process.on("disconnect", () => process.exit(0));
