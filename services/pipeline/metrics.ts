/**
 * metrics: the pipeline host's metrics. `sharedMetrics` makes metric creation idempotent, so
 * stages that share a process (the fused mode) and ask for the same metric get the one instance
 * instead of a duplicate-registration error.
 */
import type { Counter, Gauge, Histogram } from "prom-client";
import type { BusObserver } from "../core/bus/index.ts";
import type { Metrics } from "../core/telemetry/index.ts";
import { deferredObserve, metricName } from "../core/telemetry/index.ts";

export function sharedMetrics(base: Metrics): Metrics {
  const existing = <T>(name: string, suffix?: string): T | undefined =>
    base.registry.getSingleMetric(metricName(name, suffix)) as T | undefined;
  return {
    registry: base.registry,
    counter: (name, help, labels) =>
      existing<Counter>(name, "_total") ?? base.counter(name, help, labels),
    gauge: (name, help, labels) => existing<Gauge>(name) ?? base.gauge(name, help, labels),
    latencyHistogram: (name, help, labels) =>
      existing<Histogram>(name, "_seconds") ?? base.latencyHistogram(name, help, labels),
  } as Metrics;
}

/** busObserver counts gaps and duplicates and times every hop from publish to delivery. */
export function busObserver(metrics: Metrics, nowNs: () => bigint): BusObserver {
  const gaps = metrics.counter("bus_gaps_total", "Sequence gaps seen by subscribers.", ["topic"]);
  const missing = metrics.counter(
    "bus_messages_missed_total",
    "Messages missing inside sequence gaps.",
    ["topic"],
  );
  const stale = metrics.counter(
    "bus_messages_stale_total",
    "Duplicate or reordered messages dropped by subscribers.",
  );
  // Every delivery is timed: in the fused mode several per tick on the tick → order path, so
  // the observation is deferred to the end of the run (deferred-observe.ts).
  const hop = deferredObserve(
    metrics.latencyHistogram(
      "bus_hop_latency_seconds",
      "Time from publish to delivery of a bus message.",
    ),
  );
  return {
    gap(topic, n) {
      gaps.inc({ topic: topic.split("/")[0] ?? topic });
      missing.inc({ topic: topic.split("/")[0] ?? topic }, n);
    },
    stale() {
      stale.inc();
    },
    delivered(_topic, publishTimeNs) {
      hop(Number(nowNs() - publishTimeNs) / 1e9);
    },
  };
}
