/**
 * Backtest throughput and memory, each beside a bare loop over the same decoded events in the
 * same run:
 *   - loading: Parquet catalog → decoded, merged market records (reported apart);
 *   - bare loop: one pass over the decoded records touching each one (the floor);
 *   - replay floor: records → event queue → market-data core, execution and tracker cores,
 *     the venue's matching (no strategy: quotes do not reach the signal-bridge);
 *   - full, single: all five cores, indicators, risk checks and the ONNX model, against the
 *     venue, with one native model call per tick that can change a decision (as live);
 *   - full, batched: the same, the model's rows scored ahead in batches (score-prefetch.ts;
 *     the same scores bit for bit, so the same orders and fills);
 *   - peak RSS of a full run over 1 day vs 20 days of the same quotes (separate processes).
 *
 * Each path runs --runs times after a warm-up on the first 20,000 events; the fastest wall time
 * and the least CPU time are printed (on a shared machine, CPU time is the steadier figure:
 * it leaves out the time spent waiting for a core).
 *
 *   npm run bench -- backtest            # 3 symbols, 30 minutes a day, 20 days for memory
 *   npx node test/bench/backtest.bench.ts [--symbols 3] [--minutes 30] [--memory-days 20]
 *     [--only floor|single|batched|full]   # some paths, no memory runs (full: single + batched)
 *     [--runs N]                 # each path N times (default 5), the fastest reported
 *     [--previous DIR]           # also another checkout's engine (e.g. a `git worktree` of
 *                                # main), run alternately with this one in the same process
 *                                # on the same records: old vs new under the same machine load
 *
 * Data: the simulator's seeded market model (seed 1), written to a temporary catalog.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { catalogSource, newCatalogStats } from "../../services/backtest/catalog/catalog.ts";
import { BacktestEngine } from "../../services/backtest/engine.ts";
import type { MarketRecord } from "../../services/backtest/records.ts";
import type { PrefetchStats } from "../../services/backtest/score-prefetch.ts";
import { writeSyntheticCatalog } from "../../services/backtest/synthetic.ts";
import { T0, testConfig } from "../../services/backtest/test-support.ts";
import { etDate } from "../../services/broker-sim/core/time.ts";

const { values: args } = parseArgs({
  options: {
    symbols: { type: "string", default: "3" },
    minutes: { type: "string", default: "30" },
    "memory-days": { type: "string", default: "20" },
    only: { type: "string", default: "all" },
    runs: { type: "string", default: "5" },
    previous: { type: "string" },
    child: { type: "string" },
  },
});
const ALL = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "SPY", "QQQ", "FAKEPACA"];
const symbols = ALL.slice(0, Number(args.symbols));
const minutes = BigInt(args.minutes);
const DAY = 86_400_000_000_000n;
const FROM = etDate(T0);

async function load(dir: string, to: string): Promise<{ records: MarketRecord[]; ms: number }> {
  const stats = newCatalogStats();
  const t = performance.now();
  const records: MarketRecord[] = [];
  for await (const b of catalogSource({ dir, symbols, from: FROM, to, stats })) {
    for (const r of b) records.push(r);
  }
  return { records, ms: performance.now() - t };
}

const RUNS = Number(args.runs);
if (!(Number.isInteger(RUNS) && RUNS >= 1))
  throw new Error(`--runs must be a whole number ≥ 1, not ${args.runs}`);

interface EngineRun {
  /** ms: wall time; cpuMs: this process's CPU time (user + system, every thread, GC's too). */
  ms: number;
  cpuMs: number;
  scores: number;
  /** scoreMs: wall time inside the single-row model calls. */
  scoreMs: number;
  /** batched: the prefetched (batched) scoring, when the engine used it. */
  batched: PrefetchStats | undefined;
  orders: number;
  fills: number;
}

/** Path: the floor (no strategy), or all five cores with the model called per row or batched. */
type Path = "floor" | "single" | "batched";

/** Impl: an engine and its test configuration, from this checkout or another (--previous). */
interface Impl {
  Engine: typeof BacktestEngine;
  testConfig: typeof testConfig;
}
const current: Impl = { Engine: BacktestEngine, testConfig };

async function previousImpl(dir: string): Promise<Impl> {
  const at = (file: string) => pathToFileURL(resolve(dir, file)).href;
  const engine = await import(at("services/backtest/engine.ts"));
  const support = await import(at("services/backtest/test-support.ts"));
  return { Engine: engine.BacktestEngine, testConfig: support.testConfig };
}

/**
 * alternately runs the path with the previous checkout's engine and this one's, RUNS times each
 * in turns (the order swapped every round), and prints each one's least and median CPU time.
 */
async function alternately(records: readonly MarketRecord[], path: Path, previous: Impl) {
  const impls = [
    { name: "previous checkout", impl: previous, cpu: [] as number[] },
    { name: "this checkout", impl: current, cpu: [] as number[] },
  ];
  for (const x of impls) await runEngine(records.slice(0, 20_000), path, x.impl);
  for (let i = 0; i < RUNS; i++) {
    for (const x of i % 2 === 0 ? impls : [...impls].reverse()) {
      x.cpu.push((await runEngine(records, path, x.impl)).cpuMs);
    }
  }
  for (const x of impls) {
    const sorted = [...x.cpu].sort((a, b) => a - b);
    const least = sorted[0]!;
    const median = sorted[sorted.length >> 1]!;
    console.log(
      `${"".padEnd(40)} ${x.name.padEnd(17)} CPU least ${least.toFixed(0).padStart(4)} ms (${rate(records.length, least)} of CPU time), median ${median.toFixed(0)} ms`,
    );
  }
}

/**
 * fastest runs the path RUNS times and keeps the fastest wall time and the least CPU time (on a
 * shared machine the fastest run is the one least disturbed by other processes; CPU time does not
 * count the time spent waiting for a core).
 */
async function fastest(records: readonly MarketRecord[], path: Path): Promise<EngineRun> {
  const best = await runEngine(records, path);
  for (let i = 1; i < RUNS; i++) {
    const r = await runEngine(records, path);
    if (process.env.BENCH_VERBOSE)
      console.log(`    run ${i}: ${r.ms.toFixed(0)} ms, CPU ${r.cpuMs.toFixed(0)} ms`);
    best.ms = Math.min(best.ms, r.ms);
    best.cpuMs = Math.min(best.cpuMs, r.cpuMs);
    best.scoreMs = Math.min(best.scoreMs, r.scoreMs);
  }
  return best;
}

async function runEngine(
  records: readonly MarketRecord[],
  path: Path,
  impl: Impl = current,
): Promise<EngineRun> {
  const cfg = await impl.testConfig(symbols, 1);
  cfg.kernel = { ...cfg.kernel, noStrategy: path === "floor" };
  let scores = 0;
  let scoreMs = 0;
  if (path === "single") {
    // Counted and timed per call; a wrapped score function is never batched.
    const score = cfg.score;
    cfg.score = (model, input) => {
      scores++;
      const t = performance.now();
      const v = score(model, input);
      scoreMs += performance.now() - t;
      return v;
    };
    cfg.batchModels = false;
  }
  const engine = new impl.Engine(cfg);
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < records.length; i += 65_536) engine.push(records.slice(i, i + 65_536));
  const result = engine.finish();
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const batched = engine.modelScoring;
  if (path === "batched" && batched === undefined) throw new Error("the model was not batched");
  return {
    ms,
    cpuMs,
    scores,
    scoreMs,
    batched: batched === undefined ? undefined : { ...batched },
    orders: result.orders.length,
    fills: result.fills.length,
  };
}

function bareLoop(records: readonly MarketRecord[]): { ms: number; sink: bigint } {
  const t = performance.now();
  let sink = 0n;
  let last = 0n;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.exchangeNs >= last) last = r.exchangeNs;
    sink += r.kind === "quote" ? r.bidPrice : r.price;
  }
  return { ms: performance.now() - t, sink: sink + last };
}

function writeCatalog(dir: string, days: number): void {
  const prices = Object.fromEntries(symbols.map((s) => [s, 100]));
  writeSyntheticCatalog(dir, { symbols: prices, seed: 1, startNs: T0, minutes, days });
}

const rate = (n: number, ms: number) =>
  `${Math.round((n / ms) * 1000).toLocaleString("en-US")} events/s`;

if (args.child !== undefined) {
  // Memory child: a full run over the catalog's first N days, streaming; prints peak RSS.
  const [dir, days] = args.child.split(",") as [string, string];
  const cfg = await testConfig(symbols, 1);
  const engine = new BacktestEngine(cfg);
  let peak = process.memoryUsage().rss;
  let events = 0;
  for await (const b of catalogSource({
    dir,
    symbols,
    from: FROM,
    to: etDate(T0 + BigInt(Number(days) - 1) * DAY),
  })) {
    engine.push(b);
    events += b.length;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  engine.finish();
  process.stdout.write(`${peak} ${events}\n`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), "tp-bench-backtest-"));
try {
  const memDays = Number(args["memory-days"]);
  console.log(`${cpus()[0]?.model ?? "cpu"}, ${cpus().length} cores; Node ${process.version}`);
  console.log(
    `data: ${symbols.length} symbols × ${minutes} min a day of the simulator's market (seed 1), ${memDays} days written`,
  );
  writeCatalog(dir, memDays);
  const day = await load(dir, FROM);
  const n = day.records.length;
  console.log(`\none day: ${n.toLocaleString("en-US")} events (quotes + trades)`);
  console.log(
    `  loading (Parquet → decoded records)     ${day.ms.toFixed(0).padStart(7)} ms   ${rate(n, day.ms)}`,
  );
  bareLoop(day.records); // warm
  const bare = bareLoop(day.records);
  console.log(
    `  bare loop over the decoded records      ${bare.ms.toFixed(1).padStart(7)} ms   ${rate(n, bare.ms)}`,
  );
  const only = args.only;
  const previous = args.previous === undefined ? undefined : await previousImpl(args.previous);
  if (!["all", "floor", "full", "single", "batched"].includes(only)) {
    throw new Error(`--only must be floor, full, single or batched, not ${only}`);
  }
  const runs = (path: Path) =>
    only === "all" || only === path || (only === "full" && path !== "floor");
  const cpuLine = (r: EngineRun) =>
    console.log(
      `${"".padEnd(40)} CPU ${r.cpuMs.toFixed(0).padStart(5)} ms   ${rate(n, r.cpuMs)} of CPU time`,
    );
  if (runs("floor")) {
    await runEngine(day.records.slice(0, 20_000), "floor"); // warm the code paths
    const floor = await fastest(day.records, "floor");
    console.log(
      `  replay + md/exec/tracker + matching     ${floor.ms.toFixed(0).padStart(7)} ms   ${rate(n, floor.ms)}  (no strategy)`,
    );
    cpuLine(floor);
    if (previous !== undefined) await alternately(day.records, "floor", previous);
  }
  if (runs("single")) {
    await runEngine(day.records.slice(0, 20_000), "single");
    const single = await fastest(day.records, "single");
    console.log(
      `  five cores, model called per row (live) ${single.ms.toFixed(0).padStart(5)} ms   ${rate(n, single.ms)}  (${single.orders} orders, ${single.fills} fills)`,
    );
    console.log(
      `${"".padEnd(40)} model: ${single.scores} single-row native calls, ${single.scoreMs.toFixed(0)} ms`,
    );
    cpuLine(single);
    if (previous !== undefined) await alternately(day.records, "single", previous);
  }
  if (runs("batched")) {
    await runEngine(day.records.slice(0, 20_000), "batched");
    const full = await fastest(day.records, "batched");
    const b = full.batched!;
    console.log(
      `  five cores, model rows batched ahead    ${full.ms.toFixed(0).padStart(7)} ms   ${rate(n, full.ms)}  (${full.orders} orders, ${full.fills} fills)`,
    );
    console.log(
      `${"".padEnd(40)} model: ${b.hits} requests answered from ${b.rows} rows scored ahead in ${b.batchCalls} batched native calls; ${b.misses} single-row calls`,
    );
    cpuLine(full);
    if (previous !== undefined) await alternately(day.records, "batched", previous);
  }
  const self = fileURLToPath(import.meta.url);
  const peakOf = (days: number) => {
    const out = execFileSync(
      process.execPath,
      [
        self,
        "--symbols",
        String(symbols.length),
        "--minutes",
        String(minutes),
        "--child",
        `${dir},${days}`,
      ],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    const [rss, events] = out.trim().split(" ").map(Number) as [number, number];
    return { rss, events };
  };
  if (only === "all") {
    const one = peakOf(1);
    const many = peakOf(memDays);
    console.log(`\npeak RSS, full run streaming from the catalog:`);
    console.log(
      `  1 day   ${(one.rss / 1e6).toFixed(0).padStart(5)} MB  (${one.events.toLocaleString("en-US")} events)`,
    );
    console.log(
      `  ${memDays} days ${(many.rss / 1e6).toFixed(0).padStart(5)} MB  (${many.events.toLocaleString("en-US")} events)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
