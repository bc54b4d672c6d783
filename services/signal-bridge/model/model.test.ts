import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { FEATURE_COUNT, FEATURE_NAMES } from "../core/features.ts";
import { DEFAULT_SIGNAL_PARAMS } from "../core/params.ts";
import { SymbolSignal } from "../core/symbol-signal.ts";
import { MODEL_INPUT, MODEL_OUTPUT } from "./export-onnx.ts";
import { ModelProtoSchema } from "./gen/onnx_pb.ts";
import { type LogisticModel, score } from "./logistic.ts";
import { SeededRandom } from "./random.ts";
import { syntheticMarket } from "./synthetic-market.ts";
import { DEFAULT_TRAIN_CONFIG, trainSignalModel } from "./train.ts";

const SHIPPED = new URL("../../../config/models/signal.onnx", import.meta.url);
const SMALL = { ...DEFAULT_TRAIN_CONFIG, paths: 3, ticksPerPath: 1500, epochs: 60 };

/** Feature vectors from real signal ticks plus random and extreme ones. */
function sampleInputs(): Float32Array[] {
  const inputs: Float32Array[] = [];
  const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
  const path = syntheticMarket({ seed: 99, ticks: 400 });
  path.forEach((top, t) => {
    sig.onTopOfBook(top);
    if (sig.ready && t % 40 === 0) inputs.push(Float32Array.from(sig.writeFeatures()));
  });
  const rng = new SeededRandom(5);
  for (let i = 0; i < 5; i++) {
    inputs.push(Float32Array.from({ length: FEATURE_COUNT }, () => rng.normal() * 3));
  }
  inputs.push(new Float32Array(FEATURE_COUNT));
  inputs.push(Float32Array.from([-1, 5, -0.6, 300, -20, -40, 10, -1]));
  return inputs;
}

async function assertOrtMatches(onnx: Uint8Array, model: LogisticModel): Promise<void> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    assert.deepEqual(session.inputNames, [MODEL_INPUT]);
    assert.deepEqual(session.outputNames, [MODEL_OUTPUT]);
    const inputs = sampleInputs();
    assert.ok(inputs.length >= 10);
    for (const x of inputs) {
      const out = await session.run({
        [MODEL_INPUT]: new ort.Tensor("float32", x, [1, FEATURE_COUNT]),
      });
      const tensor = out[MODEL_OUTPUT]!;
      assert.deepEqual(tensor.dims, [1, 1]);
      const fromOrt = (tensor.data as Float32Array)[0]!;
      const fromTs = score(model, x);
      assert.ok(Math.abs(fromOrt - fromTs) <= 1e-6, `ORT ${fromOrt} vs TS ${fromTs} for ${x}`);
    }
  } finally {
    await session.release();
  }
}

describe("signal model", () => {
  it("training is reproducible: same seed, same weights and bytes", () => {
    const a = trainSignalModel(SMALL);
    const b = trainSignalModel(SMALL);
    assert.deepEqual(a.model.weights, b.model.weights);
    assert.equal(a.model.bias, b.model.bias);
    assert.deepEqual(a.onnx, b.onnx);
    const other = trainSignalModel({ ...SMALL, seed: SMALL.seed + 1 });
    assert.notDeepEqual(other.model.weights, a.model.weights, "the seed matters");
  });

  it("learns something: held-out accuracy beats the majority baseline", () => {
    const r = trainSignalModel(SMALL);
    assert.ok(
      r.test.accuracy > r.test.baselineAccuracy + 0.05,
      `accuracy ${r.test.accuracy} vs baseline ${r.test.baselineAccuracy}`,
    );
  });

  it("the exported graph is features[1,N] → Gemm → Sigmoid → score[1,1]", () => {
    const m = fromBinary(ModelProtoSchema, trainSignalModel(SMALL).onnx);
    assert.equal(m.irVersion, 8n);
    assert.deepEqual(
      m.opsetImport.map((o) => o.version),
      [13n],
    );
    const g = m.graph!;
    assert.deepEqual(
      g.node.map((n) => n.opType),
      ["Gemm", "Sigmoid"],
    );
    const dims = (v: (typeof g.input)[number]) =>
      v.type?.value.case === "tensorType"
        ? v.type.value.value.shape?.dim.map((d) => d.value.value)
        : undefined;
    assert.deepEqual(dims(g.input[0]!), [1n, BigInt(FEATURE_COUNT)]);
    assert.deepEqual(dims(g.output[0]!), [1n, 1n]);
    const names = m.metadataProps.find((p) => p.key === "feature_names")?.value;
    assert.equal(names, FEATURE_NAMES.join(","));
  });

  it("onnxruntime-node scores a freshly exported model like the TypeScript forward pass", async () => {
    const r = trainSignalModel(SMALL);
    await assertOrtMatches(r.onnx, r.model);
  });

  it("config/models/signal.onnx is exactly what train.ts builds, and ORT agrees with it", async () => {
    const r = trainSignalModel(DEFAULT_TRAIN_CONFIG);
    assert.deepEqual(
      new Uint8Array(readFileSync(SHIPPED)),
      r.onnx,
      "rebuild with: npx node services/signal-bridge/model/train.ts",
    );
    await assertOrtMatches(r.onnx, r.model);
  });
});
