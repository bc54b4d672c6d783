import assert from "node:assert/strict";
import { test } from "node:test";
import { TradepipeError } from "../core/errors.ts";
import { loadModelScorer, resolveModelPath } from "./model-scorer.ts";

const MODEL = resolveModelPath("config/models/signal.onnx");
const FEATURES = [
  [0.4, -1.2, -0.45, 60, -8, -20, 3, 0.3],
  [-0.5, 2.1, 0.6, 40, 12, 25, 2, -0.4],
  [0, 0, 0, 0, 0, 0, 0, 0],
];

test("the native synchronous call and the public API give the same scores", async () => {
  const native = await loadModelScorer(MODEL);
  const api = await loadModelScorer(MODEL, { native: false });
  assert.ok(native.scoreSync, "the pinned onnxruntime-node has the native session");
  assert.equal(api.scoreSync, undefined);
  for (const f of FEATURES) {
    native.input.set(f);
    api.input.set(f);
    const a = native.scoreSync();
    const b = await api.score();
    assert.ok(a > 0 && a < 1, `score ${a} is a probability`);
    assert.equal(a, b);
    assert.equal(await native.score(), a);
  }
});

test("a modelRef that does not exist is refused with the resolved path", () => {
  assert.throws(
    () => resolveModelPath("config/models/missing.onnx"),
    (err: unknown) =>
      err instanceof TradepipeError &&
      err.code === "TP_ERR_CONFIG" &&
      /spec\.strategy\.modelRef: model file \/.*config\/models\/missing\.onnx does not exist/.test(
        err.message,
      ),
  );
});

test("a file that is not an ONNX model is refused naming it", async () => {
  const notAModel = resolveModelPath("config/models/README.md");
  for (const native of [true, false]) {
    await assert.rejects(
      loadModelScorer(notAModel, { native }),
      (err: unknown) =>
        err instanceof TradepipeError &&
        /README\.md is not a loadable ONNX model/.test(err.message),
    );
  }
});
