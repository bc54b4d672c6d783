/**
 * Loading the spec's strategies at start: every problem is refused before the first tick with
 * TP_ERR_CONFIG naming the strategy and the field or the path; `tradepipe run` refuses the same
 * spec before it starts anything.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isTradepipeError } from "../core/errors.ts";
import { parseSpec, type TradingPipelineSpec } from "../core/spec/index.ts";
import { loadStrategies } from "./strategy-loader.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tp-strategies-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function spec(strategies: unknown[], extra: object = {}): TradingPipelineSpec {
  const r = parseSpec({ strategies, ...extra });
  assert.ok(r.ok, JSON.stringify(r));
  return r.spec;
}

async function refused(s: TradingPipelineSpec, message: RegExp): Promise<void> {
  await assert.rejects(
    loadStrategies(s),
    (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && message.test(e.message),
  );
}

describe("loadStrategies", () => {
  it("no strategies: the built-in alone, with spec.strategy as its parameters", async () => {
    const slots = await loadStrategies(spec([], { strategy: { rsiPeriod: 10 } }));
    assert.deepEqual(
      slots.map((s) => [s.id, s.definition.name, s.params.rsiPeriod]),
      [["rules-model", "rules-model", 10]],
    );
    assert.equal(slots[0]!.model?.path, "config/models/signal.onnx");
  });
  it("builtin:rules-model in the list takes spec.strategy, overridden by its params", async () => {
    const [slot] = await loadStrategies(
      spec([{ id: "rm", module: "builtin:rules-model", params: { rsiOversold: 25 } }], {
        strategy: { rsiPeriod: 10 },
      }),
    );
    assert.equal(slot!.params.rsiPeriod, 10);
    assert.equal(slot!.params.rsiOversold, 25);
  });
  it("a bad parameter names the strategy, its place in the spec and the field", async () => {
    await refused(
      spec([
        { id: "rm", module: "builtin:rules-model" },
        { id: "trend", module: "builtin:ma-crossover", params: { fast: 50, slow: 20 } },
      ]),
      /^strategy "trend" \(spec\.strategies\[1\]\): params\.fast must be below params\.slow/,
    );
    await refused(
      spec([{ id: "orb", module: "builtin:opening-range-breakout", params: { rangeMinutes: 0 } }]),
      /^strategy "orb" \(spec\.strategies\[0\]\): params\.rangeMinutes expected integer to be greater or equal to 1 \(got 0\)/,
    );
  });
  it("a missing module names the path", async () => {
    await refused(
      spec([{ id: "mine", module: "strategies/does-not-exist.ts" }]),
      new RegExp(
        `^spec\\.strategies\\[0\\]\\.module: strategy module ${join(ROOT, "strategies/does-not-exist.ts")} does not exist`,
      ),
    );
    await refused(
      spec([{ id: "b", module: "builtin:pairs" }]),
      /spec\.strategies\[0\]\.module: no built-in strategy "pairs" \(there are rules-model, ma-crossover, opening-range-breakout, model-features\)/,
    );
  });
  it("a module that exports no strategy, or fails to load, is named", async () => {
    const empty = join(dir, "empty.ts");
    writeFileSync(empty, "export const x = 1;\n");
    await refused(spec([{ id: "e", module: empty }]), /empty\.ts exports no strategy/);
    const broken = join(dir, "broken.ts");
    writeFileSync(broken, 'throw new Error("boom at import");\n');
    await refused(spec([{ id: "b", module: broken }]), /broken\.ts failed to load: boom at import/);
  });
  it("a module from a path loads, and its parameters are checked", async () => {
    const file = join(dir, "ok.ts");
    const api = join(ROOT, "services/signal-bridge/strategy/api.ts");
    writeFileSync(
      file,
      `import { defineStrategy, hold, Type } from ${JSON.stringify(api)};
export default defineStrategy({
  name: "nothing",
  description: "holds",
  params: Type.Object({ n: Type.Integer({ default: 3, minimum: 1 }) }, { additionalProperties: false }),
  create: () => ({ onTick: (_t, _f, out) => { hold(out, "never"); return false; } }),
});
`,
    );
    const [slot] = await loadStrategies(spec([{ id: "ok", module: file, weight: 2 }]));
    assert.deepEqual([slot!.definition.name, slot!.params, slot!.weight], ["nothing", { n: 3 }, 2]);
    await refused(
      spec([{ id: "ok", module: file, params: { n: -1 } }]),
      /strategy "ok" \(spec\.strategies\[0\]\): params\.n/,
    );
  });
  it("two strategies with one id are refused by the spec itself", () => {
    const r = parseSpec({
      strategies: [
        { id: "x", module: "builtin:ma-crossover" },
        { id: "x", module: "builtin:opening-range-breakout" },
      ],
    });
    assert.deepEqual(r, {
      ok: false,
      errors: [{ path: "spec.strategies[1]", message: "duplicate of spec.strategies[0]" }],
    });
  });
});

it("tradepipe run refuses a bad strategy parameter before it starts anything", () => {
  const file = join(dir, "bad.yaml");
  writeFileSync(
    file,
    `apiVersion: tradepipe.io/v1alpha1
kind: TradingPipeline
metadata: { name: bad-params }
spec:
  strategies:
    - { id: trend, module: "builtin:ma-crossover", params: { fast: 0 } }
`,
  );
  const r = spawnSync(process.execPath, [join(ROOT, "bin/tradepipe.ts"), "run", "-f", file], {
    encoding: "utf8",
    env: { ...process.env, TRADEPIPE_DATA_DIR: join(dir, "data") },
    timeout: 60_000,
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /tradepipe run: strategy "trend" \(spec\.strategies\[0\]\): params\.fast expected integer to be greater or equal to 1/,
  );
});

it("tradepipe validate refuses a missing strategy module, naming the path", () => {
  const file = join(dir, "missing-module.yaml");
  writeFileSync(
    file,
    `apiVersion: tradepipe.io/v1alpha1
kind: TradingPipeline
metadata: { name: missing-module }
spec:
  strategies:
    - { id: mine, module: strategies/nowhere.ts }
`,
  );
  const r = spawnSync(process.execPath, [join(ROOT, "bin/tradepipe.ts"), "validate", "-f", file], {
    encoding: "utf8",
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `spec\\.strategies\\[0\\]\\.module: strategy module ${join(ROOT, "strategies/nowhere.ts")} does not exist`,
    ),
  );
});
