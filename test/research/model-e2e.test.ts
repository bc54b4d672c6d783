/**
 * End to end, small enough for CI: a few thousand rows → the Python trainer (purged CV, LightGBM,
 * ONNX export) → the signal-bridge's own loader (onnxruntime-node) → scores. Then the contract:
 * the model passes verifyModelContract for the features it was trained on, its golden rows and
 * rows placed at every split threshold score as LightGBM did (|Δ| ≤ 1e-6), and each kind of
 * mismatch (features, hash, dtype, golden rows) is refused with the difference named.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { isTradepipeError } from "../../services/core/errors.ts";
import {
  ModelProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataType,
} from "../../services/signal-bridge/model/gen/onnx_pb.ts";
import {
  featureDefinitionHash,
  featureKey,
  type ModelContract,
  readModelContract,
  verifyLoadedModel,
  verifyModelContract,
} from "../../services/signal-bridge/model-contract.ts";
import { loadModelScorer, type ModelScorer } from "../../services/signal-bridge/model-scorer.ts";
import { BUILTIN_STRATEGIES } from "../../services/signal-bridge/strategies/index.ts";
import { feature } from "../../services/signal-bridge/strategy/api.ts";
import { replayStrategies } from "../../services/signal-bridge/strategy/replay.ts";
import { prepareSlot } from "../../services/signal-bridge/strategy/slot.ts";

const RESEARCH = fileURLToPath(new URL("../../research/", import.meta.url));
const FEATURES = [
  feature("return", { horizon: 5 }),
  feature("rsi", { period: 14 }),
  feature("realized_vol", { period: 20 }),
  feature("book_imbalance_depth", { levels: 1 }),
  feature("microprice_offset_bps"),
  feature("session_progress"),
];

function run(cmd: string, args: string[], cwd = RESEARCH): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: "1" },
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe("train → export → load → score", () => {
  let dir: string;
  let modelPath: string;
  let scorer: ModelScorer;
  let contract: ModelContract;
  let thresholds: { rows: number[][]; scores: number[] };
  const scoreRow = (row: Float32Array) => {
    scorer.input.set(row);
    return scorer.scoreSync!();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tradepipe-model-e2e-"));
    const venv = run(`${RESEARCH}setup.sh`, []).trim().split("\n").at(-1)!;
    const py = `${venv}/bin/python`;
    const names = FEATURES.map(featureKey).join(",");
    run(py, [
      "tools/synthetic_dataset.py",
      join(dir, "ds"),
      names,
      featureDefinitionHash(FEATURES),
      "3000",
    ]);
    const out = run(py, [
      "-m",
      "tradepipe_research.train",
      "--dataset",
      join(dir, "ds"),
      "--out",
      join(dir, "models"),
      "--splits",
      "3",
      "--rounds",
      "60",
      "--threshold-rows",
      join(dir, "thresholds.json"),
    ]);
    modelPath = out.trim().split("\n").at(-1)!;
    scorer = await loadModelScorer(modelPath, { inputs: FEATURES.length });
    contract = readModelContract(modelPath);
    thresholds = JSON.parse(readFileSync(join(dir, "thresholds.json"), "utf8"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("loads in the signal-bridge and passes the contract of the features it was trained on", () => {
    assert.ok(scorer.scoreSync, "the native synchronous session is available");
    verifyModelContract(modelPath, contract, { features: FEATURES }, scoreRow);
    // The signal-bridge's start-up check (stage.ts), through the loaded session itself.
    verifyLoadedModel(modelPath, scorer, FEATURES);
    assert.throws(
      () => verifyLoadedModel(modelPath, scorer, [...FEATURES].reverse()),
      /model .* refused: feature 0 is return\(horizon=5\) in the model but session_progress\(\) in the strategy/,
    );
    assert.deepEqual(contract.featureNames, FEATURES.map(featureKey));
    assert.ok(JSON.parse(contract.metadata.metrics!).lightgbm.auc > 0.7);
  });

  it("scores golden rows and rows at every split threshold as LightGBM did, within 1e-6", () => {
    let worst = 0;
    const check = (rows: readonly (readonly number[])[], scores: readonly number[]) =>
      rows.forEach((r, i) => {
        worst = Math.max(worst, Math.abs(scoreRow(Float32Array.from(r)) - scores[i]!));
      });
    check(contract.goldenRows, contract.goldenScores);
    check(thresholds.rows, thresholds.scores);
    assert.ok(thresholds.rows.length > 300, `${thresholds.rows.length} threshold rows`);
    assert.ok(worst <= 1e-6, `max |Δ| ${worst}`);
  });

  it("builtin:model-features declares the model's features, passes the start check and trades on its score", () => {
    const slot = (features: string[]) =>
      prepareSlot(BUILTIN_STRATEGIES["model-features"]!, {
        id: "m",
        params: { modelRef: modelPath, features, buyAbove: 0.55, sellBelow: 0.45 },
      });
    const keys = FEATURES.map(featureKey);
    const s = slot(keys);
    assert.deepEqual(Object.values(s.features).map(featureKey), keys);
    verifyLoadedModel(modelPath, scorer, s.model!.features!);
    const swapped = [keys[1]!, keys[0]!, ...keys.slice(2)];
    assert.throws(
      () => verifyLoadedModel(modelPath, scorer, slot(swapped).model!.features!),
      /feature 0 is return\(horizon=5\) in the model but rsi\(period=14\) in the strategy/,
    );
    // Quotes through the engine, scored by the loaded model: it warms up, scores and decides.
    let mid = 100;
    let seed = 1;
    const quotes = Array.from({ length: 3000 }, (_, i) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      mid = Math.round((mid + ((seed >>> 8) % 5) * 0.01 - 0.02) * 100) / 100;
      return {
        symbol: "X",
        timeNs: BigInt(Date.UTC(2026, 2, 10, 15, 0)) * 1_000_000n + BigInt(i) * 1_000_000_000n,
        bidPrice: mid - 0.01,
        bidSize: 100 + (seed % 300),
        askPrice: mid + 0.01,
        askSize: 100 + ((seed >>> 4) % 300),
      };
    });
    let scored = 0;
    const result = replayStrategies(
      [s],
      { minConfidence: 0, defaultQty: 1 },
      quotes,
      (_m, input) => {
        scored++;
        return scoreRow(input);
      },
    );
    assert.ok(scored > 2000, `${scored} scores`);
    const d = result.decisions.m!;
    assert.ok(d.BUY + d.SELL > 0, "the model's score moved the strategy");
  });

  /** A copy of the model's contract with metadata (or the input type) changed. */
  const altered = (edit: (m: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>) => void) => {
    const m = fromBinary(ModelProtoSchema, readFileSync(modelPath));
    edit(m);
    const path = join(dir, "altered.onnx");
    writeFileSync(path, toBinary(ModelProtoSchema, m));
    return readModelContract(path);
  };
  const setMeta = (key: string, value: string) =>
    altered((m) => {
      m.metadataProps = m.metadataProps.filter((p) => p.key !== key);
      m.metadataProps.push(create(StringStringEntryProtoSchema, { key, value }));
    });
  const refuses = (c: ModelContract, expect: typeof FEATURES, pattern: RegExp) =>
    assert.throws(
      () => verifyModelContract(modelPath, c, { features: expect }, scoreRow),
      (e: unknown) => isTradepipeError(e) && e.code === "TP_ERR_CONFIG" && pattern.test(e.message),
    );

  it("refuses a model trained on other features, naming the first difference", () => {
    const other = [...FEATURES];
    other[1] = feature("rsi", { period: 7 });
    refuses(
      contract,
      other,
      /feature 1 is rsi\(period=14\) in the model but rsi\(period=7\) in the strategy/,
    );
    refuses(contract, FEATURES.slice(0, 5), /input shape is \[-1,6\], expected \[1,5\]/);
  });

  it("refuses a model whose feature definitions hash differs", () => {
    refuses(
      setMeta("feature_hash", "0123456789abcdef"),
      FEATURES,
      /feature_hash 0123456789abcdef differs/,
    );
  });

  it("refuses a model whose input dtype is not float32", () => {
    const c = altered((m) => {
      const t = m.graph!.input[0]!.type!.value;
      if (t.case === "tensorType") t.value.elemType = TensorProto_DataType.DOUBLE;
    });
    refuses(c, FEATURES, /input dtype is float64, the signal-bridge feeds float32/);
  });

  it("refuses a model whose golden rows do not reproduce here", () => {
    const scores = [...contract.goldenScores];
    scores[3] = scores[3]! + 0.01;
    refuses(
      setMeta("golden_scores", JSON.stringify(scores)),
      FEATURES,
      /golden row 3 scores .* at training/,
    );
  });
});
