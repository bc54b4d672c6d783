/**
 * The model contract: what an ONNX model file says about itself (its metadata_props, written by
 * research/tradepipe_research/train.py) checked against what the signal-bridge's code computes,
 * so a model trained on other features, another feature definition, another dtype or another
 * runtime is refused with the difference named instead of scoring nonsense.
 *
 * Metadata keys: `feature_names` (comma-separated, model input order), `feature_hash` (the hash of
 * the feature definitions, `featureDefinitionHash`), `input_dtype`, `input_shape`,
 * `training_window_ns`, `metrics`, `code_version`, `golden_rows` and `golden_scores` (JSON).
 * onnxruntime-node has no API for custom metadata, so the file is decoded with the project's own
 * ONNX protobuf code.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { TradepipeError } from "../core/errors.ts";
import { ModelProtoSchema, TensorProto_DataType } from "./model/gen/onnx_pb.ts";
import type { FeatureRef } from "./strategy/api.ts";
import { resolveFeature } from "./strategy/feature-library.ts";

/** Golden rows must reproduce within this (float32 scores of float32 inputs; export parity 1e-6). */
export const GOLDEN_TOLERANCE = 1e-5;

export interface ModelContract {
  readonly metadata: Readonly<Record<string, string>>;
  readonly featureNames: readonly string[] | undefined;
  readonly featureHash: string | undefined;
  /** ONNX element type name of the `features` input ("float32", "float64", ...). */
  readonly inputDtype: string;
  /** Input dims; -1 for a symbolic dimension. */
  readonly inputShape: readonly number[];
  readonly goldenRows: readonly (readonly number[])[];
  readonly goldenScores: readonly number[];
}

const DTYPES: Record<number, string> = {
  [TensorProto_DataType.FLOAT]: "float32",
  [TensorProto_DataType.DOUBLE]: "float64",
};

/** readModelContract decodes the model file's input type and metadata. */
export function readModelContract(
  path: string,
  bytes: Uint8Array = readFileSync(path),
): ModelContract {
  const model = fromBinary(ModelProtoSchema, bytes);
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps) metadata[p.key] = p.value;
  const input = model.graph?.input.find((i) => i.name === "features");
  const tensor = input?.type?.value.case === "tensorType" ? input.type.value.value : undefined;
  const elem = tensor?.elemType ?? 0;
  const json = (key: string): unknown[] => {
    const raw = metadata[key];
    if (raw === undefined) return [];
    try {
      const v = JSON.parse(raw) as unknown;
      return Array.isArray(v) ? v : [];
    } catch {
      throw new TradepipeError("TP_ERR_CONFIG", `${path}: metadata ${key} is not JSON`);
    }
  };
  return {
    metadata,
    featureNames: metadata.feature_names?.split(",").filter((n) => n !== ""),
    featureHash: metadata.feature_hash || undefined,
    inputDtype: DTYPES[elem] ?? `onnx-type-${elem}`,
    inputShape: (tensor?.shape?.dim ?? []).map((d) =>
      d.value.case === "dimValue" ? Number(d.value.value) : -1,
    ),
    goldenRows: json("golden_rows") as number[][],
    goldenScores: json("golden_scores") as number[],
  };
}

/**
 * featureKey is the library's key of a feature reference (`rsi(period=14)`), the name a model's
 * `feature_names` uses.
 */
export function featureKey(ref: FeatureRef): string {
  return resolveFeature(ref, "model feature").key;
}

/**
 * featureDefinitionHash hashes what the features mean: each key with its kind's definition
 * (description) in model order. A change of a kind's definition changes the hash of every model
 * trained on it, so such a model is refused until retrained.
 */
export function featureDefinitionHash(refs: readonly FeatureRef[]): string {
  const h = createHash("sha256");
  for (const ref of refs) {
    const r = resolveFeature(ref, "model feature");
    h.update(`${r.key}\n${r.kind.description}\n`);
  }
  return h.digest("hex").slice(0, 16);
}

/** What the code expects of a model: its features in input order. */
export interface ModelExpectation {
  readonly features: readonly FeatureRef[];
}

/**
 * verifyModelContract refuses (TP_ERR_CONFIG, naming the difference) a model whose dtype or
 * shape, feature names, feature hash or golden rows do not match. `score` runs the loaded model
 * on one row (the golden rows are scored by the very runtime that will trade).
 */
export function verifyModelContract(
  path: string,
  contract: ModelContract,
  expect: ModelExpectation,
  score: (row: Float32Array) => number,
): void {
  const fail = (what: string) => {
    throw new TradepipeError("TP_ERR_CONFIG", `model ${path} refused: ${what}`);
  };
  const n = expect.features.length;
  if (contract.inputDtype !== "float32") {
    fail(`input dtype is ${contract.inputDtype}, the signal-bridge feeds float32`);
  }
  const width = contract.inputShape.at(-1);
  if (contract.inputShape.length !== 2 || width !== n) {
    fail(`input shape is [${contract.inputShape.join(",")}], expected [1,${n}] (${n} features)`);
  }
  const keys = expect.features.map(featureKey);
  const names = contract.featureNames;
  if (names === undefined) fail("its metadata has no feature_names");
  for (let i = 0; i < Math.max(keys.length, names!.length); i++) {
    if (names![i] !== keys[i]) {
      fail(
        `feature ${i} is ${names![i] ?? "(none)"} in the model but ${keys[i] ?? "(none)"} in the strategy`,
      );
    }
  }
  const hash = featureDefinitionHash(expect.features);
  if (contract.featureHash !== hash) {
    fail(
      `feature_hash ${contract.featureHash ?? "(none)"} differs from this code's ${hash} (a feature definition changed: retrain)`,
    );
  }
  if (contract.goldenRows.length === 0) fail("its metadata has no golden_rows");
  if (contract.goldenRows.length !== contract.goldenScores.length) {
    fail(`${contract.goldenRows.length} golden rows but ${contract.goldenScores.length} scores`);
  }
  const row = new Float32Array(n);
  contract.goldenRows.forEach((values, r) => {
    if (values.length !== n) fail(`golden row ${r} has ${values.length} values, expected ${n}`);
    row.set(values);
    const got = score(row);
    const want = contract.goldenScores[r]!;
    if (!(Math.abs(got - want) <= GOLDEN_TOLERANCE)) {
      fail(
        `golden row ${r} scores ${got} here but ${want} at training (|Δ| > ${GOLDEN_TOLERANCE})`,
      );
    }
  });
}

/**
 * verifyLoadedModel checks a freshly loaded scorer against the features a strategy's model
 * declares, scoring the golden rows through it (then clearing its input buffer). `bytes` are the
 * file's bytes the scorer was built from, when the caller read them (else the file is read).
 */
export function verifyLoadedModel(
  path: string,
  scorer: { input: Float32Array; scoreSync: (() => number) | undefined },
  features: readonly FeatureRef[],
  bytes?: Uint8Array,
): void {
  const run = scorer.scoreSync;
  if (run === undefined) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `model ${path}: golden rows need the synchronous native session (onnxruntime-node binding)`,
    );
  }
  verifyModelContract(path, readModelContract(path, bytes), { features }, (row) => {
    scorer.input.set(row);
    return run();
  });
  scorer.input.fill(0);
}
