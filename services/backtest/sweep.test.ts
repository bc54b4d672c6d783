import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TradingPipeline } from "../core/spec/index.ts";
import { defaultSpec } from "../core/spec/index.ts";
import { paramSets, parseParam, runSweep, windowsOf, withParams } from "./sweep.ts";
import { writeSyntheticCatalog } from "./synthetic.ts";
import { T0 } from "./test-support.ts";

const pipeline = {
  apiVersion: "tradepipe.io/v1alpha1",
  kind: "TradingPipeline",
  metadata: { name: "sweep" },
  spec: { ...defaultSpec(), symbols: ["AAPL", "MSFT"] },
} as unknown as TradingPipeline;

describe("sweeps", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tp-sweep-"));
    writeSyntheticCatalog(dir, {
      symbols: { AAPL: 190, MSFT: 410 },
      seed: 30,
      startNs: T0,
      minutes: 6n,
      days: 3,
      varyByDay: true,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("builds the grid, seeded random draws from it, and validated specs", () => {
    const params = [
      parseParam("strategy.rsiPeriod=10,14,20"),
      parseParam("strategy.minConfidence=0.55,0.7"),
    ];
    assert.deepEqual(params[0], { path: "strategy.rsiPeriod", values: [10, 14, 20] });
    assert.equal(paramSets(params).length, 6);
    const a = paramSets(params, 3, 5);
    assert.equal(a.length, 3);
    assert.deepEqual(paramSets(params, 3, 5), a, "same seed, same draws");
    assert.equal(new Set(a.map((s) => JSON.stringify(s))).size, 3, "no repeats");
    assert.equal(withParams(pipeline, { "strategy.rsiPeriod": 10 }).spec.strategy.rsiPeriod, 10);
    assert.throws(() => withParams(pipeline, { "strategy.rsiPeriod": 1 }), /rsiPeriod/);
    assert.throws(() => withParams(pipeline, { "strategy.nope": 1 }), /no field "nope"/);
    assert.throws(() => parseParam("rsiPeriod"), /expected path=value/);
  });

  it("walk-forward: in-sample on each window, out-of-sample on the next; the same table with 1 or 2 workers", async () => {
    const dates = windowsOf(dir, "2026-03-02", "2026-03-04", 2);
    assert.deepEqual(dates, [
      { from: "2026-03-02", to: "2026-03-02" },
      { from: "2026-03-03", to: "2026-03-03" },
      { from: "2026-03-04", to: "2026-03-04" },
    ]);
    const opts = {
      pipeline,
      dataDir: dir,
      from: "2026-03-02",
      to: "2026-03-04",
      params: [parseParam("strategy.rsiPeriod=10,14")],
      folds: 2,
    };
    const two = await runSweep({ ...opts, workers: 2 });
    assert.equal(two.rows.length, 2);
    for (const row of two.rows) {
      assert.deepEqual(
        row.inSample.map((w) => w.from),
        ["2026-03-02", "2026-03-03"],
      );
      assert.deepEqual(
        row.outOfSample.map((w) => w.from),
        ["2026-03-03", "2026-03-04"],
      );
      assert.ok(
        row.inSample.some((w) => w.orders > 0),
        "the strategy traded",
      );
    }
    assert.ok(two.best !== undefined);
    const one = await runSweep({ ...opts, workers: 1 });
    assert.deepEqual(one, two);
    // A window's figures do not depend on the other windows: in-sample of day 2 is out-of-sample of fold 1.
    assert.deepEqual(two.rows[0]!.inSample[1], two.rows[0]!.outOfSample[0]);
  });
});
