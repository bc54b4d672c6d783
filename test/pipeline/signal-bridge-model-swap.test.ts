/**
 * Model hot reload in the running signal-bridge, started by the host as in production, with real
 * model files and the real onnxruntime-node session: a valid new model (named by a changed spec,
 * or written over the file in use) takes over between quotes; a refused one (other features,
 * golden rows that do not reproduce, a corrupt file) is reported (status, metric, log line,
 * `tradepipe:sb.model` channel) and the previous model goes on scoring.
 *
 * Each model is a one-feature logistic regression over `spread_bps()` with its own bias, so the
 * score it gives on the test's quotes (spread 2 bps) says which model scored. The test strategy
 * acts on every scored quote with strength = score, so each signal's confidence is that score.
 */
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { decodeMessage, publishMessage } from "../../services/core/bus/typed.ts";
import { newHeader, QuoteSchema, TradingSignalSchema } from "../../services/core/messages/index.ts";
import { exportOnnx } from "../../services/signal-bridge/model/export-onnx.ts";
import { featureDefinitionHash, featureKey } from "../../services/signal-bridge/model-contract.ts";
import type { SwapOutcome } from "../../services/signal-bridge/model-reload.ts";
import { feature } from "../../services/signal-bridge/strategy/api.ts";
import { type Harness, startHarness, waitFor } from "./stage-harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tp-sb-model-swap-"));
const SPREAD = [feature("spread_bps")];
const WEIGHT = 0.25;
const SPREAD_BPS = 2; // bid 99.99, ask 100.01

const ECHO = join(dir, "echo.ts");
writeFileSync(
  ECHO,
  `import { act, defineStrategy, feature, hold, Type } from ${JSON.stringify(join(ROOT, "services/signal-bridge/strategy/api.ts"))};
/** Buys on every scored quote with the model's score as its strength. */
export default defineStrategy({
  name: "echo",
  description: "the model's score as the signal's confidence",
  params: Type.Object({ modelRef: Type.String() }, { additionalProperties: false }),
  features: () => ({ spread: feature("spread_bps") }),
  model: (p) => ({ path: p.modelRef, inputs: 1, features: [feature("spread_bps")] }),
  create: () => {
    let spread = 0;
    return {
      onTick(_t, f, out) {
        spread = f.spread;
        if (!Number.isFinite(spread)) { hold(out, "warming-up"); return false; }
        return true;
      },
      writeModelInput(buf) { buf[0] = spread; },
      onScore(score, out) {
        if (score === undefined) hold(out, "no-score");
        else act(out, 1, score, "echo");
      },
    };
  },
});
`,
);

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** biasFor gives the bias that makes the model score `p` on the test's quotes. */
const biasFor = (p: number) => Math.log(p / (1 - p)) - Math.fround(WEIGHT) * SPREAD_BPS;

/** modelBytes is a one-feature logistic model with the contract metadata, optionally altered. */
function modelBytes(
  score: number,
  alter: { featureNames?: string; goldenShift?: number } = {},
): Uint8Array {
  const bias = biasFor(score);
  const rows = [[0], [SPREAD_BPS], [7.5]];
  const scores = rows.map(([x]) => sigmoid(Math.fround(WEIGHT) * x! + Math.fround(bias)));
  scores[1] = scores[1]! + (alter.goldenShift ?? 0);
  return exportOnnx(
    { weights: Float32Array.of(WEIGHT), bias },
    {
      featureNames: ["x"],
      producerVersion: "test",
      metadata: {
        feature_names: alter.featureNames ?? SPREAD.map(featureKey).join(","),
        feature_hash: featureDefinitionHash(SPREAD),
        golden_rows: JSON.stringify(rows),
        golden_scores: JSON.stringify(scores),
      },
    },
  );
}

/** writeModel writes a file the way a deploy should: a temporary file renamed over the target. */
function writeModel(path: string, bytes: Uint8Array): string {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
  return path;
}

const T0 = 1_767_000_000_000_000_000n;
let h: Harness;
const outcomes: SwapOutcome[] = [];
const onModel = (o: unknown) => outcomes.push(o as SwapOutcome);
const strategyOn = (modelRef: string) => ({
  strategies: [{ id: "echo", module: ECHO, params: { modelRef } }],
});

before(async () => {
  writeModel(join(dir, "a.onnx"), modelBytes(0.8));
  subscribe("tradepipe:sb.model", onModel);
  h = await startHarness({
    sim: { symbols: ["AAPL"], clock: "manual" },
    spec: strategyOn(join(dir, "a.onnx")),
  });
});
after(async () => {
  unsubscribe("tradepipe:sb.model", onModel);
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a valid model swaps in between quotes; a refused one leaves the previous model scoring", async () => {
  const seen = h.record(["signal/*"]);
  const instance = await h.start("signal-bridge");
  let quotes = 0;
  /** quote publishes one quote and returns the signal it produced (confidence = the score). */
  const quote = async () => {
    const before = seen.length;
    const i = quotes++;
    publishMessage(
      h.bus,
      "md.quote/AAPL",
      QuoteSchema,
      create(QuoteSchema, {
        header: newHeader("market-data", T0 + BigInt(i) * 1_000_000n),
        symbol: "AAPL",
        bidPrice: "99.99",
        bidSize: "100",
        askPrice: "100.01",
        askSize: "100",
      }),
    );
    await waitFor(() => seen.length > before, `the signal of quote ${i}`);
    return decodeMessage(seen.at(-1)!, TradingSignalSchema);
  };
  const scoreIs = async (want: number, what: string) => {
    const s = await quote();
    assert.ok(
      Math.abs(s.confidence - want) < 1e-5,
      `${what}: scored ${s.confidence}, want ${want}`,
    );
    return s;
  };
  /** outcome waits for the n-th swap outcome (an event, not a sleep). */
  const outcome = async (n: number) => {
    await waitFor(() => outcomes.length >= n, `model swap outcome ${n}`, 30_000);
    return outcomes[n - 1]!;
  };
  const refusedCount = async () => {
    const m = (await h.metrics.registry.metrics()).match(
      /tradepipe_sb_model_reloads_total\{result="refused"\} (\d+)/,
    );
    return Number(m?.[1] ?? 0);
  };
  try {
    const first = await scoreIs(0.8, "the model loaded at start");
    assert.match(first.model, /^a@[0-9a-f]{12}$/);

    // 1. The spec names another valid model: it takes over.
    h.changeSpec(strategyOn(writeModel(join(dir, "b.onnx"), modelBytes(0.3))));
    const swapped = await outcome(1);
    assert.equal(swapped.result, "swapped");
    assert.equal(swapped.cause, "spec");
    const b = await scoreIs(0.3, "after the spec named b.onnx");
    assert.match(b.model, /^b@[0-9a-f]{12}$/);

    // 2. The spec names a model trained on other features: refused, b keeps scoring.
    const other = writeModel(
      join(dir, "other-features.onnx"),
      modelBytes(0.9, { featureNames: "rsi(period=14)" }),
    );
    h.changeSpec(strategyOn(other));
    const refused = await outcome(2);
    assert.equal(refused.result, "refused");
    assert.equal(refused.path, other);
    assert.match(
      refused.result === "refused" ? refused.reason : "",
      /refused: feature 0 is rsi\(period=14\) in the model but spread_bps\(\) in the strategy/,
    );
    assert.equal((await scoreIs(0.3, "after other features were refused")).model, b.model);

    // 3. Golden rows that do not reproduce: refused, b keeps scoring.
    h.changeSpec(
      strategyOn(writeModel(join(dir, "golden.onnx"), modelBytes(0.9, { goldenShift: 0.01 }))),
    );
    const golden = await outcome(3);
    assert.match(
      golden.result === "refused" ? golden.reason : "",
      /golden row 1 scores .* but .* at training/,
    );
    await scoreIs(0.3, "after bad golden rows were refused");

    // 4. The file in use is overwritten with bytes that are not a model: refused, the loaded
    //    session of b keeps scoring.
    writeModel(join(dir, "b.onnx"), new TextEncoder().encode("not an onnx model at all"));
    const corrupt = await outcome(4);
    assert.equal(corrupt.cause, "file");
    assert.equal(corrupt.result, "refused");
    await scoreIs(0.3, "after the file in use was corrupted");

    // The refusals are visible: status, metric, log line.
    const report = instance.lastReport();
    assert.match(String(report.detail), /model refused: /);
    assert.equal((report.models as Array<{ model: string }>)[0]!.model, b.model);
    assert.equal(await refusedCount(), 3);
    const line = h.logs.find((l) => l.msg === "model refused: the previous model keeps trading");
    assert.ok(line, "a log line says the previous model keeps trading");
    assert.equal(line.level, 50);
    assert.equal(line.kept, b.model);

    // 5. A valid version written over the file in use: it takes over, the refusal clears.
    writeModel(join(dir, "b.onnx"), modelBytes(0.6));
    const replaced = await outcome(5);
    assert.equal(replaced.result, "swapped");
    assert.equal(replaced.cause, "file");
    const c = await scoreIs(0.6, "after b.onnx was replaced by a valid version");
    assert.notEqual(c.model, b.model);
    assert.doesNotMatch(String(instance.lastReport().detail), /model refused/);
  } finally {
    await instance.stop();
  }
});
