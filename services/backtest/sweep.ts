/**
 * Parameter sweeps with walk-forward evaluation, on worker threads.
 *
 * A sweep varies spec fields (`strategy.rsiPeriod=10,14,20`): every combination (grid) or `random`
 * draws from the lists with a seeded generator. The date range is cut into `folds + 1` consecutive
 * windows of trading dates; fold k trains (in-sample) on window k and tests (out-of-sample) on
 * window k + 1. Every (parameter set, window) backtest runs once on a pool of worker threads, and
 * the table reports each set's mean Sharpe and total return in and out of sample, with the set a
 * quant would pick from in-sample figures alone and what it then did out of sample.
 *
 * Results do not depend on the number of workers or on which finishes first: each run is the
 * deterministic backtest of its inputs, and rows are ordered by parameter set.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { createPrng } from "../broker-sim/core/prng.ts";
import { formatErrors, parseSpec, type TradingPipeline } from "../core/spec/index.ts";
import { datesBetween } from "./catalog/layout.ts";

export interface SweepParam {
  /** path: a spec field under spec, e.g. "strategy.rsiPeriod". */
  path: string;
  values: readonly (number | string)[];
}

export interface SweepOptions {
  pipeline: TradingPipeline;
  dataDir: string;
  from: string;
  to: string;
  symbols?: readonly string[];
  params: readonly SweepParam[];
  /** random: draw this many sets (seeded) instead of the full grid. */
  random?: number;
  seed?: number;
  folds: number;
  workers: number;
  onRun?: (done: number, total: number) => void;
}

export type ParamSet = Record<string, number | string>;

export interface WindowFigures {
  from: string;
  to: string;
  sharpe: number | null;
  totalReturn: number;
  orders: number;
}

export interface SweepRow {
  params: ParamSet;
  inSample: WindowFigures[];
  outOfSample: WindowFigures[];
  meanSharpeIn: number | null;
  meanSharpeOut: number | null;
  meanReturnIn: number;
  meanReturnOut: number;
}

export interface SweepReport {
  windows: { from: string; to: string }[];
  rows: SweepRow[];
  /** best: the set with the highest mean in-sample Sharpe (ties: the first). */
  best: SweepRow | undefined;
}

/** parseParam reads "strategy.rsiPeriod=10,14,20" (numbers where they parse). */
export function parseParam(text: string): SweepParam {
  const eq = text.indexOf("=");
  if (eq <= 0)
    throw new Error(`--param "${text}": expected path=value,value (e.g. strategy.rsiPeriod=10,14)`);
  const path = text.slice(0, eq).trim();
  const values = text
    .slice(eq + 1)
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "")
    .map((v) => (v !== "" && Number.isFinite(Number(v)) ? Number(v) : v));
  if (values.length === 0) throw new Error(`--param "${text}": no values`);
  return { path, values };
}

/** paramSets: the grid, or `random` seeded draws from it (without repeats when possible). */
export function paramSets(params: readonly SweepParam[], random?: number, seed = 1): ParamSet[] {
  const grid: ParamSet[] = [{}];
  for (const p of params) {
    const next: ParamSet[] = [];
    for (const set of grid) for (const v of p.values) next.push({ ...set, [p.path]: v });
    grid.splice(0, grid.length, ...next);
  }
  if (random === undefined || random >= grid.length) return grid;
  const prng = createPrng(seed, "sweep");
  const pool = [...grid];
  const out: ParamSet[] = [];
  while (out.length < random) out.push(pool.splice(prng.int(0, pool.length - 1), 1)[0]!);
  return out;
}

/** withParams returns the pipeline with the set's fields changed, validated as a spec. */
export function withParams(pipeline: TradingPipeline, set: ParamSet): TradingPipeline {
  const spec = structuredClone(pipeline.spec) as unknown as Record<string, unknown>;
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split(".");
    let node = spec;
    for (const k of keys.slice(0, -1)) {
      const child = node[k];
      if (typeof child !== "object" || child === null)
        throw new Error(`--param ${path}: spec has no "${k}"`);
      node = child as Record<string, unknown>;
    }
    const leaf = keys.at(-1)!;
    if (!(leaf in node)) throw new Error(`--param ${path}: spec has no field "${leaf}"`);
    node[leaf] = value;
  }
  const parsed = parseSpec(spec);
  if (!parsed.ok)
    throw new Error(`parameters ${JSON.stringify(set)}: ${formatErrors(parsed.errors)}`);
  return { ...pipeline, spec: parsed.spec };
}

/** windowsOf cuts the dates that have data into folds + 1 consecutive windows. */
export function windowsOf(
  dataDir: string,
  from: string,
  to: string,
  folds: number,
): { from: string; to: string }[] {
  const withData = new Set<string>();
  for (const kind of ["quotes", "trades"]) {
    let symbolDirs: string[] = [];
    try {
      symbolDirs = readdirSync(join(dataDir, kind));
    } catch {
      continue;
    }
    for (const s of symbolDirs) {
      for (const f of readdirSync(join(dataDir, kind, s))) {
        const d = /^date=(\d{4}-\d{2}-\d{2})\.parquet$/.exec(f)?.[1];
        if (d !== undefined && d >= from && d <= to) withData.add(d);
      }
    }
  }
  const days = datesBetween(from, to).filter((d) => withData.has(d));
  const n = folds + 1;
  if (days.length < n)
    throw new Error(`${days.length} trading dates with data: too few for ${folds} folds`);
  const size = Math.floor(days.length / n);
  return Array.from({ length: n }, (_, i) => ({
    from: days[i * size]!,
    to: days[i === n - 1 ? days.length - 1 : (i + 1) * size - 1]!,
  }));
}

export interface Task {
  id: number;
  pipeline: TradingPipeline;
  dataDir: string;
  from: string;
  to: string;
  symbols?: readonly string[];
}

const mean = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

/** SweepPlan: the parameter sets, the windows and one task per (set, window), set-major. */
export interface SweepPlan {
  sets: ParamSet[];
  windows: { from: string; to: string }[];
  tasks: Task[];
}

export function sweepPlan(o: SweepOptions): SweepPlan {
  const sets = paramSets(o.params, o.random, o.seed);
  const windows = windowsOf(o.dataDir, o.from, o.to, o.folds);
  const tasks: Task[] = [];
  for (const set of sets) {
    const pipeline = withParams(o.pipeline, set);
    for (const w of windows) {
      tasks.push({
        id: tasks.length,
        pipeline,
        dataDir: o.dataDir,
        from: w.from,
        to: w.to,
        ...(o.symbols ? { symbols: o.symbols } : {}),
      });
    }
  }
  return { sets, windows, tasks };
}

export async function runSweep(o: SweepOptions): Promise<SweepReport> {
  const plan = sweepPlan(o);
  const results = await runTasks(plan.tasks, o.workers, o.onRun);
  return sweepReport(plan.sets, plan.windows, results);
}

/** runTasks runs backtest tasks on a pool of `workers` threads; results in task order. */
export function runTasks(
  tasks: readonly Task[],
  workers: number,
  onRun?: (done: number, total: number) => void,
): Promise<WindowFigures[]> {
  return runPool(
    tasks.map((t, i) => ({ ...t, id: i })),
    Math.max(1, workers),
    onRun,
  );
}

/** sweepReport: the table from every task's figures (`results[i]` is task i of the plan). */
export function sweepReport(
  sets: readonly ParamSet[],
  windows: readonly { from: string; to: string }[],
  results: readonly WindowFigures[],
): SweepReport {
  const rows = sets.map((params, i) => {
    const figures = windows.map((_, k) => results[i * windows.length + k]!);
    const inSample = figures.slice(0, -1);
    const outOfSample = figures.slice(1);
    return {
      params,
      inSample,
      outOfSample,
      meanSharpeIn: mean(inSample.map((f) => f.sharpe)),
      meanSharpeOut: mean(outOfSample.map((f) => f.sharpe)),
      meanReturnIn: mean(inSample.map((f) => f.totalReturn)) ?? 0,
      meanReturnOut: mean(outOfSample.map((f) => f.totalReturn)) ?? 0,
    };
  });
  let best: SweepRow | undefined;
  for (const r of rows) {
    if (
      r.meanSharpeIn !== null &&
      (best === undefined || best.meanSharpeIn === null || r.meanSharpeIn > best.meanSharpeIn)
    )
      best = r;
  }
  return { windows: [...windows], rows, best: best ?? rows[0] };
}

function runPool(
  tasks: readonly Task[],
  workers: number,
  onRun?: (done: number, total: number) => void,
): Promise<WindowFigures[]> {
  const results: WindowFigures[] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const pool: Worker[] = [];
    const finish = (err?: Error) => {
      for (const w of pool) void w.terminate();
      if (err) reject(err);
      else resolve(results);
    };
    const feed = (w: Worker) => {
      if (next >= tasks.length) {
        void w.terminate();
        return;
      }
      w.postMessage(tasks[next++]);
    };
    const count = Math.min(workers, tasks.length);
    if (count === 0) return resolve(results);
    for (let i = 0; i < count; i++) {
      const w = new Worker(new URL("./sweep-worker.ts", import.meta.url));
      pool.push(w);
      w.on("message", (m: { id: number; figures?: WindowFigures; error?: string }) => {
        if (m.error !== undefined) return finish(new Error(m.error));
        results[m.id] = m.figures!;
        done++;
        onRun?.(done, tasks.length);
        if (done === tasks.length) finish();
        else feed(w);
      });
      w.on("error", (err) => finish(err));
      feed(w);
    }
  });
}
