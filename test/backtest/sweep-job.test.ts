/**
 * The sweep as a Kubernetes Indexed Job: `tradepipe backtest sweep --render kubernetes` writes a
 * ConfigMap and an Indexed Job the real kube-apiserver accepts (server-side dry run, with the
 * apiserver's own defaults and validation); the shards, each run as its own process with the
 * JOB_COMPLETION_INDEX a Job gives its pods, merge into the single-process sweep's report.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { mergeShards } from "../../services/backtest/sweep-shards.ts";
import { writeSyntheticCatalog } from "../../services/backtest/synthetic.ts";
import { T0, testPipeline } from "../../services/backtest/test-support.ts";
import { type ApiServer, startApiServer } from "../spec/apiserver.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHARDS = 3;

describe("sweep on Kubernetes: Indexed Job, shards, merge", { timeout: 600_000 }, () => {
  let dir: string;
  let spec: string;
  const sweepArgs = [
    "--from",
    "2026-03-02",
    "--to",
    "2026-03-04",
    "--param",
    "strategy.rsiPeriod=10,14",
    "--param",
    "strategy.minConfidence=0.55,0.7",
    "--folds",
    "2",
  ];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tp-sweep-job-"));
    writeSyntheticCatalog(join(dir, "catalog"), {
      symbols: { AAPL: 190, MSFT: 410 },
      seed: 30,
      startNs: T0,
      minutes: 6n,
      days: 3,
      varyByDay: true,
    });
    spec = join(dir, "pipeline.yaml");
    writeFileSync(spec, stringify(testPipeline(["AAPL", "MSFT"])));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const tradepipe = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    run(process.execPath, ["bin/tradepipe.ts", ...args], { cwd: ROOT, env, maxBuffer: 1 << 24 });

  it("shards run with JOB_COMPLETION_INDEX merge into the single-process sweep's report", async () => {
    const whole = join(dir, "whole");
    const base = ["backtest", "sweep", "-f", spec, "--data", join(dir, "catalog"), ...sweepArgs];
    await tradepipe([...base, "--workers", "2", "--out", whole]);
    const shards = join(dir, "shards");
    // One process per index, as the Job's pods: the index comes from the environment.
    await Promise.all(
      Array.from({ length: SHARDS }, (_, i) =>
        tradepipe([...base, "--workers", "1", "--shards", String(SHARDS), "--out", shards], {
          ...process.env,
          JOB_COMPLETION_INDEX: String(i),
        }),
      ),
    );
    assert.deepEqual(readdirSync(shards).sort(), [
      "shard-0-of-3.json",
      "shard-1-of-3.json",
      "shard-2-of-3.json",
    ]);
    const merged = await tradepipe(["backtest", "sweep", "merge", "--out", shards]);
    assert.match(merged.stdout, /best in sample: /);
    const single = JSON.parse(readFileSync(join(whole, "sweep.json"), "utf8"));
    const combined = JSON.parse(readFileSync(join(shards, "sweep.json"), "utf8"));
    assert.equal(single.rows.length, 4, "2 × 2 parameter sets");
    assert.deepEqual(combined, single, "the merged report is the single-process one");
    // A missing shard is an error naming it, not a shorter table.
    rmSync(join(shards, "shard-1-of-3.json"));
    assert.throws(() => mergeShards(shards), /shards 1 of 3 are missing/);
  });

  describe("the manifest on a real apiserver", () => {
    let api: ApiServer;
    before(async () => {
      api = await startApiServer();
    });
    after(async () => {
      await api?.stop();
    });

    it("is an Indexed Job the apiserver accepts, one pod per shard", async () => {
      const { stdout } = await tradepipe([
        "backtest",
        "sweep",
        "-f",
        spec,
        ...sweepArgs,
        "--render",
        "kubernetes",
        "--shards",
        String(SHARDS),
        "--parallelism",
        "2",
        "--name",
        "rsi-sweep",
        "--namespace",
        "default",
      ]);
      const docs = parseAllDocuments(stdout).map((d) => d.toJSON());
      const job = docs.find((d) => d.kind === "Job");
      assert.equal(job.spec.completionMode, "Indexed");
      assert.equal(job.spec.completions, SHARDS);
      assert.equal(job.spec.parallelism, 2);
      const args: string[] = job.spec.template.spec.containers[0].args;
      assert.deepEqual(args.slice(0, 2), ["backtest", "sweep"]);
      assert.ok(args.includes("--shards") && args.includes("strategy.rsiPeriod=10,14"));
      const applied = await api.kubectl(
        ["apply", "--dry-run=server", "-o", "json", "-f", "-"],
        stdout,
      );
      assert.equal(applied.code, 0, applied.stderr);
      const items = JSON.parse(applied.stdout);
      const accepted = (items.items ?? [items]).find((o: { kind: string }) => o.kind === "Job");
      // The apiserver's defaults on an Indexed Job: the pod template gets the completion index.
      assert.equal(accepted.spec.completionMode, "Indexed");
      assert.equal(accepted.spec.completions, SHARDS);
      // A broken manifest is refused by the same apiserver (the check is not a formality).
      const broken = stdout.replace("completionMode: Indexed", "completionMode: Sideways");
      const refused = await api.kubectl(["apply", "--dry-run=server", "-f", "-"], broken);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /completionMode/);
    });
  });
});
