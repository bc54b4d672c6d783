/**
 * Sweeps across machines: a Kubernetes Indexed Job runs one shard of a sweep per index, and a
 * merge combines the shards' results into the same report as a single-process sweep.
 *
 * Shard `index` of `count` runs the plan's tasks whose id ≡ index (mod count) (ids are set-major,
 * so each shard gets a spread of sets and windows) and writes `shard-<index>-of-<count>.json` into
 * the results directory (a shared volume): the plan it ran (sets, windows, task count) and each of
 * its tasks' figures. `mergeShards` checks that every shard of one plan is there, that each task
 * was run exactly once, and builds the report from the figures in task order, so the table is the
 * single-process sweep's whatever the number of shards (each task is a deterministic backtest).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { TradingPipeline } from "../core/spec/index.ts";
import {
  type ParamSet,
  runTasks,
  type SweepOptions,
  type SweepReport,
  sweepPlan,
  sweepReport,
  type WindowFigures,
} from "./sweep.ts";

const SHARD_FORMAT = "tradepipe-sweep-shard";
const SHARD_RE = /^shard-(\d+)-of-(\d+)\.json$/;

interface ShardFile {
  format: typeof SHARD_FORMAT;
  version: 1;
  index: number;
  count: number;
  sets: ParamSet[];
  windows: { from: string; to: string }[];
  tasks: number;
  results: { id: number; figures: WindowFigures }[];
}

/** shardIndexOf: the index given (`--shard-index`), else JOB_COMPLETION_INDEX (Indexed Job). */
export function shardIndexOf(
  given: string | undefined,
  count: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const text = given ?? env.JOB_COMPLETION_INDEX;
  if (text === undefined)
    throw new Error("--shards: no shard index (--shard-index, or JOB_COMPLETION_INDEX in a Job)");
  const index = Number(text);
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new Error(`shard index "${text}" is not an integer in 0..${count - 1}`);
  return index;
}

/** runSweepShard runs shard `index` of `count` and writes its file into `outDir`. */
export async function runSweepShard(
  o: SweepOptions,
  index: number,
  count: number,
  outDir: string,
): Promise<{ path: string; tasks: number }> {
  const plan = sweepPlan(o);
  const mine = plan.tasks.filter((t) => t.id % count === index);
  const figures = await runTasks(mine, o.workers, o.onRun);
  const file: ShardFile = {
    format: SHARD_FORMAT,
    version: 1,
    index,
    count,
    sets: plan.sets,
    windows: plan.windows,
    tasks: plan.tasks.length,
    results: mine.map((t, i) => ({ id: t.id, figures: figures[i]! })),
  };
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `shard-${index}-of-${count}.json`);
  // Written whole, then renamed: a merge never reads half a shard (a retried pod rewrites it).
  writeFileSync(`${path}.tmp`, `${JSON.stringify(file)}\n`);
  renameSync(`${path}.tmp`, path);
  return { path, tasks: mine.length };
}

/** mergeShards combines the shard files in `dir` into the sweep's report. */
export function mergeShards(dir: string): SweepReport {
  const files = readdirSync(dir).filter((f) => SHARD_RE.test(f));
  if (files.length === 0) throw new Error(`${dir}: no shard-<i>-of-<n>.json files`);
  const shards = files.map((f) => {
    const s = JSON.parse(readFileSync(join(dir, f), "utf8")) as ShardFile;
    if (s.format !== SHARD_FORMAT) throw new Error(`${f}: not a sweep shard`);
    return { f, s };
  });
  const first = shards[0]!.s;
  const plan = JSON.stringify([first.count, first.sets, first.windows, first.tasks]);
  const seen = new Set<number>();
  const results: WindowFigures[] = new Array(first.tasks);
  for (const { f, s } of shards) {
    if (JSON.stringify([s.count, s.sets, s.windows, s.tasks]) !== plan)
      throw new Error(`${f}: another sweep's shard (parameters, windows or shard count differ)`);
    seen.add(s.index);
    for (const r of s.results) {
      if (results[r.id] !== undefined) throw new Error(`${f}: task ${r.id} was run twice`);
      results[r.id] = r.figures;
    }
  }
  const missing = Array.from({ length: first.count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0)
    throw new Error(`${dir}: shards ${missing.join(", ")} of ${first.count} are missing`);
  for (let id = 0; id < first.tasks; id++)
    if (results[id] === undefined) throw new Error(`${dir}: task ${id} has no result`);
  return sweepReport(first.sets, first.windows, results);
}

export interface SweepJobOptions {
  pipeline: TradingPipeline;
  /** name of the Job and its ConfigMap. */
  name: string;
  namespace?: string;
  shards: number;
  parallelism: number;
  /** The sweep's own arguments (after `tradepipe backtest sweep`), without -f, --data, --out. */
  sweepArgs: readonly string[];
  /** dataClaim, resultsClaim: PersistentVolumeClaims of the catalog (read-only) and results. */
  dataClaim: string;
  resultsClaim: string;
  /** resultsPath: a directory under the results volume for this sweep's shards. */
  resultsPath?: string;
}

const CONFIG_DIR = "/etc/tradepipe";
const DATA_DIR = "/data";
const RESULTS_DIR = "/results";

/**
 * renderSweepJob: a ConfigMap with the spec and an Indexed Job (completions = shards) whose pod
 * `i` runs `tradepipe backtest sweep … --shards N` with JOB_COMPLETION_INDEX = i, reading the
 * catalog from one volume and writing its shard file to another; `tradepipe backtest sweep
 * merge --out DIR` over that volume then prints the report.
 */
export function renderSweepJob(o: SweepJobOptions): string {
  const labels = { "app.kubernetes.io/name": "tradepipe-sweep", "tradepipe.io/sweep": o.name };
  const meta = { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}), labels };
  const results = `${RESULTS_DIR}/${o.resultsPath ?? o.name}`;
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta,
    data: { "pipeline.yaml": stringify(o.pipeline) },
  };
  const job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta,
    spec: {
      completionMode: "Indexed",
      completions: o.shards,
      parallelism: Math.min(o.parallelism, o.shards),
      // A failed shard is retried on its own index; the others keep their results.
      backoffLimitPerIndex: 2,
      maxFailedIndexes: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "shard",
              image: o.pipeline.spec.image,
              imagePullPolicy: "IfNotPresent",
              args: [
                "backtest",
                "sweep",
                "-f",
                `${CONFIG_DIR}/pipeline.yaml`,
                "--data",
                DATA_DIR,
                ...o.sweepArgs,
                "--shards",
                String(o.shards),
                "--out",
                results,
              ],
              volumeMounts: [
                { name: "spec", mountPath: CONFIG_DIR, readOnly: true },
                { name: "data", mountPath: DATA_DIR, readOnly: true },
                { name: "results", mountPath: RESULTS_DIR },
                { name: "tmp", mountPath: "/tmp" },
              ],
              resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "2Gi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
          volumes: [
            { name: "spec", configMap: { name: o.name } },
            { name: "data", persistentVolumeClaim: { claimName: o.dataClaim, readOnly: true } },
            { name: "results", persistentVolumeClaim: { claimName: o.resultsClaim } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
  return `${stringify(configMap)}---\n${stringify(job)}`;
}
