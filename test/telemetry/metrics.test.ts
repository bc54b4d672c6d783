import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../services/core/errors.ts";
import {
  createMetrics,
  LATENCY_BUCKETS_SECONDS,
  metricName,
} from "../../services/core/telemetry/metrics.ts";

test("createMetrics exposes default process metrics and prefixed tradepipe metrics", async () => {
  const m = createMetrics({ defaultLabels: { stage: "risk-manager" } });
  const rejects = m.counter("risk_rejects_total", "Orders refused, by reason.", ["reason"]);
  rejects.inc({ reason: "max_notional" });
  const text = await m.registry.metrics();
  assert.match(text, /^process_cpu_seconds_total/m);
  assert.match(text, /^nodejs_heap_size_total_bytes/m);
  assert.match(
    text,
    /^tradepipe_risk_rejects_total\{reason="max_notional",stage="risk-manager"\} 1$/m,
  );
});

test("latencyHistogram records seconds with buckets from microseconds to seconds", async () => {
  const m = createMetrics({ defaultMetrics: false });
  const h = m.latencyHistogram("tick_to_order_seconds", "Tick to order on the wire.", ["mode"]);
  h.observe({ mode: "fused" }, 30e-6);
  h.observe({ mode: "fused" }, 2);
  const text = await m.registry.metrics();
  assert.match(text, /tradepipe_tick_to_order_seconds_bucket\{le="0.000001",mode="fused"\} 0/);
  assert.match(text, /tradepipe_tick_to_order_seconds_bucket\{le="0.00005",mode="fused"\} 1/);
  assert.match(text, /tradepipe_tick_to_order_seconds_bucket\{le="2.5",mode="fused"\} 2/);
  assert.match(text, /tradepipe_tick_to_order_seconds_count\{mode="fused"\} 2/);
  assert.equal(LATENCY_BUCKETS_SECONDS[0], 1e-6);
  const sorted = [...LATENCY_BUCKETS_SECONDS].sort((a, b) => a - b);
  assert.deepEqual([...LATENCY_BUCKETS_SECONDS], sorted);
});

test("metric names must carry their base unit", () => {
  const m = createMetrics({ defaultMetrics: false });
  assert.throws(
    () => m.latencyHistogram("tick_to_order_ms", "wrong unit"),
    (e: unknown) => isTradepipeError(e, "TP_ERR_CONFIG") && /_seconds/.test(e.message),
  );
  assert.throws(() => m.counter("orders_sent", "no _total"), /must end in _total/);
  assert.throws(() => metricName("Bad-Name"), /snake_case/);
  assert.equal(metricName("tradepipe_x_bytes"), "tradepipe_x_bytes");
  assert.equal(metricName("x_bytes"), "tradepipe_x_bytes");
});
