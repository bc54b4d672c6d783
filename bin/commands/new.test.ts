/**
 * `tradepipe new strategy NAME` writes a template that works as written: its own test passes,
 * the determinism lint accepts it, and the pipeline it writes loads the strategy.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { loadStrategies } from "../../services/signal-bridge/strategy-loader.ts";
import { lintProbe } from "../../test/support/lint-probe.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const probe = lintProbe();
after(() => probe.remove());
const dir = join(probe.dir, "strategies");

function tradepipe(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/tradepipe.ts"), ...args], {
    encoding: "utf8",
  });
}

it("writes a strategy, its test and a pipeline, and says how to test and backtest it", () => {
  const r = tradepipe("new", "strategy", "mean-rev", "--dir", dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /test it: +npm test -- .*mean-rev\.test\.ts/);
  assert.match(r.stdout, /backtest it: +npx tradepipe backtest -f .*mean-rev\.pipeline\.yaml/);
});

it("the template's own test passes", () => {
  // Without NODE_TEST_CONTEXT the child reports in TAP itself rather than to this runner.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const t = spawnSync(
    process.execPath,
    ["--test", "--test-reporter=tap", join(dir, "mean-rev.test.ts")],
    { encoding: "utf8", env },
  );
  assert.equal(t.status, 0, t.stdout + t.stderr);
  assert.match(t.stdout, /# pass 4/);
});

it("the template passes the determinism lint of strategy modules", () => {
  const r = probe.lint("strategies/mean-rev.ts");
  assert.ok(r.ok, r.output);
});

it("the pipeline it writes is valid and loads the strategy with its parameters", async () => {
  const parsed = parsePipeline(readFileSync(join(dir, "mean-rev.pipeline.yaml"), "utf8"));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const slots = await loadStrategies(parsed.pipeline.spec);
  assert.deepEqual(
    slots.map((s) => [s.id, s.definition.name]),
    [
      ["rules-model", "rules-model"],
      ["mean-rev", "mean-rev"],
    ],
  );
  assert.deepEqual(slots[1]!.params, { period: 20, stdDev: 2, strength: 0.6 });
});

it("refuses to overwrite, and a bad name", () => {
  const again = tradepipe("new", "strategy", "mean-rev", "--dir", dir);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /mean-rev\.ts exists: not overwritten/);
  const bad = tradepipe("new", "strategy", "Mean_Rev", "--dir", dir);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /strategy name "Mean_Rev" must start with a letter/);
  assert.equal(tradepipe("new", "thing", "x").status, 2);
});
