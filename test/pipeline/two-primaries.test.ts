/**
 * Two primaries for a moment. Two execution-engines share one broker and reach Postgres through
 * one read-write address (a TCP proxy standing for the rw Service). Engine A leads on primary P.
 * Then a streaming standby S is promoted and the address is switched to it, while P still
 * accepts the sessions it has (as an old primary cut off from its orchestrator but not from its
 * clients), until it hangs a moment later (isolated: its processes are frozen). Engine B starts
 * after the switch, so it reaches S at once and finds the stage lock free there.
 *
 * At most one engine sends at any instant: each engine is fed its own signals (a-… and b-…),
 * and the simulator's order log shows every order of A before every order of B. What keeps them
 * apart is the leadership deadline: A acts only while its last renewal is younger than the act
 * bound (its renewal on the frozen P hangs and counts as failed), and B, taking over from a
 * leader that did not release, waits out the longer takeover time before it acts.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { InProcBus } from "../../services/core/bus/index.ts";
import { LEADERSHIP_TIMING } from "../../services/core/db/leadership.ts";
import { migrate } from "../../services/core/db/migrate.ts";
import { createStagePool } from "../../services/core/db/pool.ts";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { createLogger, createMetrics, type Metrics } from "../../services/core/telemetry/index.ts";
import { simulatorEndpoints } from "../../services/pipeline/broker-connection.ts";
import {
  loadSectors,
  type StageInstance,
  startStageInstance,
} from "../../services/pipeline/host.ts";
import { sharedMetrics } from "../../services/pipeline/metrics.ts";
import { processTree, signalAll } from "../support/processes.ts";
import { type PrimaryAndStandby, startPrimaryAndStandby } from "../support/replication.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { coid, PIPELINE, publishIntent, publishQuote } from "./execution-support.ts";
import { waitFor } from "./stage-harness.ts";

interface Engine {
  name: string;
  bus: InProcBus;
  pool: pg.Pool;
  metrics: Metrics;
  abort: AbortController;
  instance: Promise<StageInstance | null>;
  signals: string[];
}

let pair: PrimaryAndStandby;
let proxy: TcpProxy;
let sim: Simulator;
let frozen: number[] = [];
const engines: Engine[] = [];

before(async () => {
  pair = await startPrimaryAndStandby("tp-two-primaries-");
  const admin = new pg.Pool({ connectionString: pair.primary.url, max: 1 });
  await migrate(admin);
  await admin.end();
  proxy = await startTcpProxy(pair.primary.port);
  sim = await startSimulator({
    seed: 5,
    symbols: ["AAPL"],
    startTime: "2026-03-02T14:30:00Z",
    partialFillProbability: 0,
  });
});

after(async () => {
  signalAll(frozen, "SIGCONT");
  for (const e of engines) {
    e.abort.abort();
    const i = await e.instance.catch(() => null);
    await i?.stop().catch(() => {});
    await e.bus.close();
    await e.pool.end().catch(() => {});
  }
  await proxy?.close();
  await sim?.close();
  await pair?.standby.stop();
  await pair?.primary.stop();
  if (pair) await rm(pair.root, { recursive: true, force: true });
});

async function engine(name: string): Promise<Engine> {
  const parsed = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: PIPELINE },
    spec: { symbols: ["AAPL"], broker: { kind: "simulator" } },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const url = new URL(pair.primary.url);
  url.port = String(proxy.port);
  const pool = createStagePool(url.toString(), { max: 6 });
  pool.on("error", () => {});
  const bus = new InProcBus();
  const metrics = sharedMetrics(createMetrics({ defaultMetrics: false }));
  const abort = new AbortController();
  const e: Engine = {
    name,
    bus,
    pool,
    metrics,
    abort,
    signals: [],
    instance: startStageInstance("execution-engine", {
      pipeline: parsed.pipeline,
      bus,
      db: pool,
      log: createLogger({
        name,
        level: "warn",
        destination: new Writable({ write: (_c, _e, d) => d() }),
      }),
      metrics,
      broker: {
        kind: "simulator",
        endpoints: simulatorEndpoints(sim.tradingUrl, parsed.pipeline.spec.broker.dataFeed),
        credentials: new Credentials(sim.keys.keyId, sim.keys.secretKey, "test"),
      },
      sectors: await loadSectors(),
      routes: {},
      controlRoutes: {},
      signal: abort.signal,
    }),
  };
  engines.push(e);
  return e;
}

/** feed publishes a quote and one new intent (buy and sell in turn) to `e` every 200 ms. */
function feed(e: Engine): () => void {
  let n = 0;
  const timer = setInterval(() => {
    const id = `${e.name}-${++n}`;
    e.signals.push(id);
    publishQuote(e.bus, "AAPL", "190.00", "190.02");
    publishIntent(e.bus, {
      signalId: id,
      decisionPrice: "190.01",
      qty: "1",
      side: n % 2 === 0 ? "sell" : "buy",
    });
  }, 200);
  return () => clearInterval(timer);
}

/** Times at the broker (simulator clock, ms) of the submits of `e`'s orders. */
function submitTimes(e: Engine): number[] {
  const ids = new Set(e.signals.map((s) => coid(s)));
  return sim.admin
    .state()
    .order_requests.filter((r) => r.kind === "submit" && ids.has(r.client_order_id ?? ""))
    .map((r) => Date.parse(r.at));
}

async function lostBy(m: Metrics): Promise<Record<string, number>> {
  const metric = await m.registry.getSingleMetric("tradepipe_leadership_lost_total")?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.reason), v.value]));
}

test("a promoted standby while the old primary still serves its sessions: one engine sends at a time", {
  timeout: 180_000,
}, async () => {
  await waitFor(() => sim.admin.state().order_requests.length >= 0, "simulator up");
  const a = await engine("a");
  const leaderA = await a.instance;
  assert.ok(leaderA);
  await waitFor(() => leaderA.readiness.report().ready, "engine a ready", 30_000);
  const stopFeedA = feed(a);
  await waitFor(() => submitTimes(a).length >= 5, "engine a sends orders", 30_000);
  const standby = new pg.Pool({ connectionString: pair.standby.url, max: 1 });
  const caughtUp = async () => {
    const r = await standby.query(
      "SELECT count(*)::int AS n FROM stage_leadership WHERE stage = 'execution-engine'",
    );
    return r.rows[0].n === 1;
  };
  for (let i = 0; i < 100 && !(await caughtUp()); i++) await sleep(100);

  // Failover: S is promoted and the rw address moves to it; P keeps serving its sessions.
  await standby.query("SELECT pg_promote(true, 30)");
  await standby.end();
  proxy.pointTo(pair.standby.port);
  const b = await engine("b");
  const stopFeedB = feed(b);
  // A moment later P is cut off: every process of it freezes (nothing answers, nothing closes).
  await sleep(1_000);
  frozen = processTree(pair.primary.pid);
  signalAll(frozen, "SIGSTOP");
  const frozenAt = Date.now();

  await waitFor(() => !leaderA.readiness.report().ready, "engine a stops acting", 30_000);
  const stopMs = Date.now() - frozenAt;
  const leaderB = await b.instance;
  assert.ok(leaderB);
  await waitFor(() => submitTimes(b).length >= 5, "engine b sends orders", 60_000);
  stopFeedA();
  stopFeedB();

  const aTimes = submitTimes(a);
  const bTimes = submitTimes(b);
  const lastA = Math.max(...aTimes);
  const firstB = Math.min(...bTimes);
  console.log(
    `# two primaries: engine a stopped acting ${stopMs} ms after its primary froze ` +
      `(1 s after the switch); engine b's first order came ${firstB - lastA} ms ` +
      `after engine a's last at the broker (act bound ${LEADERSHIP_TIMING.actBoundMs} ms, takeover wait ${LEADERSHIP_TIMING.takeoverWaitMs} ms)`,
  );
  assert.ok(
    lastA < firstB,
    `every order of engine a reached the broker before any of engine b (a's last ${new Date(lastA).toISOString()}, b's first ${new Date(firstB).toISOString()})`,
  );
  const lost = await lostBy(a.metrics);
  assert.ok(
    (lost.deadline ?? 0) + (lost.connection ?? 0) >= 1,
    `engine a lost its leadership: ${JSON.stringify(lost)}`,
  );
});
