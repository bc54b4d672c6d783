/**
 * The research pipeline's model in the live stage: a synthetic catalog → `tradepipe features` →
 * the research trainer (LightGBM, ONNX export) → single-row inference through the signal-bridge's
 * own scorer (loadModelScorer: the native synchronous session, features written into the input
 * buffer) beside two bare onnxruntime-node runs of the same file, interleaved call by call on the
 * dataset's rows: the binding's synchronous `run()` with preallocated feeds and fetches (the
 * floor the scorer is built on) and the public asynchronous `session.run()`. Prints p50, p99 and
 * p99.9, and the CV metrics the trainer logged on stderr.
 *
 * Allocation: the scorer allocates nothing per call (one input buffer wrapped once by the input
 * tensor, one feeds and one fetches object, the output written into a preallocated tensor); the
 * rows are prepared before the loop so the loop allocates nothing either. What remains per call
 * is onnxruntime-node's own: its binding returns a new result object with a new output Tensor on
 * every `run()`, preallocated fetches or not (measured: the same young-generation collections
 * per call for the scorer as for the bare binding).
 *
 *   npm run bench -- research-model [--quick]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { main as features } from "../../bin/commands/features.ts";
import { readColumns } from "../../services/backtest/catalog/parquet.ts";
import { writeSyntheticCatalog } from "../../services/backtest/synthetic.ts";
import { readModelContract } from "../../services/signal-bridge/model-contract.ts";
import { loadModelScorer } from "../../services/signal-bridge/model-scorer.ts";
import { BenchRows } from "./support/batched.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const RESEARCH = fileURLToPath(new URL("../../research/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tradepipe-bench-research-"));
try {
  writeSyntheticCatalog(join(dir, "catalog"), {
    symbols: { AAA: 100, BBB: 50 },
    seed: 5,
    startNs: BigInt(Date.UTC(2026, 2, 10, 14, 0)) * 1_000_000n,
    minutes: args.quick ? 30n : 120n,
    days: 1,
  });
  writeFileSync(
    join(dir, "spec.yaml"),
    `symbols: [AAA, BBB]
features: [rsi: { period: 14 }, spread_bps, return: { horizon: 5 }, realized_vol: { period: 20 },
  trade_flow_imbalance: { halfLife: 30 }, microprice_offset_bps, book_imbalance_depth: { levels: 1 },
  minutes_since_open, ema_distance: { period: 50 }, order_flow_imbalance: { period: 50 }]
label: { horizonSeconds: 30 }
`,
  );
  await features([
    "-f",
    join(dir, "spec.yaml"),
    "--data",
    join(dir, "catalog"),
    "--from",
    "2026-03-10",
    "--to",
    "2026-03-10",
    "--out",
    join(dir, "ds"),
  ]);
  const venv = spawnSync(`${RESEARCH}setup.sh`, [], { encoding: "utf8" })
    .stdout.trim()
    .split("\n")
    .at(-1)!;
  const train = spawnSync(
    `${venv}/bin/python`,
    [
      "-m",
      "tradepipe_research.train",
      "--dataset",
      join(dir, "ds"),
      "--out",
      join(dir, "models"),
      "--splits",
      "5",
      "--rounds",
      "200",
    ],
    { cwd: RESEARCH, encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } },
  );
  if (train.status !== 0) throw new Error(`trainer failed:\n${train.stderr}`);
  process.stderr.write(train.stderr);
  const modelPath = train.stdout.trim().split("\n").at(-1)!;
  const contract = readModelContract(modelPath);
  const width = contract.featureNames!.length;
  const { rows, columns } = await readColumns(
    join(dir, "ds", "features.parquet"),
    contract.featureNames!,
  );
  const input = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < width; j++)
      input[i * width + j] = columns[contract.featureNames![j]!]![i] as number;
  }

  const options = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  } as const;
  const scorer = await loadModelScorer(modelPath, { inputs: width });
  const session = await ort.InferenceSession.create(modelPath, options);
  const bareBuf = new Float32Array(width);
  const bareFeeds = { features: new ort.Tensor("float32", bareBuf, [1, width]) };
  // The binding under the public API: synchronous, with the scorer's preallocations.
  const binding = createRequire(import.meta.url)("onnxruntime-node/dist/binding.js");
  binding.initOrt();
  const native = new binding.binding.InferenceSession();
  native.loadModel(modelPath, options);
  const nativeBuf = new Float32Array(width);
  const nativeOut = new Float32Array(1);
  const nativeFeeds = { features: new ort.Tensor("float32", nativeBuf, [1, width]) };
  const nativeFetches = { score: new ort.Tensor("float32", nativeOut, [1, 1]) };
  const runOptions = {};
  const n = args.quick ? 5000 : 20_000;
  const warm = n / 10;
  // Row views made once: the timed loop allocates nothing of its own.
  const views = Array.from({ length: Math.min(rows, n + warm) }, (_, r) =>
    input.subarray(r * width, (r + 1) * width),
  );
  const live = new Float64Array(n);
  const bareSync = new Float64Array(n);
  const bare = new Float64Array(n);
  let sink = 0;
  for (let i = -warm; i < n; i++) {
    const row = views[(i + warm) % views.length]!;
    let t0 = process.hrtime.bigint();
    scorer.input.set(row);
    sink += scorer.scoreSync!();
    const tl = Number(process.hrtime.bigint() - t0);
    t0 = process.hrtime.bigint();
    nativeBuf.set(row);
    native.run(nativeFeeds, nativeFetches, runOptions);
    sink += nativeOut[0]!;
    const tn = Number(process.hrtime.bigint() - t0);
    t0 = process.hrtime.bigint();
    bareBuf.set(row);
    const out = await session.run(bareFeeds);
    sink += (out.score!.data as Float32Array)[0]!;
    const tb = Number(process.hrtime.bigint() - t0);
    if (i >= 0) {
      live[i] = tl;
      bareSync[i] = tn;
      bare[i] = tb;
    }
  }
  await session.release();
  native.dispose();
  const bench = new BenchRows();
  const l = bench.report("LightGBM model: signal-bridge scorer (sync)", live, "µs");
  const b = bench.report("  baseline: bare binding run() (sync, preallocated)", bareSync, "µs");
  bench.report("  bare session.run() (public async API)", bare, "µs");
  bench.print(
    `research-model bench (node ${process.version}, ${rows} dataset rows, ${width} features)`,
    52,
  );
  const m = JSON.parse(contract.metadata.metrics!);
  console.log(
    `live/bare binding p50 ${(l.p50 / b.p50).toFixed(2)}×, p99 ${(l.p99 / b.p99).toFixed(2)}×, p99.9 ${(l.p999 / b.p999).toFixed(2)}×; ` +
      `CV AUC LightGBM ${m.lightgbm.auc.toFixed(4)} ± ${m.lightgbm.auc_std.toFixed(4)}, logistic ${m.logistic.auc.toFixed(4)} (checksum ${sink.toFixed(3)})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
