/**
 * stage-harness: runs a stage exactly as production does (host.ts's startStageInstance) against
 * real parts: the broker simulator over HTTP/WebSocket, a fresh migrated Postgres database and an
 * InProcBus. Tests observe the stage through the bus.
 */
import { Writable } from "node:stream";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import {
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "../../services/broker-sim/index.ts";
import { InProcBus } from "../../services/core/bus/index.ts";
import type { BusMessage } from "../../services/core/bus/types.ts";
import type { ControlHandler } from "../../services/core/control/server.ts";
import type { RouteHandler } from "../../services/core/health/index.ts";
import { parsePipeline, type TradingPipeline } from "../../services/core/spec/index.ts";
import { createLogger, createMetrics, type Metrics } from "../../services/core/telemetry/index.ts";
import { simulatorEndpoints } from "../../services/pipeline/broker-connection.ts";
import {
  loadSectors,
  type StageInstance,
  startStageInstance,
} from "../../services/pipeline/host.ts";
import { sharedMetrics } from "../../services/pipeline/metrics.ts";
import type { StageProcess } from "../../services/pipeline/stages.ts";
import { testJournalDir } from "../support/journal-dir.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

export interface Harness {
  sim: Simulator;
  db: TestDatabase;
  bus: InProcBus;
  metrics: Metrics;
  pipeline: TradingPipeline;
  /** Log lines the stages wrote (JSON objects). */
  logs: Record<string, unknown>[];
  /** Read-only health routes the stages added (e.g. "GET /kill-switch"), shared by every start. */
  routes: Record<string, RouteHandler>;
  /** Control-listener routes the stages added (e.g. "POST /kill-switch"). */
  controlRoutes: Record<string, ControlHandler>;
  /** changeSpec hands running stages a new version of the spec (as a changed spec file would). */
  changeSpec(spec: Record<string, unknown>): void;
  start(stage: StageProcess): Promise<StageInstance>;
  /** record collects every message matching `filters` (decoded by the caller). */
  record(filters: readonly string[]): BusMessage[];
  close(): Promise<void>;
}

/**
 * useTestJournalDir points the execution engine's journal (TRADEPIPE_JOURNAL_DIR) at a
 * directory of this test process, unless the test chose one: never the user's data directory.
 */
export function useTestJournalDir(): string {
  process.env.TRADEPIPE_JOURNAL_DIR ??= testJournalDir();
  return process.env.TRADEPIPE_JOURNAL_DIR;
}

export interface HarnessOptions {
  sim?: SimulatorOptions;
  /** Spec fields merged over the defaults (broker.kind is always the simulator). */
  spec?: Record<string, unknown>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  useTestJournalDir();
  const symbols = opts.sim?.symbols ?? ["AAPL", "MSFT"];
  const sim = await startSimulator({ seed: 7, ...opts.sim, symbols });
  const db = await withMigratedDatabase();
  const parsed = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "test" },
    spec: {
      symbols: Array.isArray(symbols) ? symbols : Object.keys(symbols),
      ...opts.spec,
      broker: { kind: "simulator" },
    },
  });
  if (!parsed.ok) {
    await Promise.all([sim.close(), db.drop()]);
    throw new Error(`test pipeline invalid: ${JSON.stringify(parsed.errors)}`);
  }
  const pipeline = parsed.pipeline;
  const specListeners = new Set<(p: TradingPipeline) => void>();
  const watchSpec = (l: (p: TradingPipeline) => void) => {
    specListeners.add(l);
    return () => specListeners.delete(l);
  };
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({
    name: "test",
    level: "info",
    destination: new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
        done();
      },
    }),
  });
  // As in every host process: stages started twice share their metrics.
  const metrics = sharedMetrics(createMetrics({ defaultMetrics: false }));
  const bus = new InProcBus();
  const sectors = await loadSectors();
  const instances: StageInstance[] = [];
  const subscriptions: Array<{ unsubscribe(): void }> = [];
  const routes: Record<string, RouteHandler> = {};
  const controlRoutes: Record<string, ControlHandler> = {};
  return {
    sim,
    db,
    bus,
    metrics,
    pipeline,
    logs,
    routes,
    controlRoutes,
    changeSpec(spec) {
      const next = parsePipeline({
        apiVersion: "tradepipe.io/v1alpha1",
        kind: "TradingPipeline",
        metadata: { name: "test" },
        spec: { ...pipeline.spec, ...spec },
      });
      if (!next.ok) throw new Error(`changed spec invalid: ${JSON.stringify(next.errors)}`);
      for (const l of specListeners) l(next.pipeline);
    },
    async start(stage) {
      const instance = await startStageInstance(stage, {
        pipeline,
        bus,
        db: db.pool,
        log,
        metrics,
        broker: {
          kind: "simulator",
          endpoints: simulatorEndpoints(sim.tradingUrl, pipeline.spec.broker.dataFeed),
          credentials: new Credentials(sim.keys.keyId, sim.keys.secretKey, "test"),
        },
        sectors,
        routes,
        controlRoutes,
        watchSpec,
      });
      if (!instance) throw new Error(`${stage} did not start`);
      instances.push(instance);
      return instance;
    },
    record(filters) {
      const seen: BusMessage[] = [];
      subscriptions.push(bus.subscribe(filters, (m) => seen.push(m)));
      return seen;
    },
    async close() {
      for (const s of subscriptions) s.unsubscribe();
      for (const i of instances.reverse()) await i.stop();
      await bus.close();
      await sim.close();
      await db.drop();
    },
  };
}

/** waitFor polls until `cond` holds; fails with `what` after `ms` (a bound, not a timing check). */
export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
