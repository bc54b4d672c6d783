/**
 * `tradepipe backtest -f SPEC --data DIR --from DATE --to DATE --out DIR`: the spec's five stage
 * cores on history from the Parquet catalog, against the simulated venue (services/backtest).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDate } from "../../services/backtest/catalog/layout.ts";
import { parseCommission } from "../../services/backtest/fees.ts";
import { parseLatencyMs } from "../../services/backtest/latency.ts";
import {
  lookaheadJob,
  replayJob,
  runBacktestJob,
  simulateRecordingJob,
  warmupJob,
} from "../../services/backtest/run.ts";
import {
  parseParam,
  runSweep,
  type SweepOptions,
  type SweepReport,
} from "../../services/backtest/sweep.ts";
import {
  mergeShards,
  renderSweepJob,
  runSweepShard,
  shardIndexOf,
} from "../../services/backtest/sweep-shards.ts";
import { loadPipelineFile } from "../../services/core/spec/index.ts";
import { parseCommand, SPEC_CATALOG_RANGE } from "./args.ts";

const USAGE = `usage: tradepipe backtest -f SPEC --data DIR --from DATE --to DATE --out DIR [options]
       tradepipe backtest -f SPEC --replay RECORDING [--venue simulated]
       tradepipe backtest sweep -f SPEC --data DIR --from DATE --to DATE --param PATH=V,V …

Runs the spec's strategy, risk, execution and position cores on the catalog's quotes and trades
(tradepipe data fetch) against a simulated venue, and writes into --out: tearsheet.html,
summary.json, charts/, orders.parquet, fills.parquet, trades.parquet, equity.parquet.

  -f, --file SPEC       the TradingPipeline spec (the same file tradepipe run takes)
  --data DIR            the catalog directory
  --from DATE --to DATE the New York dates to replay (YYYY-MM-DD, both included)
  --out DIR             where the results go (created; files in it are replaced)
  --symbols A,B         symbols instead of the spec's
  --seed N              the venue's seed (ids, latency jitter; default the spec's simulator seed)
  --latency SPEC        milliseconds, e.g. feed=5,submit=20/20,cancel=20/20,jitter=2
                        (submit and cancel: entry/response; default feed=5,submit=20/20,cancel=20/20)
  --limits MODEL        resting limit orders: conservative (default: fill only when the market
                        goes through the limit) or queue (L2 queue position)
  --quote-lot N         shares per unit of quote size (default 100: Alpaca's round lots)
  --commission X[/Y]    commission per share [and per order] (default 0, as Alpaca); the
                        regulatory fees are the spec's positions.fees, as live
  --risk-free RATE      annual risk-free rate for Sharpe and Sortino (default 0)
  --no-png              do not render chart PNGs
  --record DIR          also write the run's kernel input log (market data with both
                        timestamps, broker answers, timers) as a recording
  --replay DIR          replay a recording through the spec's cores against its recorded broker
                        answers and compare the order intents with the recorded ones by SHA-256
                        (exit 1 when they differ)
  --venue simulated     with --replay: run the recording's market data against the simulated
                        venue instead and print, per symbol, the fill rate, average fill price
                        (bps, adverse positive) and P&L difference from the recorded session
  --check lookahead     instead of a backtest: re-run on the data cut right after up to
                        --samples (default 20) signals; exit 1 when a signal or its features
                        change without the later data
  --check warmup        instead of a backtest: the indicators' values from all history vs from
                        only the last N ticks (N = 50, 100, 200, 500, 1000); exit 1 when any
                        differs by more than --tolerance (default 0.01) at --warmup-ticks
                        (default 500)
`;

const SWEEP_USAGE = `usage: tradepipe backtest sweep -f SPEC --data DIR --from DATE --to DATE --param PATH=V,V [...]

Runs the backtest for every combination of the --param values (or --random N seeded draws),
walk-forward: the dates with data are cut into --folds + 1 windows; each fold is in-sample on a
window and out-of-sample on the next. Prints mean Sharpe and return in and out of sample per
parameter set, and the set with the best in-sample Sharpe.

  --param PATH=V,V    a spec field under spec and its values, e.g. strategy.rsiPeriod=10,14,20
                      (repeat for more fields)
  --random N          N seeded random draws from the grid instead of all of it
  --seed S            the draws' seed (default 1)
  --folds K           walk-forward folds (default 2)
  --workers N         worker threads (default 2)
  --symbols A,B       symbols instead of the spec's
  --out DIR           also write sweep.json there

Across machines (a Kubernetes Indexed Job, one shard per index):
  --render kubernetes print a ConfigMap (the spec) and an Indexed Job running --shards N pods,
                      at most --parallelism P at once (default N); each reads the catalog from
                      the claim --data-claim (default tradepipe-catalog, read-only) and writes
                      its shard to --results-claim (default tradepipe-sweep-results), under
                      --name (default tradepipe-sweep; also the Job's name); --namespace NS
  --shards N          run one shard of N (index: --shard-index I, else JOB_COMPLETION_INDEX) and
                      write shard-I-of-N.json into --out DIR
  tradepipe backtest sweep merge --out DIR
                      combine DIR's shard files into the report (and DIR/sweep.json): the same
                      table as one process running the whole sweep
`;

async function sweepMain(argv: string[]): Promise<number> {
  const args = parseCommand(
    "backtest sweep",
    SWEEP_USAGE,
    argv,
    {
      ...SPEC_CATALOG_RANGE,
      param: { type: "string", multiple: true },
      random: { type: "string" },
      seed: { type: "string" },
      folds: { type: "string" },
      workers: { type: "string" },
      symbols: { type: "string" },
      out: { type: "string" },
      render: { type: "string" },
      shards: { type: "string" },
      "shard-index": { type: "string" },
      parallelism: { type: "string" },
      "data-claim": { type: "string" },
      "results-claim": { type: "string" },
      name: { type: "string" },
      namespace: { type: "string" },
    },
    (v) =>
      v.render !== undefined
        ? ["file", "from", "to", "param", "shards"]
        : v.shards !== undefined
          ? ["file", "data", "from", "to", "param", "out"]
          : ["file", "data", "from", "to", "param"],
  );
  if (typeof args === "number") return args;
  const { str } = args;
  const int = (k: string, fallback: number) => {
    const v = str(k);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k}: "${v}" is not a positive integer`);
    return n;
  };
  const pipeline = await loadPipelineFile(str("file")!);
  if (str("render") !== undefined) {
    if (str("render") !== "kubernetes")
      throw new Error(`--render: "${str("render")}" is not kubernetes`);
    const shards = int("shards", 1);
    // The pods run the same sweep: everything that defines it goes along.
    const sweepArgs = ["--from", str("from")!, "--to", str("to")!];
    for (const p of args.list("param")) sweepArgs.push("--param", p);
    for (const k of ["random", "seed", "folds", "workers", "symbols"])
      if (str(k) !== undefined) sweepArgs.push(`--${k}`, str(k)!);
    process.stdout.write(
      renderSweepJob({
        pipeline,
        name: str("name") ?? "tradepipe-sweep",
        ...(str("namespace") ? { namespace: str("namespace")! } : {}),
        shards,
        parallelism: int("parallelism", shards),
        sweepArgs,
        dataClaim: str("data-claim") ?? "tradepipe-catalog",
        resultsClaim: str("results-claim") ?? "tradepipe-sweep-results",
      }),
    );
    return 0;
  }
  const options: SweepOptions = {
    pipeline,
    dataDir: str("data")!,
    from: parseDate(str("from")!, "--from"),
    to: parseDate(str("to")!, "--to"),
    params: args.list("param").map(parseParam),
    ...(str("random") ? { random: int("random", 1) } : {}),
    seed: int("seed", 1),
    folds: int("folds", 2),
    workers: int("workers", 2),
    ...(str("symbols")
      ? {
          symbols: str("symbols")!
            .split(",")
            .map((x) => x.trim().toUpperCase()),
        }
      : {}),
    onRun: (done, total) => process.stderr.write(`  ${done}/${total} backtests\r`),
  };
  if (str("shards") !== undefined) {
    const count = int("shards", 1);
    const index = shardIndexOf(str("shard-index"), count);
    const { path, tasks } = await runSweepShard(options, index, count, str("out")!);
    process.stdout.write(`shard ${index} of ${count}: ${tasks} backtests → ${path}\n`);
    return 0;
  }
  printSweep(await runSweep(options), str("out"));
  return 0;
}

async function mergeMain(argv: string[]): Promise<number> {
  const args = parseCommand(
    "backtest sweep merge",
    SWEEP_USAGE,
    argv,
    { out: { type: "string" } },
    ["out"],
  );
  if (typeof args === "number") return args;
  printSweep(mergeShards(args.need("out")), args.need("out"));
  return 0;
}

/** printSweep prints the sweep's table and writes sweep.json into `out` when given. */
function printSweep(report: SweepReport, out: string | undefined): void {
  const f = (x: number | null) => (x === null ? "–" : x.toFixed(2));
  const p = (x: number) => `${(x * 100).toFixed(2)}%`;
  process.stdout.write(
    `\nwindows: ${report.windows.map((w) => `${w.from}..${w.to}`).join(", ")}\n`,
  );
  process.stdout.write(
    "parameters                                 Sharpe in / out     return in / out\n",
  );
  for (const r of report.rows) {
    process.stdout.write(
      `${JSON.stringify(r.params).padEnd(42)} ${f(r.meanSharpeIn).padStart(8)} / ${f(r.meanSharpeOut).padEnd(8)} ${p(r.meanReturnIn).padStart(8)} / ${p(r.meanReturnOut)}\n`,
    );
  }
  if (report.best) {
    process.stdout.write(
      `best in sample: ${JSON.stringify(report.best.params)}: Sharpe ${f(report.best.meanSharpeIn)} in, ${f(report.best.meanSharpeOut)} out of sample\n`,
    );
  }
  if (out !== undefined) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "sweep.json"), `${JSON.stringify(report, null, 1)}\n`);
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "sweep" && argv[1] === "merge") return mergeMain(argv.slice(2));
  if (argv[0] === "sweep") return sweepMain(argv.slice(1));
  const args = parseCommand(
    "backtest",
    USAGE,
    argv,
    {
      ...SPEC_CATALOG_RANGE,
      out: { type: "string" },
      symbols: { type: "string" },
      seed: { type: "string" },
      latency: { type: "string" },
      limits: { type: "string" },
      "quote-lot": { type: "string" },
      commission: { type: "string" },
      "risk-free": { type: "string" },
      "no-png": { type: "boolean" },
      record: { type: "string" },
      check: { type: "string" },
      samples: { type: "string" },
      tolerance: { type: "string" },
      "warmup-ticks": { type: "string" },
      replay: { type: "string" },
      venue: { type: "string" },
    },
    (v) =>
      typeof v.replay === "string"
        ? ["file"]
        : typeof v.check === "string"
          ? ["file", "data", "from", "to"]
          : ["file", "data", "from", "to", "out"],
  );
  if (typeof args === "number") return args;
  const { str } = args;
  if (str("replay") !== undefined && str("venue") === "simulated") {
    const pipeline = await loadPipelineFile(str("file")!);
    const { parity, result } = await simulateRecordingJob(pipeline, str("replay")!, {
      ...(str("seed") ? { seed: Number(str("seed")) } : {}),
      ...(str("latency") ? { latency: parseLatencyMs(str("latency")!) } : {}),
    });
    const p = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(2)}%`);
    process.stdout.write(
      `simulated venue: ${result.events} events, ${result.orders.length} orders, ${result.fills.length} fills\n`,
    );
    process.stdout.write(
      "symbol   fill rate rec/sim/diff        price diff (bps)   P&L rec / sim / diff (USD)\n",
    );
    for (const r of parity) {
      process.stdout.write(
        `${r.symbol.padEnd(8)} ${p(r.recorded.fillRate)} / ${p(r.simulated.fillRate)} / ${p(r.fillRateDiff)}`.padEnd(
          40,
        ) +
          `${r.priceDiffBps === null ? "–" : r.priceDiffBps.toFixed(2)}`.padStart(10) +
          `   ${r.recorded.pnl.toFixed(2)} / ${r.simulated.pnl.toFixed(2)} / ${r.pnlDiff.toFixed(2)}\n`,
      );
    }
    return 0;
  }
  if (str("venue") !== undefined && str("venue") !== "recorded")
    throw new Error(`--venue: "${str("venue")}" is not recorded or simulated`);
  if (str("replay") !== undefined) return replay(str("file")!, str("replay")!);
  const from = parseDate(str("from")!, "--from");
  const to = parseDate(str("to")!, "--to");
  if (to < from) throw new Error(`--to ${to} is before --from ${from}`);
  const limits = str("limits") ?? "conservative";
  if (limits !== "conservative" && limits !== "queue")
    throw new Error(`--limits: "${limits}" is not conservative or queue`);
  const number = (k: string, fallback: number) => {
    const v = str(k);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${k}: "${v}" is not a number`);
    return n;
  };
  const pipeline = await loadPipelineFile(str("file")!);
  const check = str("check");
  if (check !== undefined) {
    const job = {
      pipeline,
      dataDir: str("data")!,
      from,
      to,
      ...(str("symbols")
        ? {
            symbols: str("symbols")!
              .split(",")
              .map((s) => s.trim().toUpperCase()),
          }
        : {}),
    };
    if (check === "lookahead") {
      const r = await lookaheadJob(job, number("samples", 20));
      process.stdout.write(
        `lookahead: ${r.signals} signals, ${r.checked} re-run on data cut right after them\n`,
      );
      for (const b of r.biased) process.stdout.write(`  BIASED ${b.signalId}: ${b.why}\n`);
      process.stdout.write(
        r.biased.length === 0
          ? "no look-ahead found\n"
          : `${r.biased.length} signals change without later data\n`,
      );
      return r.biased.length === 0 ? 0 : 1;
    }
    if (check === "warmup") {
      const ticks = number("warmup-ticks", 500);
      const tolerance = number("tolerance", 0.01);
      const warmups = [...new Set([50, 100, 200, 500, 1000, ticks])].sort((a, b) => a - b);
      const r = await warmupJob(job, warmups);
      const show = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(4)}%` : "not ready");
      process.stdout.write(
        `warm-up: ${r.symbols} symbols; largest difference from the full-history value\n`,
      );
      process.stdout.write("  ticks        RSI         MACD hist   Bollinger %B  bandwidth\n");
      for (const row of r.rows) {
        process.stdout.write(
          `  ${String(row.warmupTicks).padStart(5)}  ${[row.rsi, row.macdHistogram, row.percentB, row.bandwidth].map((x) => show(x).padStart(12)).join(" ")}\n`,
        );
      }
      const at = r.rows.find((row) => row.warmupTicks === ticks);
      const worst =
        at === undefined ? 0 : Math.max(at.rsi, at.macdHistogram, at.percentB, at.bandwidth);
      const ok = worst <= tolerance;
      process.stdout.write(
        ok
          ? `within ${show(tolerance)} after ${ticks} ticks of warm-up\n`
          : `DIFFERS by ${show(worst)} after ${ticks} ticks of warm-up (tolerance ${show(tolerance)})\n`,
      );
      return ok ? 0 : 1;
    }
    throw new Error(`--check: "${check}" is not lookahead or warmup`);
  }
  const started = performance.now();
  const { summary, result, data } = await runBacktestJob({
    pipeline,
    dataDir: str("data")!,
    from,
    to,
    outDir: str("out")!,
    ...(str("symbols")
      ? {
          symbols: str("symbols")!
            .split(",")
            .map((s) => s.trim().toUpperCase()),
        }
      : {}),
    ...(str("seed") ? { seed: number("seed", 1) } : {}),
    ...(str("latency") ? { latency: parseLatencyMs(str("latency")!) } : {}),
    restingLimits: limits,
    quoteLotShares: number("quote-lot", 100),
    ...(str("commission") ? { commission: parseCommission(str("commission")!) } : {}),
    riskFreeAnnual: number("risk-free", 0),
    png: !args.flag("no-png"),
    ...(str("record") ? { recordDir: str("record")! } : {}),
    onDay: (date, i, n) => process.stderr.write(`day ${i + 1}/${n} ${date}\n`),
    onProgress: (events, orders) => process.stderr.write(`  ${events} events, ${orders} orders\r`),
  });
  const secs = (performance.now() - started) / 1000;
  const f = summary?.figures ?? {};
  const p = (x: number | null | undefined) =>
    x === null || x === undefined ? "–" : `${(x * 100).toFixed(2)}%`;
  process.stdout.write(
    `\n${result.events} events in ${secs.toFixed(1)} s (${Math.round(result.events / secs)} events/s, loading ${(data.loadNs / 1e9).toFixed(1)} s); ` +
      `${result.orders.length} orders, ${result.fills.length} fills\n` +
      `total return ${p(f.totalReturn)}, Sharpe ${f.sharpe?.toFixed(2) ?? "–"}, max drawdown ${p(f.maxDrawdown)}, fees ${f.fees?.toFixed(2) ?? "–"} USD\n` +
      `results in ${str("out")}: tearsheet.html, summary.json\n`,
  );
  return 0;
}

async function replay(file: string, dir: string): Promise<number> {
  const pipeline = await loadPipelineFile(file);
  const started = performance.now();
  const r = await replayJob(pipeline, dir);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `${r.inputs} inputs replayed in ${secs} s; ${r.lines} ${r.compared === "intents" ? "order intents" : "decisions"}, sha256 ${r.sha256}\n` +
      (r.identical
        ? r.compared === "intents"
          ? "identical to the recorded intents (same client_order_ids, fields and order)\n"
          : "identical to the recorded decisions (same signals, strategies, sides, quantities and prices, in order)\n"
        : `DIFFERENT from the recorded ${r.compared} (sha256 ${r.recordedSha256}); first difference at ${r.compared === "intents" ? "intent" : "decision"} ${r.firstDifference}\n`),
  );
  return r.identical ? 0 : 1;
}
