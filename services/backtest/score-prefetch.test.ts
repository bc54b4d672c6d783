import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { nativeModelsOf } from "../kernel/config.ts";
import { ModelProtoSchema } from "../signal-bridge/model/gen/onnx_pb.ts";
import { loadBatchScorerSync } from "../signal-bridge/model-scorer.ts";
import type { ModelScore } from "../signal-bridge/strategy/replay.ts";
import { type BacktestConfig, BacktestEngine } from "./engine.ts";
import { syntheticBatches } from "./synthetic.ts";
import { T0, testConfig } from "./test-support.ts";

const MINUTE = 60_000_000_000n;
const symbols = { AAPL: 190, MSFT: 410, NVDA: 120 };

function run(cfg: BacktestConfig, minutes: bigint, seed: number) {
  const engine = new BacktestEngine(cfg);
  for (const batch of syntheticBatches({
    symbols,
    seed,
    startNs: T0,
    durationNs: minutes * MINUTE,
    // Ten-minute batches: rows are scored ahead across many quotes.
    stepNs: 10n * MINUTE,
  })) {
    engine.push(batch);
  }
  return { engine, result: engine.finish() };
}

describe("batched model scoring", () => {
  it("scores the feature rows of a run in batches bit for bit as one row at a time", async () => {
    // Every row the kernel asks the model for in a run, with the score the single call gave.
    const cfg = await testConfig(Object.keys(symbols), 3);
    const single = cfg.score;
    const rows: number[] = [];
    const scores: number[] = [];
    cfg.score = (model, input) => {
      const s = single(model, input);
      rows.push(...input);
      scores.push(s!);
      return s;
    };
    run(cfg, 20n, 3);
    const n = scores.length;
    assert.ok(n > 200, `${n} rows`);
    const model = nativeModelsOf(single)![0]!;
    const batch = loadBatchScorerSync(model.path, model.inputs);
    assert.ok(batch, "the shipped model loads with a free batch dimension");
    const all = Float32Array.from(rows);
    const expected = new Uint32Array(Float32Array.from(scores).buffer);
    // Batches of several sizes (one row, odd sizes, all rows at once), each compared by bits.
    for (const size of [1, 7, 64, 509, n]) {
      const out = new Float32Array(size);
      const bits = new Uint32Array(out.buffer);
      for (let from = 0; from < n; from += size) {
        const count = Math.min(size, n - from);
        batch.score(all.subarray(from * model.inputs), count, out);
        for (let r = 0; r < count; r++) {
          assert.equal(bits[r], expected[from + r], `row ${from + r} in batches of ${size}`);
        }
      }
    }
  });

  it("gives a backtest the same results as one model call per request, with few native calls", async () => {
    const batchedCfg = await testConfig(Object.keys(symbols), 5);
    const { engine, result: batched } = run(batchedCfg, 30n, 5);
    const stats = engine.modelScoring;
    assert.ok(stats, "the engine batched the model");
    const singleCfg = await testConfig(Object.keys(symbols), 5);
    singleCfg.batchModels = false;
    let calls = 0;
    const score = singleCfg.score;
    singleCfg.score = (model, input) => {
      calls++;
      return score(model, input);
    };
    const { result: single } = run(singleCfg, 30n, 5);
    assert.ok(single.intents.length > 0 && single.fills.length > 0, "the run traded");
    assert.deepEqual(batched, single);
    // Every request was answered from a batch (the built-in strategy's rows are all foreseen).
    assert.equal(stats.hits, calls);
    assert.equal(stats.misses, 0);
    // A native call per slice of records the engine prefetches (4096), not one per request.
    assert.ok(
      stats.batchCalls * 20 <= calls,
      `${stats.batchCalls} batched calls for ${calls} requests`,
    );
  });

  it("opens for batches only a model declared [1, inputs] → [1, 1]", async () => {
    const cfg = await testConfig(["AAPL"], 5);
    const model = nativeModelsOf(cfg.score)![0]!;
    assert.ok(loadBatchScorerSync(model.path, model.inputs));
    assert.equal(loadBatchScorerSync(model.path, model.inputs + 1), undefined, "other width");
    const dir = mkdtempSync(join(tmpdir(), "tp-batch-model-"));
    try {
      // The same model declaring a fixed batch of 2: not a shape this loader rewrites.
      const proto = fromBinary(ModelProtoSchema, readFileSync(model.path));
      const input = proto.graph!.input[0]!.type!.value;
      assert.equal(input.case, "tensorType");
      input.value.shape!.dim[0]!.value = { case: "dimValue", value: 2n };
      const path = join(dir, "batch-of-two.onnx");
      writeFileSync(path, toBinary(ModelProtoSchema, proto));
      assert.equal(loadBatchScorerSync(path, model.inputs), undefined);
      writeFileSync(path, "not a model");
      assert.equal(loadBatchScorerSync(path, model.inputs), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("never batches a score function it cannot vouch for (a test's stand-in, a wrapper)", async () => {
    const cfg = await testConfig(Object.keys(symbols), 5);
    const real = cfg.score;
    const standIn: ModelScore = (model, input) => real(model, input);
    const engine = new BacktestEngine({ ...cfg, score: standIn });
    assert.equal(engine.modelScoring, undefined);
    assert.ok(new BacktestEngine(cfg).modelScoring, "the spec's own models are batched");
  });
});
