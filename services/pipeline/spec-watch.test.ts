/**
 * A running stage follows its spec file: a rewrite and a ConfigMap-style symlink swap both
 * arrive; an invalid version is ignored and the last valid one stays.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { TradingPipeline } from "../core/spec/index.ts";
import { createLogger } from "../core/telemetry/index.ts";
import { watchSpecFile } from "./spec-watch.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-specwatch-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec = (killSwitch: boolean | string) =>
  `apiVersion: tradepipe.io/v1alpha1\nkind: TradingPipeline\nmetadata: {name: w}\nspec:\n  symbols: [AAPL]\n  killSwitch: ${killSwitch}\n`;

async function next(seen: TradingPipeline[], count: number): Promise<TradingPipeline> {
  for (let i = 0; i < 200 && seen.length < count; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(seen.length >= count, `version ${count} of the spec arrived`);
  return seen[count - 1]!;
}

test("a rewritten file and a swapped symlink both arrive; an invalid version is ignored", async () => {
  // A ConfigMap volume: pipeline.yaml -> ..data/pipeline.yaml, ..data -> a timestamped directory.
  const v1 = join(dir, "v1");
  const v2 = join(dir, "v2");
  mkdirSync(v1);
  mkdirSync(v2);
  writeFileSync(join(v1, "pipeline.yaml"), spec(false));
  symlinkSync(v1, join(dir, "..data"));
  const file = join(dir, "pipeline.yaml");
  symlinkSync(join("..data", "pipeline.yaml"), file);

  const seen: TradingPipeline[] = [];
  const log = createLogger({ name: "test", level: "silent" });
  const watcher = watchSpecFile(file, log, 20);
  watcher.watch((p) => seen.push(p));
  try {
    // The kubelet's swap: a new directory, a new ..data link renamed over the old one.
    writeFileSync(join(v2, "pipeline.yaml"), spec(true));
    symlinkSync(v2, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    assert.equal((await next(seen, 1)).spec.killSwitch, true);

    writeFileSync(join(v2, "pipeline.yaml"), spec('"maybe"'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, 1, "an invalid version is not handed on");
    writeFileSync(join(v2, "pipeline.yaml"), `${spec(false)}# edited\n`);
    assert.equal((await next(seen, 2)).spec.killSwitch, false);
  } finally {
    watcher.stop();
  }
});
