/**
 * The CRD on a real kube-apiserver: it is accepted, its defaults equal parsePipeline's, and the
 * apiserver refuses exactly what parsePipeline refuses, at the same paths, with the same words.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { CRD_FILE } from "../../services/core/spec/crd.ts";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { type ApiServer, startApiServer } from "./apiserver.ts";

const root = new URL("../../", import.meta.url);
const manifest = (name: string, spec: unknown) => ({
  apiVersion: "tradepipe.io/v1alpha1",
  kind: "TradingPipeline",
  metadata: { name },
  spec,
});

/** CASES: specs the two validators must judge alike (no expected text: they must agree). */
const CASES: [string, unknown][] = [
  ["negative-count", { risk: { maxOpenPositions: -1 } }],
  ["negative-money", { risk: { maxDailyLoss: "-5000" } }],
  ["fractional-cpu", { stages: { marketData: { resources: { cpu: 1.5 } } } }],
  ["memory-no-unit", { stages: { signalBridge: { resources: { memory: "1000" } } } }],
  ["bad-enum", { broker: { kind: "ibkr" } }],
  ["duplicate-symbol", { symbols: ["AAPL", "NVDA", "AAPL"] }],
  ["macd", { strategy: { macdFast: 26 } }],
  ["rsi", { strategy: { rsiOversold: 80 } }],
  ["retries", { execution: { retries: { maxAttempts: 4 } } }],
  ["alpaca-no-keys", { broker: { kind: "alpaca" } }],
  ["alpaca-keys", { broker: { kind: "alpaca", credentialsSecretRef: { name: "alpaca" } } }],
  ["sync-one-instance", { database: { instances: 1 } }],
  ["async-one-instance", { database: { instances: 1, synchronous: false } }],
  [
    "colocated-uneven",
    { placement: { topology: "colocated" }, stages: { riskManager: { replicas: 3 } } },
  ],
  ["colocated", { placement: { topology: "colocated" } }],
  [
    "toleration-exists-value",
    { placement: { tolerations: [{ key: "k", operator: "Exists", value: "v" }] } },
  ],
  ["toleration-no-key", { placement: { tolerations: [{ value: "v" }] } }],
  [
    "toleration-seconds",
    {
      placement: {
        tolerations: [{ key: "k", value: "v", effect: "NoSchedule", tolerationSeconds: 5 }],
      },
    },
  ],
  [
    "trading-nodes",
    {
      placement: {
        nodeSelector: { "tradepipe.io/trading-node": "true" },
        tolerations: [{ key: "tradepipe.io/trading", operator: "Exists", effect: "NoSchedule" }],
      },
    },
  ],
];

describe("the CRD on a real apiserver", { timeout: 300_000 }, () => {
  let api: ApiServer;
  before(async () => {
    api = await startApiServer();
  });
  after(async () => {
    await api?.stop();
  });

  it("is accepted and established", async () => {
    const applied = await api.kubectl([
      "apply",
      "--server-side",
      "-f",
      new URL(CRD_FILE, root).pathname,
    ]);
    assert.equal(applied.code, 0, applied.stderr);
    const established = await api.kubectl([
      "wait",
      "--for=condition=Established",
      "crd/tradingpipelines.tradepipe.io",
      "--timeout=60s",
    ]);
    assert.equal(established.code, 0, established.stderr);
  });

  it("defaults config/pipeline.yaml exactly as parsePipeline does", async () => {
    const text = await readFile(new URL("config/pipeline.yaml", root), "utf8");
    const created = await api.kubectl(["apply", "-f", "-"], text);
    assert.equal(created.code, 0, created.stderr);
    const got = await api.kubectl(["get", "tp", "local", "-o", "json"]);
    const stored = JSON.parse(got.stdout);
    const local = parsePipeline(text);
    assert.ok(local.ok);
    assert.deepEqual(stored.spec, local.pipeline.spec);
    assert.equal(parsePipeline(stored).ok, true, "an object read back from the apiserver parses");
  });

  it("shows the printer columns and accepts a status with conditions", async () => {
    const status = {
      phase: "Running",
      trading: true,
      primary: "local-db-1",
      observedGeneration: 1,
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "AllReady",
          message: "",
          lastTransitionTime: "2026-01-02T03:04:05Z",
        },
      ],
    };
    const patched = await api.kubectl([
      "patch",
      "tp",
      "local",
      "--subresource=status",
      "--type=merge",
      `-p=${JSON.stringify({ status })}`,
    ]);
    assert.equal(patched.code, 0, patched.stderr);
    const table = await api.kubectl(["get", "tp"]);
    const [header, row] = table.stdout.trim().split("\n");
    assert.deepEqual(header!.split(/\s+/), ["NAME", "PHASE", "TRADING", "PRIMARY", "AGE"]);
    assert.match(row!, /^local\s+Running\s+true\s+local-db-1\s+/);
  });

  it("documents the fields for kubectl explain", async () => {
    const explained = await api.kubectl(["explain", "tradingpipeline.spec.risk"]);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(
      explained.stdout,
      /maxOpenPositions\s+<integer>\n\s+Most symbols with a non-zero position/,
    );
  });

  for (const [name, spec] of CASES) {
    it(`judges "${name}" as parsePipeline does`, async () => {
      const m = manifest(name, spec);
      const ours = parsePipeline(m);
      const theirs = await api.kubectl(["apply", "--dry-run=server", "-f", "-"], stringify(m));
      assert.equal(theirs.code === 0, ours.ok, `apiserver: ${theirs.stderr || "accepted"}`);
      if (ours.ok) return;
      for (const e of ours.errors) {
        const fromRule = !/^(must|unknown|duplicate|is required)/.test(e.message);
        assert.ok(
          theirs.stderr.includes(e.path.split(".").at(-1)!),
          `${e.path} not in: ${theirs.stderr}`,
        );
        if (fromRule)
          assert.ok(
            theirs.stderr.includes(`${e.path}: `) && theirs.stderr.includes(e.message),
            theirs.stderr,
          );
      }
    });
  }

  it("refuses names that can't name child objects, with the same message", async () => {
    for (const name of ["a234567890123456789012345678901", "prod.eu"]) {
      const m = manifest(name, {});
      const ours = parsePipeline(m);
      assert.equal(ours.ok, false);
      const theirs = await api.kubectl(["apply", "--dry-run=server", "-f", "-"], stringify(m));
      assert.notEqual(theirs.code, 0);
      if (!ours.ok) assert.ok(theirs.stderr.includes(ours.errors[0]!.message), theirs.stderr);
    }
  });

  it("refuses unknown fields (strict field validation)", async () => {
    const m = manifest("unknown-field", { risk: { maxOpenPosition: 3 } });
    const theirs = await api.kubectl(["apply", "--dry-run=server", "-f", "-"], stringify(m));
    assert.notEqual(theirs.code, 0);
    assert.match(theirs.stderr, /unknown field "spec\.risk\.maxOpenPosition"/);
  });

  it("has no CRD on disk that differs from what was applied", async () => {
    const got = await api.kubectl(["get", "crd", "tradingpipelines.tradepipe.io", "-o", "json"]);
    const served = JSON.parse(got.stdout).spec.versions[0].schema.openAPIV3Schema;
    const file = parse(await readFile(new URL(CRD_FILE, root), "utf8"));
    assert.deepEqual(served, file.spec.versions[0].schema.openAPIV3Schema);
  });
});
