/**
 * ModelScorer runs the signal model (config/models/signal.onnx: `features` float32[1,8] →
 * `score` float32[1,1]) the fast way the model README describes: one session created with one
 * intra-op thread and sequential execution, one input buffer wrapped once by the input tensor,
 * one feeds object, one preallocated output tensor.
 *
 * onnxruntime-node's public `session.run()` defers the native call to `setImmediate` and wraps
 * it in a promise, which puts an event-loop turn on every scored tick. The package's native
 * session runs synchronously, so when it is present (it is in the pinned version) the scorer
 * calls it directly: `scoreSync` then returns the score with no promise. When it is not, the
 * scorer falls back to the public API and `scoreSync` is undefined; callers then use `score`.
 *
 * IMPORTANT: the input buffer is shared. In the asynchronous fallback the native call reads it
 * on a later turn, so a caller must not start a second score before the first has resolved.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { TradepipeError } from "../core/errors.ts";
import { FEATURE_COUNT } from "./core/features.ts";
import { ModelProtoSchema, type ValueInfoProto } from "./model/gen/onnx_pb.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
} as const;

interface NativeSession {
  loadModel(path: string, options: object): void;
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  dispose(): void;
  run(feeds: object, fetches: object, options: object): Record<string, unknown>;
  inputMetadata: Array<{ name: string }>;
  outputMetadata: Array<{ name: string }>;
}

interface NativeBinding {
  initOrt(): void;
  binding: { InferenceSession: new () => NativeSession };
}

export interface ModelScorer {
  /** input is the feature buffer the input tensor wraps: write features here, then score. */
  readonly input: Float32Array;
  /** path is the resolved model file. */
  readonly path: string;
  /** Synchronous score of `input`, when the native session is available. */
  readonly scoreSync: (() => number) | undefined;
  /** Score of `input` through whichever path is available. */
  score(): Promise<number>;
  /** dispose frees the runtime's session (a model replaced or refused at run time). */
  dispose(): Promise<void>;
}

/** resolveModelPath resolves spec.strategy.modelRef: absolute as is, relative to the repo root. */
export function resolveModelPath(modelRef: string, root = REPO_ROOT): string {
  const path = isAbsolute(modelRef) ? modelRef : resolve(root, modelRef);
  if (!existsSync(path)) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `spec.strategy.modelRef: model file ${path} does not exist`,
    );
  }
  return path;
}

/**
 * loadModelScorer opens the model and checks it has the signal model's input and output
 * (`inputs` features, FEATURE_COUNT unless a strategy's model declares another length). With
 * `bytes` the session is built from those bytes (the file as read once, so the session, its hash
 * and its metadata are of one version even while the file is being replaced); `path` then only
 * names it.
 */
export async function loadModelScorer(
  path: string,
  opts: { native?: boolean; inputs?: number; bytes?: Uint8Array } = {},
): Promise<ModelScorer> {
  const bytes = opts.bytes;
  const inputs = opts.inputs ?? FEATURE_COUNT;
  const input = new Float32Array(inputs);
  const inputTensor = new ort.Tensor("float32", input, [1, inputs]);
  const output = new Float32Array(1);
  const feeds = { features: inputTensor };
  const fetches = { score: new ort.Tensor("float32", output, [1, 1]) };
  const native = opts.native === false ? undefined : nativeBinding();
  if (native) {
    native.initOrt();
    const session = new native.binding.InferenceSession();
    try {
      if (bytes === undefined) session.loadModel(path, SESSION_OPTIONS);
      else
        session.loadModel(
          bytes.buffer as ArrayBuffer,
          bytes.byteOffset,
          bytes.byteLength,
          SESSION_OPTIONS,
        );
    } catch (err) {
      // Nothing to free: a session that failed to load was never initialized.
      throw modelError(path, err);
    }
    try {
      checkNames(
        path,
        session.inputMetadata.map((m) => m.name),
        session.outputMetadata.map((m) => m.name),
      );
    } catch (err) {
      session.dispose();
      throw err;
    }
    const runOptions = {};
    const scoreSync = () => {
      session.run(feeds, fetches, runOptions);
      return output[0]!;
    };
    return {
      input,
      path,
      scoreSync,
      score: async () => scoreSync(),
      dispose: async () => session.dispose(),
    };
  }
  let session: ort.InferenceSession;
  try {
    session = await (bytes === undefined
      ? ort.InferenceSession.create(path, SESSION_OPTIONS)
      : ort.InferenceSession.create(bytes, SESSION_OPTIONS));
  } catch (err) {
    throw modelError(path, err);
  }
  try {
    checkNames(path, session.inputNames, session.outputNames);
  } catch (err) {
    await session.release();
    throw err;
  }
  return {
    input,
    path,
    scoreSync: undefined,
    async score() {
      await session.run(feeds, fetches);
      return output[0]!;
    },
    dispose: () => session.release(),
  };
}

function nativeBinding(): NativeBinding | undefined {
  try {
    const require = createRequire(import.meta.url);
    const b = require("onnxruntime-node/dist/binding.js") as Partial<NativeBinding>;
    return typeof b.initOrt === "function" && typeof b.binding?.InferenceSession === "function"
      ? (b as NativeBinding)
      : undefined;
  } catch {
    return undefined;
  }
}

function checkNames(path: string, inputs: readonly string[], outputs: readonly string[]): void {
  if (!inputs.includes("features") || !outputs.includes("score")) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `spec.strategy.modelRef: ${path} must take "features" and give "score" (it takes ${inputs.join(", ")} and gives ${outputs.join(", ")})`,
    );
  }
}

function modelError(path: string, err: unknown): TradepipeError {
  return new TradepipeError(
    "TP_ERR_CONFIG",
    `spec.strategy.modelRef: ${path} is not a loadable ONNX model: ${(err as Error).message}`,
    { cause: err },
  );
}

/**
 * BatchScorer scores many rows in one native call: `rows` holds `count` rows of `inputs` values,
 * their scores go to `out[0..count)`. For a backtest, which knows the rows ahead of time.
 */
export interface BatchScorer {
  readonly inputs: number;
  score(rows: Float32Array, count: number, out: Float32Array): void;
}

/**
 * loadBatchScorerSync opens a model (`features` [1, inputs] → `score` [1, 1]) with its batch
 * dimension made free ([batch, inputs] → [batch, 1]: the graph is unchanged, only the declared
 * shapes of its input and output), synchronously through the native session. Undefined when the
 * native session is missing or the model does not have that shape or will not load so.
 * IMPORTANT: whether a batched row scores exactly as the same row alone is the runtime's
 * business, not guaranteed by ONNX; a caller must check it (the backtest does, bit for bit).
 */
export function loadBatchScorerSync(path: string, inputs: number): BatchScorer | undefined {
  const native = nativeBinding();
  if (native === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    const model = fromBinary(ModelProtoSchema, readFileSync(path));
    const graph = model.graph;
    const input = graph?.input.find((v) => v.name === "features");
    const output = graph?.output.find((v) => v.name === "score");
    if (!freeBatch(input, [1, inputs]) || !freeBatch(output, [1, 1])) return undefined;
    bytes = toBinary(ModelProtoSchema, model);
  } catch {
    return undefined;
  }
  native.initOrt();
  const session = new native.binding.InferenceSession();
  try {
    session.loadModel(
      bytes.buffer as ArrayBuffer,
      bytes.byteOffset,
      bytes.byteLength,
      SESSION_OPTIONS,
    );
  } catch {
    return undefined;
  }
  const runOptions = {};
  return {
    inputs,
    score(rows, count, out) {
      const feeds = {
        features: new ort.Tensor("float32", rows.subarray(0, count * inputs), [count, inputs]),
      };
      const fetches = { score: new ort.Tensor("float32", out.subarray(0, count), [count, 1]) };
      session.run(feeds, fetches, runOptions);
    },
  };
}

/** freeBatch turns a declared [1, ...rest] shape into [batch, ...rest]; false on another shape. */
function freeBatch(v: ValueInfoProto | undefined, dims: readonly number[]): boolean {
  const type = v?.type?.value;
  if (type?.case !== "tensorType") return false;
  const dim = type.value.shape?.dim;
  if (dim === undefined || dim.length !== dims.length) return false;
  for (let i = 0; i < dims.length; i++) {
    const d = dim[i]!.value;
    if (d.case !== "dimValue" || d.value !== BigInt(dims[i]!)) return false;
  }
  dim[0]!.value = { case: "dimParam", value: "batch" };
  return true;
}
