/**
 * pipeline.bench: tick → order on the wire. From the moment the market-data stage's WebSocket
 * delivers a frame to the moment the execution-engine's order request is written (on its
 * dedicated order connection, or by undici), for the
 * fused pipeline (one process, InProcBus) and the multi-process one (five stage processes over
 * ZeroMQ ipc:// and over the bus's own Unix-socket transport), each beside the bare floor of the
 * same transports measured in the same run:
 *   - fused floors: one process, WebSocket frame in → order POST out through undici, and the
 *     same with a pre-built POST written on a kept-alive socket, no logic;
 *   - multi-process floor: the same ends with three raw Unix-socket hops between four processes
 *     (the pipeline's market-data → signal-bridge → risk-manager → execution-engine).
 * Plus per-stage figures: the book update (in the live market-data stage), indicators and
 * inference (in the live signal-bridge) beside a bare onnxruntime-node run() of the same model,
 * and, per mode, the path split where it crosses the bus and the journal-ahead order path (frame
 * → signal published, signal → intent published, intent → journal appended → POST written, each
 * bus hop), and the audit backlog's lag behind it (POST written → its rows committed). Each pipeline run is made against a durable Postgres (fsync on, as
 * `tradepipe run` runs it) and, for comparison, against one without fsync (not a production
 * setting), to show how much of the commit is the disk flush; the fused run also with the
 * execution-engine's dedicated order connections off (every order through undici).
 *
 * Method (see test/bench/README.md): the simulator runs in its own process on a manual clock;
 * the benchmark forces one quote per tick along a seeded price path. It knows which ticks can
 * produce an order (it runs the signal core on the same prices: those where the model is
 * consulted) and measures those closed-loop: the pipeline is idle before the tick, and the next
 * tick waits until the order reached the simulator. Stamps are CLOCK_MONOTONIC, shared by all
 * processes, taken by a probe preloaded into each process (test/bench/support/pipeline-probe.ts).
 *
 *   npx node test/bench/pipeline.bench.ts [--ticks 3000] [--floor-ticks 500]
 *          [--modes fused,processes] [--transports zmq,uds] [--commits durable,nofsync]
 *          [--stages all|md+sb] [--order-paths dedicated,undici] [--json out.json]
 *          [--pictures DIR|off]   (latency histograms, SVG + PNG; default test/bench/results)
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { SymbolSignal } from "../../services/signal-bridge/core/symbol-signal.ts";
import { syntheticMarket } from "../../services/signal-bridge/model/synthetic-market.ts";
import { loadModelScorer, resolveModelPath } from "../../services/signal-bridge/model-scorer.ts";
import { signalParamsOf } from "../../services/signal-bridge/stage.ts";
import { Supervisor } from "../../services/supervisor/supervisor.ts";
import { table } from "./support/bus-stats.ts";
import { pipelinePictures, writeLatencyPictures } from "./support/latency-pictures.ts";
import { breakdown, SEGMENTS, type StageRoles } from "./support/pipeline-breakdown.ts";
import { type BenchPostgres, startBenchPostgres } from "./support/pipeline-db.ts";
import { hotBookUpdate, hotIndicators } from "./support/pipeline-hot.ts";
import {
  type Child,
  type DriveResult,
  drive,
  forkChild,
  probeEnv,
  readProbes,
  type Tick,
} from "./support/pipeline-run.ts";
import {
  meanOf,
  type Percentiles,
  pairLatest,
  percentiles,
  ratio,
  us,
} from "./support/pipeline-stats.ts";

const { values: args } = parseArgs({
  options: {
    ticks: { type: "string", default: "3000" },
    "floor-ticks": { type: "string", default: "500" },
    modes: { type: "string", default: "fused,processes" },
    /** Bus transports of the multi-process runs: zmq (ipc://), uds (unix://). */
    transports: { type: "string", default: "zmq,uds" },
    /** durable: fsync on (production); nofsync: the same runs with fsync off, for comparison. */
    commits: { type: "string", default: "durable,nofsync" },
    /** md+sb: only market-data and signal-bridge (fused), the path ending at the signal. */
    stages: { type: "string", default: "all" },
    /**
     * The fused runs' order path: dedicated (the execution-engine's kept-alive order
     * connections, the default) and/or undici (those turned off: every order through undici).
     */
    "order-paths": { type: "string", default: "dedicated,undici" },
    json: { type: "string" },
    pictures: { type: "string" },
  },
});
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "bin/tradepipe.ts");
const SYMBOL = "AAPL";
const WARMUP = 20;
const AUDIT_METRIC = "tradepipe_audit_write_latency_seconds";
/** Where the time goes, from the stages' own latency histograms (means over the whole run). */
const MEAN_METRICS = [
  "tradepipe_tick_to_order_latency_seconds",
  "tradepipe_bus_hop_latency_seconds",
  "tradepipe_md_book_update_latency_seconds",
  "tradepipe_sb_inference_latency_seconds",
  "tradepipe_order_submit_latency_seconds",
  AUDIT_METRIC,
];

function meansOf(text: string): Record<string, { meanUs: number; count: number }> {
  const out: Record<string, { meanUs: number; count: number }> = {};
  for (const name of MEAN_METRICS) {
    const m = meanOf(text, name);
    if (m.count > 0)
      out[name.replace(/^tradepipe_|_seconds$/g, "")] = { meanUs: m.mean * 1e6, count: m.count };
  }
  return out;
}
const modes = new Set(args.modes!.split(","));
const transports = args.transports!.split(",") as Transport[];
const commits = args.commits!.split(",") as Commit[];
type OrderPath = "dedicated" | "undici";
const orderPaths = args["order-paths"]!.split(",") as OrderPath[];
for (const o of orderPaths)
  if (o !== "dedicated" && o !== "undici") throw new Error(`--order-paths: ${o}?`);
type Transport = "zmq" | "uds";
type Commit = "durable" | "nofsync";
for (const t of transports) if (t !== "zmq" && t !== "uds") throw new Error(`--transports: ${t}?`);
for (const c of commits)
  if (c !== "durable" && c !== "nofsync") throw new Error(`--commits: ${c}?`);
const WHOLE_PATH = SEGMENTS.find(([label]) => label.includes("(whole path)"))![0];
const AUDIT_LAG = SEGMENTS.find(([label]) => label.includes("write-behind lag"))![0];
const FUSED_ROLES: StageRoles = { md: "fused", sb: "fused", risk: "fused", ee: "fused" };
const STAGE_ROLES: StageRoles = {
  md: "market-data",
  sb: "signal-bridge",
  risk: "risk-manager",
  ee: "execution-engine",
};
const allStages =
  args.stages !== "md+sb" &&
  ["risk-manager", "execution-engine", "position-tracker"].every((s) =>
    existsSync(join(ROOT, "services", s, "stage.ts")),
  );

const pipelineDoc = {
  apiVersion: "tradepipe.io/v1alpha1",
  kind: "TradingPipeline",
  metadata: { name: "bench" },
  spec: {
    broker: { kind: "simulator", simulator: { seed: 42, startingCash: "100000000" } },
    symbols: [SYMBOL],
    risk: {
      maxPositionShares: 1_000_000,
      maxNotionalPerSymbol: "1000000000",
      maxDailyLoss: "1000000000",
      maxVar99: "1000000000",
      maxSectorConcentration: 1,
      circuitBreaker: { failureThreshold: 10_000 },
    },
    execution: { maxOrdersPerMinute: 10_000 },
    observability: { logLevel: "warn" },
  },
};
const parsed = parsePipeline(pipelineDoc);
if (!parsed.ok) throw new Error(`bench pipeline invalid: ${JSON.stringify(parsed.errors)}`);
const pipeline = parsed.pipeline;
const work = mkdtempSync(join(tmpdir(), "tp-bench-"));
// The execution engine's journal (journal-ahead order path) lives with the run's other files.
process.env.TRADEPIPE_JOURNAL_DIR = join(work, "journal");
const specFile = join(work, "pipeline.json");
writeFileSync(specFile, JSON.stringify(pipelineDoc));

/** ticks: the seeded price path, each marked when the signal core will consult the model. */
function pricePath(n: number): Tick[] {
  const sig = new SymbolSignal(signalParamsOf(pipeline.spec.strategy));
  return syntheticMarket({ seed: 5, ticks: n, startPrice: 100 }).map((t) => {
    const bid = t.bidPrice.toFixed(2);
    const ask = t.askPrice.toFixed(2);
    const measured = sig.onTopOfBook({
      bidPrice: Number(bid),
      askPrice: Number(ask),
      bidSize: 1,
      askSize: 1,
    });
    return { bid, ask, measured };
  });
}

async function startSim(): Promise<{ sim: Child; url: string; keyId: string; secretKey: string }> {
  const sim = forkChild(
    "pipeline-sim.ts",
    [
      JSON.stringify({
        seed: 42,
        symbols: { [SYMBOL]: 100 },
        rateLimitPerMin: 1_000_000,
        startingCash: "100000000",
      }),
    ],
    process.env,
  );
  const m = await sim.next("simulator start");
  return { sim, url: String(m.url), keyId: String(m.keyId), secretKey: String(m.secretKey) };
}

interface RunResult {
  e2e: Percentiles;
  /** Histogram means over the whole run from the stages' metrics: process → metric → µs. */
  means?: Record<string, Record<string, { meanUs: number; count: number }>>;
  /** Mean time of the execution-engine's write-behind commit (Postgres, behind the sends), µs. */
  auditCommitMeanUs?: number;
  drive: DriveResult;
  book?: Percentiles;
  indicators?: Percentiles;
  inference?: Percentiles;
  /** The same model called again right after each of the stage's calls, in the same process. */
  inferenceWarm?: Percentiles;
  segments?: Record<string, Percentiles>;
  /** The path split by stage, bus hop and order path (support/pipeline-breakdown.ts). */
  parts?: Record<string, Percentiles>;
  risk?: Percentiles;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const trim = (s: number[]) => s.slice(WARMUP);

async function runFloor(
  kind: "fused" | "fused-raw" | "processes",
  ticks: Tick[],
): Promise<RunResult> {
  const { sim, url, keyId, secretKey } = await startSim();
  const dir = mkdtempSync(join(work, `floor-${kind}-`));
  const sock = (i: number) => join(dir, `h${i}.sock`);
  const base = { sim: url, keyId, secretKey, symbol: SYMBOL };
  const env = probeEnv(dir);
  const nodes: Child[] = [];
  try {
    if (kind === "fused" || kind === "fused-raw") {
      const o = { ...base, raw: kind === "fused-raw" };
      nodes.push(forkChild("pipeline-floor-node.ts", ["http-out", JSON.stringify(o)], env));
    } else {
      const start = async (role: string, o: object) => {
        const c = forkChild(
          "pipeline-floor-node.ts",
          [role, JSON.stringify({ ...base, ...o })],
          env,
        );
        nodes.push(c);
        return c;
      };
      await (await start("http-out", { listen: sock(3) })).next("floor listening");
      await (await start("relay", { listen: sock(2), next: sock(3) })).next("floor listening");
      await (await start("relay", { listen: sock(1), next: sock(2) })).next("floor listening");
      await start("ws-in", { next: sock(1) });
    }
    await nodes.at(-1)!.next("floor ready");
    const d = await drive(sim, SYMBOL, ticks, { settleMs: 2, timeoutMs: 2_000 });
    for (const n of nodes) await n.stop();
    const r = readProbes(dir);
    return { e2e: percentiles(trim(pairLatest(r.frames, r.written, d.fromNs, d.toNs))), drive: d };
  } finally {
    for (const n of nodes) await n.stop();
    await sim.stop();
  }
}

/** bookActivity advances the simulated clock so the live market-data stage applies book updates. */
async function bookActivity(sim: Child): Promise<void> {
  for (let i = 0; i < 400; i++) await sim.request({ type: "advance", ms: 100 });
  await sleep(50);
}

async function runFused(
  ticks: Tick[],
  server: BenchPostgres,
  orderPath: OrderPath,
): Promise<RunResult> {
  const { sim, url, keyId, secretKey } = await startSim();
  const db = await server.newDatabase();
  const dir = mkdtempSync(join(work, "fused-"));
  const stages = allStages ? "all" : "md+sb";
  const node = forkChild(
    "pipeline-fused-node.ts",
    [
      JSON.stringify({
        specFile,
        databaseUrl: db.url,
        simUrl: url,
        keyId,
        secretKey,
        stages,
        orderPath,
      }),
    ],
    probeEnv(dir),
  );
  try {
    const ready = await node.next("fused pipeline ready");
    if (ready.type !== "ready") throw new Error(`fused pipeline: ${String(ready.reason)}`);
    const d = await drive(sim, SYMBOL, ticks, {
      settleMs: 3,
      timeoutMs: allStages ? 50 : 3,
    });
    await bookActivity(sim);
    const stamps = await node.request({ type: "stop" }, "fused stamps");
    const audit = meanOf(String(stamps.metrics), AUDIT_METRIC);
    await node.stop();
    const r = readProbes(dir);
    const signals = [...(r.marks["pub:signal"] ?? [])];
    const parts = breakdown(r, FUSED_ROLES, d.fromNs, d.toNs, WARMUP);
    return {
      e2e: allStages
        ? parts[WHOLE_PATH]!
        : percentiles(trim(pairLatest(r.frames, signals, d.fromNs, d.toNs))),
      drive: d,
      ...(audit.count > 0 ? { auditCommitMeanUs: audit.mean * 1e6 } : {}),
      means: { "fused process": meansOf(String(stamps.metrics)) },
      inferenceWarm: percentiles(trim(stamps.warmCalls as number[])),
      book: percentiles(r.book),
      indicators: percentiles(trim(r.indicators)),
      inference: percentiles(trim(r.inference)),
      risk: percentiles(trim(r.risk)),
      parts,
      segments: {
        "frame → quote record (the Alpaca client's decode)": percentiles(
          trim(pairLatest(r.frames, r.records, d.fromNs, d.toNs)),
        ),
        ...(allStages
          ? {}
          : {
              "frame → signal on the bus": percentiles(
                trim(pairLatest(r.frames, signals, d.fromNs, d.toNs)),
              ),
            }),
      },
    };
  } finally {
    await node.stop();
    await sim.stop();
    await db.drop();
  }
}

async function runProcesses(
  ticks: Tick[],
  transport: Transport,
  server: BenchPostgres,
): Promise<RunResult> {
  const { sim, url, keyId, secretKey } = await startSim();
  const db = await server.newDatabase();
  const dir = mkdtempSync(join(work, "proc-"));
  const runDir = mkdtempSync(join("/tmp", "tpb-"));
  const supervisor = new Supervisor();
  const ready = new Set<string>();
  const healthUrls = new Map<string, string>();
  supervisor.on("status", (name, status) => {
    if (status.ready) ready.add(name);
    else ready.delete(name);
    if (typeof status.healthUrl === "string") healthUrls.set(name, status.healthUrl);
  });
  supervisor.on("exited", (name, why) => process.stderr.write(`stage ${name} exited: ${why}\n`));
  try {
    const env = probeEnv(dir, {
      DATABASE_URL: db.url,
      TRADEPIPE_SIM_URL: url,
      APCA_API_KEY_ID: keyId,
      APCA_API_SECRET_KEY: secretKey,
      TRADEPIPE_RUN_DIR: runDir,
      TRADEPIPE_BUS_TRANSPORT: transport,
      TRADEPIPE_HEALTH_PORT: "0",
    });
    for (const stage of STAGE_PROCESSES) {
      supervisor.start({ name: stage, module: CLI, args: ["stage", stage, "-f", specFile], env });
    }
    const deadline = Date.now() + 90_000;
    while (ready.size < STAGE_PROCESSES.length) {
      if (Date.now() > deadline) throw new Error(`stages not ready: only ${[...ready]}`);
      await sleep(50);
    }
    await sleep(500); // subscriptions reach their publishers
    const d = await drive(sim, SYMBOL, ticks, { settleMs: 3, timeoutMs: 50 });
    const texts: Record<string, string> = {};
    for (const [stage, url] of healthUrls)
      texts[stage] = await (await fetch(`${url}/metrics`)).text();
    const audit = meanOf(texts["execution-engine"] ?? "", AUDIT_METRIC);
    const means = Object.fromEntries(Object.entries(texts).map(([k, t]) => [k, meansOf(t)]));
    await bookActivity(sim);
    await supervisor.stop();
    const r = readProbes(dir);
    const parts = breakdown(r, STAGE_ROLES, d.fromNs, d.toNs, WARMUP);
    return {
      e2e: parts[WHOLE_PATH]!,
      drive: d,
      ...(audit.count > 0 ? { auditCommitMeanUs: audit.mean * 1e6 } : {}),
      means,
      book: percentiles(r.book),
      indicators: percentiles(trim(r.indicators)),
      inference: percentiles(trim(r.inference)),
      risk: percentiles(trim(r.risk)),
      parts,
    };
  } finally {
    await supervisor.stop();
    await sim.stop();
    await db.drop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * bareInference times onnxruntime-node's public run() and the native call on the same model,
 * back to back (hot) and paced like the pipeline's scored ticks (a pause before each call, so
 * caches and branch predictors are as cold as they are for the stage).
 */
async function bareInference(
  n: number,
  pauseMs: number,
): Promise<{ run: Percentiles; native: Percentiles }> {
  const path = resolveModelPath(pipeline.spec.strategy.modelRef);
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: 1,
    executionMode: "sequential",
  });
  const feeds = { features: new ort.Tensor("float32", new Float32Array(8).fill(0.1), [1, 8]) };
  const scorer = await loadModelScorer(path);
  scorer.input.fill(0.1);
  const run: number[] = [];
  const native: number[] = [];
  for (let i = 0; i < n + 200; i++) {
    if (pauseMs > 0 && i >= 200) await sleep(pauseMs);
    let t0 = process.hrtime.bigint();
    await session.run(feeds);
    if (i >= 200) run.push(Number(process.hrtime.bigint() - t0));
    t0 = process.hrtime.bigint();
    scorer.scoreSync!();
    if (i >= 200) native.push(Number(process.hrtime.bigint() - t0));
  }
  await session.release();
  return { run: percentiles(run), native: percentiles(native) };
}

const row = (name: string, p: Percentiles, floor?: Percentiles) => [
  name,
  String(p.n),
  us(p.p50),
  us(p.p99),
  us(p.p999),
  floor ? ratio(p.p50, floor.p50) : "",
];

/** RUN_NAMES: the result key and printed name of each pipeline run. */
const COMMIT_LABEL: Record<Commit, string> = {
  durable: "",
  nofsync: ", commit without fsync (not a production setting)",
};
const runKey = (mode: "fused" | Transport, c: Commit) =>
  `${mode === "fused" ? "fused" : `processes${mode === "zmq" ? "Zmq" : "Uds"}`}${c === "nofsync" ? "Nofsync" : ""}`;
const runName = (mode: "fused" | Transport, c: Commit) =>
  `${mode === "fused" ? "fused" : mode === "zmq" ? "multi-process, ZeroMQ ipc://" : "multi-process, Unix-socket bus"}${COMMIT_LABEL[c]}`;
const shortName = (mode: "fused" | Transport, c: Commit) =>
  `${mode === "fused" ? "fused" : mode}${c === "nofsync" ? " no-fsync" : ""}`;

async function main(): Promise<void> {
  const ticks = pricePath(Number(args.ticks));
  const floorTicks = pricePath(Number(args["floor-ticks"])).map((t) => ({ ...t, measured: true }));
  const print = (s: string) => process.stdout.write(`${s}\n`);
  print(
    `pipeline benchmark: ${ticks.length} ticks (${ticks.filter((t) => t.measured).length} consult the model), ` +
      `floors ${floorTicks.length} ticks; stages: ${allStages ? "all five" : "market-data + signal-bridge only (path ends at the signal)"}`,
  );
  const servers = new Map<Commit, BenchPostgres>();
  for (const c of commits) servers.set(c, await startBenchPostgres(c === "durable"));
  const results: Record<string, RunResult | unknown> = {};
  const e2eRows: string[][] = [];
  const beforeCommitRows: string[][] = [];
  /** The write-behind's lag: order written → its audit rows committed in Postgres. */
  const lagRows: string[][] = [];
  const stageRows: string[][] = [];
  const pgRows: string[][] = [];
  /** partsOf: printed name → the run's path split, for the breakdown table. */
  const partsOf: [string, Record<string, Percentiles>][] = [];
  const before = SEGMENTS[0]![0];
  try {
    if (modes.has("fused")) {
      const undiciFloor = await runFloor("fused", floorTicks);
      results.floorFused = undiciFloor;
      e2eRows.push(row("floor: WebSocket in → undici POST out, one process", undiciFloor.e2e));
      // The floor the journal-ahead path is held to: the same ends, the POST pre-built and
      // written straight to a kept-alive socket (what undici's idle-socket check defers a turn).
      const floor = await runFloor("fused-raw", floorTicks);
      results.floorFusedRaw = floor;
      e2eRows.push(
        row("floor: WebSocket in → pre-built POST on a kept-alive socket, one process", floor.e2e),
      );
      for (const [c, o] of commits.flatMap((c) => orderPaths.map((o) => [c, o] as const))) {
        const fused = await runFused(ticks, servers.get(c)!, o);
        const via = o === "undici" ? " (orders through undici)" : "";
        results[`${runKey("fused", c)}${o === "undici" ? "Undici" : ""}`] = fused;
        e2eRows.push(
          row(
            allStages
              ? `${runName("fused", c)}${via}: tick → order written`
              : "fused md + signal-bridge: tick → signal",
            fused.e2e,
            floor.e2e,
          ),
        );
        if (fused.parts?.[before] && c === "durable")
          beforeCommitRows.push(row(`fused${via}: ${before}`, fused.parts[before], floor.e2e));
        if (fused.parts?.[AUDIT_LAG])
          lagRows.push(row(`${runName("fused", c)}${via}: ${AUDIT_LAG}`, fused.parts[AUDIT_LAG]));
        if (allStages) partsOf.push([`${shortName("fused", c)}${via}`, fused.parts ?? {}]);
        if (c !== commits[0] || o !== orderPaths[0]) continue;
        for (const [name, p] of Object.entries(fused.segments ?? {}))
          stageRows.push(row(`fused ${name}`, p));
        stageRows.push(row("book update (market-data core, live stage)", fused.book!));
        stageRows.push(
          row("indicators + rules (signal-bridge core, live stage)", fused.indicators!),
        );
        stageRows.push(row("inference in the stage (native session call)", fused.inference!));
        stageRows.push(
          row("the same call again just after the tick (same process)", fused.inferenceWarm!),
        );
        if (fused.risk?.n)
          stageRows.push(row("risk decision (risk-manager core, live)", fused.risk));
      }
    }
    if (modes.has("processes")) {
      const floor = await runFloor("processes", floorTicks);
      results.floorProcesses = floor;
      e2eRows.push(
        row("floor: WS in → 3 raw Unix-socket hops → undici POST, 4 processes", floor.e2e),
      );
      if (allStages) {
        for (const t of transports) {
          for (const c of commits) {
            const proc = await runProcesses(ticks, t, servers.get(c)!);
            results[runKey(t, c)] = proc;
            e2eRows.push(row(`${runName(t, c)}: tick → order written`, proc.e2e, floor.e2e));
            if (proc.parts?.[before] && c === "durable")
              beforeCommitRows.push(
                row(`${runName(t, c)}: ${before}`, proc.parts[before], floor.e2e),
              );
            if (proc.parts?.[AUDIT_LAG])
              lagRows.push(row(`${runName(t, c)}: ${AUDIT_LAG}`, proc.parts[AUDIT_LAG]));
            partsOf.push([shortName(t, c), proc.parts ?? {}]);
            if (t === transports[0] && c === commits[0]) {
              stageRows.push(row("book update, multi-process run", proc.book!));
              stageRows.push(row("inference, multi-process run", proc.inference!));
            }
          }
        }
      }
    }
    if (allStages) {
      for (const c of commits) {
        const f = await servers.get(c)!.commitFloor(300, 3);
        const roundTrip = percentiles(f.roundTrip);
        const commit = percentiles(f.commit);
        results[`postgres${c === "durable" ? "Durable" : "Nofsync"}`] = { roundTrip, commit };
        const label = c === "durable" ? "durable" : "without fsync (not a production setting)";
        pgRows.push(row(`Postgres ${label}: SELECT 1 round trip, paced`, roundTrip));
        pgRows.push(row(`Postgres ${label}: one-row INSERT committed, paced`, commit));
      }
    }
  } finally {
    for (const s of servers.values()) await s.stop().catch(() => {});
  }
  const hotBook = hotBookUpdate();
  const hotInd = hotIndicators(signalParamsOf(pipeline.spec.strategy));
  results.hotCores = { book: hotBook, indicators: hotInd };
  stageRows.push(row("book update, same core back to back (batches of 64)", hotBook));
  stageRows.push(row("indicators + rules, same core back to back (batches of 64)", hotInd));
  const hot = await bareInference(2000, 0);
  const bare = await bareInference(300, 3);
  results.bareInference = { hot, paced: bare };
  const inStage = (results.fused as RunResult | undefined)?.inference;
  stageRows.push(row("bare session.run() (public API), paced like the ticks", bare.run));
  stageRows.push(row("bare native session call, paced like the ticks", bare.native));
  stageRows.push(row("bare session.run() (public API), back to back", hot.run));
  stageRows.push(row("bare native session call, back to back", hot.native));
  const header = ["path", "n", "p50 µs", "p99 µs", "p99.9 µs", "× floor p50"];
  print("\nTick → order on the wire (p50/p99/p99.9 from an HDR histogram)\n");
  print(table(header, e2eRows));
  if (beforeCommitRows.length > 0) {
    print("\nTick → intent at the execution-engine: everything before the order path\n");
    print(table(header, beforeCommitRows));
  }
  if (lagRows.length > 0) {
    print("\nThe audit backlog's lag, off the order path: order written → its rows committed\n");
    print(
      table(
        header.slice(0, 5),
        lagRows.map((r) => r.slice(0, 5)),
      ),
    );
  }
  if (partsOf.length > 0) {
    print(
      "\nWhere the time goes, per measured tick: p50 / p99 µs (support/pipeline-breakdown.ts)\n",
    );
    const cols = partsOf.map(([name]) => name);
    const rows = SEGMENTS.map(([label]) => [
      label,
      ...partsOf.map(([, parts]) => {
        const p = parts[label];
        return p ? `${us(p.p50)} / ${us(p.p99)}` : "—";
      }),
    ]);
    print(table(["segment", ...cols], rows));
  }
  if (pgRows.length > 0) {
    print("\nThe commit's own floor: the same Postgres servers, no pipeline (paced 3 ms)\n");
    print(
      table(
        header.slice(0, 5),
        pgRows.map((r) => r.slice(0, 5)),
      ),
    );
  }
  print("\nPer stage\n");
  print(
    table(
      header.slice(0, 5),
      stageRows.map((r) => r.slice(0, 5)),
    ),
  );
  if (inStage) {
    print(
      `\ninference in the stage vs bare run() paced alike: p50 ${ratio(inStage.p50, bare.run.p50)}, ` +
        `p99 ${ratio(inStage.p99, bare.run.p99)}`,
    );
  }
  for (const [name, r] of Object.entries(results)) {
    const { drive: d, auditCommitMeanUs } = r as RunResult;
    if (!d) continue;
    const audit =
      auditCommitMeanUs === undefined
        ? ""
        : `; the execution-engine's write-behind commits (behind the sends) averaged ${auditCommitMeanUs.toFixed(0)} µs`;
    print(
      `${name}: ${d.measured} measured ticks, ${d.orders} orders reached the simulator${audit}`,
    );
  }
  const meanRows: string[][] = [];
  for (const [run, r] of Object.entries(results)) {
    for (const [proc, ms] of Object.entries((r as RunResult).means ?? {})) {
      for (const [name, m] of Object.entries(ms)) {
        meanRows.push([`${run} / ${proc}`, name, String(m.count), m.meanUs.toFixed(1)]);
      }
    }
  }
  if (meanRows.length > 0) {
    print("\nThe stages' own latency histograms (/metrics), means over the whole run\n");
    print(table(["run / process", "histogram", "count", "mean µs"], meanRows));
  }
  writeLatencyPictures(pipelinePictures(results), args.pictures, print);
  if (args.json) {
    const text = JSON.stringify(results, (_k, v) => (typeof v === "bigint" ? String(v) : v), 2);
    writeFileSync(args.json, text);
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
