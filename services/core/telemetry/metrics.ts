/**
 * metrics: one prom-client Registry per process. tradepipe's own metrics are named
 * `tradepipe_<what>_<unit>` with base units (`_seconds`, `_bytes`, `_total` for counters), as
 * Prometheus asks; the helpers refuse names that break the rule. Node's default process metrics
 * keep their standard names (process_*, nodejs_*) so stock dashboards read them unchanged.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { TradepipeError } from "../errors.ts";

export const METRIC_PREFIX = "tradepipe_";

/**
 * LATENCY_BUCKETS_SECONDS spans 1 µs to 5 s in 1-2.5-5 steps: the fused pipeline's hops are
 * microseconds, broker round trips tens of milliseconds, retries seconds.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05,
  0.1, 0.25, 0.5, 1, 2.5, 5,
];

export interface MetricsOptions {
  /** Labels on every series, e.g. { stage: "risk-manager", pipeline: "default" }. */
  defaultLabels?: Record<string, string>;
  /** Collect Node's process metrics (default true). */
  defaultMetrics?: boolean;
}

export interface Metrics {
  registry: Registry;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge<L extends string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  /** A histogram of seconds with LATENCY_BUCKETS_SECONDS; `name` must end in `_seconds`. */
  latencyHistogram<L extends string>(
    name: string,
    help: string,
    labelNames?: readonly L[],
  ): Histogram<L>;
}

/** metricName adds the tradepipe_ prefix when missing and checks the unit suffix. */
export function metricName(name: string, requiredSuffix?: string): string {
  const full = name.startsWith(METRIC_PREFIX) ? name : `${METRIC_PREFIX}${name}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(full)) {
    throw new TradepipeError("TP_ERR_CONFIG", `metric ${full}: use lower-case snake_case`);
  }
  if (requiredSuffix && !full.endsWith(requiredSuffix)) {
    throw new TradepipeError("TP_ERR_CONFIG", `metric ${full}: name must end in ${requiredSuffix}`);
  }
  return full;
}

/** MISNAMED_DEFAULT_METRICS are prom-client default gauges whose names end in `_total`. */
const MISNAMED_DEFAULT_METRICS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** createMetrics makes the process registry and typed helpers bound to it. */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client names three gauges `*_total`, which Prometheus reserves for counters
    // (`promtool check metrics` flags them); each is the sum of its per-type gauge, kept.
    for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  return {
    registry,
    counter: (name, help, labelNames = []) =>
      new Counter({ name: metricName(name, "_total"), help, labelNames, registers: [registry] }),
    gauge: (name, help, labelNames = []) =>
      new Gauge({ name: metricName(name), help, labelNames, registers: [registry] }),
    latencyHistogram: (name, help, labelNames = []) =>
      new Histogram({
        name: metricName(name, "_seconds"),
        help,
        labelNames,
        buckets: [...LATENCY_BUCKETS_SECONDS],
        registers: [registry],
      }),
  };
}

/** secondsSince turns a process.hrtime.bigint() start into elapsed seconds for observe(). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}
