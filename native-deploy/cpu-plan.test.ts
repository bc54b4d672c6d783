import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePipeline, type TradingPipeline } from "../services/core/spec/index.ts";
import { CpuPlanError, planCpus } from "./cpu-plan.ts";

function pipeline(cpus: Record<string, number>): TradingPipeline {
  const stages = Object.fromEntries(
    Object.entries(cpus).map(([name, cpu]) => [name, { resources: { cpu } }]),
  );
  const r = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "cpus" },
    spec: { stages },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.pipeline;
}

test("every stage gets its own CPUs, in pipeline order, starting after CPU 0", () => {
  const plan = planCpus(
    pipeline({
      marketData: 2,
      signalBridge: 1,
      riskManager: 1,
      executionEngine: 3,
      positionTracker: 1,
    }),
  );
  assert.deepEqual(Object.fromEntries(plan), {
    "market-data": [1, 2],
    "signal-bridge": [3],
    "risk-manager": [4],
    "execution-engine": [5, 6, 7],
    "position-tracker": [8],
  });
  const all = [...plan.values()].flat();
  assert.equal(new Set(all).size, all.length, "no CPU is given twice");
});

test("a plan that does not fit the host is refused with the numbers", () => {
  assert.throws(
    () => planCpus(pipeline({ executionEngine: 4 }), { hostCpus: 8 }),
    (e) => e instanceof CpuPlanError && /need CPUs 1\.\.8, but the host has 8/.test(e.message),
  );
  assert.equal(
    planCpus(pipeline({}), { firstCpu: 2, hostCpus: 7 }).get("position-tracker")?.[0],
    6,
  );
});
