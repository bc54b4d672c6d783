import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const repo = new URL("../../", import.meta.url).pathname;

function tradepipe(
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/tradepipe.ts", ...args], { cwd: repo });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

describe("tradepipe validate", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tradepipe-validate-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints OK and a summary for the default pipeline", async () => {
    const r = await tradepipe(["validate"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^OK config\/pipeline\.yaml\n/);
    assert.match(r.stdout, /pipeline\s+local/);
    assert.match(r.stdout, /symbols\s+AAPL, MSFT, GOOGL, AMZN, NVDA/);
    assert.equal(r.stderr, "");
  });

  it("prints each path: message and exits 1", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(
      bad,
      [
        "apiVersion: tradepipe.io/v1alpha1",
        "kind: TradingPipeline",
        "metadata: {name: demo}",
        "spec:",
        "  risk: {maxOpenPositions: 0}",
        "  stages: {marketData: {resources: {cpu: 0.5}}}",
        "  strategy: {macdFast: 30}",
        "",
      ].join("\n"),
    );
    const r = await tradepipe(["validate", "-f", bad]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      [
        "spec.stages.marketData.resources.cpu: must be an integer (got 0.5)",
        "spec.risk.maxOpenPositions: must be >= 1 (got 0)",
        "spec.strategy.macdFast: macdFast must be less than macdSlow",
        `${bad}: 3 errors`,
        "",
      ].join("\n"),
    );
  });

  it("reads standard input and prints the defaulted manifest with --print", async () => {
    const r = await tradepipe(
      ["validate", "-f", "-", "--print"],
      "apiVersion: tradepipe.io/v1alpha1\nkind: TradingPipeline\nmetadata: {name: demo}\nspec: {}\n",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /maxNotionalPerSymbol: "50000"/);
    assert.match(r.stdout, /backoffSeconds:\n\s+- 1\n\s+- 2\n\s+- 4/);
  });

  it("warns about symbols without a sector", async () => {
    const sectors = join(dir, "sectors.yaml");
    await writeFile(sectors, "sectors:\n  AAPL: Information Technology\n");
    const r = await tradepipe(["validate", "--sectors", sectors]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: no sector in .* for MSFT, GOOGL, AMZN, NVDA/);
  });

  it("refuses unknown options with usage and exit 2", async () => {
    const r = await tradepipe(["validate", "--nope"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: tradepipe validate/);
  });
});
