/**
 * promtool check metrics on each stage's registry as a stage process builds it (its own metrics,
 * the bus observer's and Node's defaults, labelled with stage and pipeline): no naming problem.
 * prometheus-e2e.test.ts checks the exposition of a whole running pipeline the same way.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { createMetrics, type Metrics } from "../../services/core/telemetry/index.ts";
import { executionMetrics } from "../../services/execution-engine/metrics.ts";
import { marketDataMetrics } from "../../services/market-data/metrics.ts";
import { busObserver, sharedMetrics } from "../../services/pipeline/metrics.ts";
import { trackerMetrics } from "../../services/position-tracker/metrics.ts";
import { riskMetrics } from "../../services/risk-manager/metrics.ts";
import { signalBridgeMetrics } from "../../services/signal-bridge/metrics.ts";
import { PROMTOOL, run } from "./support.ts";

const STAGES: Record<string, (m: Metrics) => unknown> = {
  "market-data": marketDataMetrics,
  "signal-bridge": signalBridgeMetrics,
  "risk-manager": riskMetrics,
  "execution-engine": executionMetrics,
  "position-tracker": trackerMetrics,
};

for (const [stage, build] of Object.entries(STAGES)) {
  it(`promtool check metrics: ${stage}`, async () => {
    const metrics = sharedMetrics(createMetrics({ defaultLabels: { stage, pipeline: "p" } }));
    build(metrics);
    busObserver(metrics, () => 0n);
    const exposition = await metrics.registry.metrics();
    assert.match(exposition, /^# HELP tradepipe_/m);
    const r = await run(PROMTOOL, ["check", "metrics"], exposition);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });
}

it("promtool check metrics reports a misnamed metric (the check can fail)", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.gauge("queue_total", "A gauge wrongly named like a counter.");
  const r = await run(PROMTOOL, ["check", "metrics"], await metrics.registry.metrics());
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stdout + r.stderr, /tradepipe_queue_total/);
});
