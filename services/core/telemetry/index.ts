/** telemetry: logs, metrics and traces for every tradepipe process (see README.md). */
export { afterRun, deferredObserve, type Observer } from "./deferred-observe.ts";
export { createLogger, type Logger, type LoggerOptions } from "./logger.ts";
export {
  createMetrics,
  LATENCY_BUCKETS_SECONDS,
  METRIC_PREFIX,
  type Metrics,
  type MetricsOptions,
  metricName,
  secondsSince,
} from "./metrics.ts";
export { maskSecretsInString, redactValue } from "./redact.ts";
export { extractTraceparent, injectTraceparent } from "./trace-context.ts";
export { startTracing, type Tracing, type TracingOptions, tracesUrl } from "./tracing.ts";
