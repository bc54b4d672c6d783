/**
 * tracing: OpenTelemetry traces exported over OTLP/HTTP, off unless an endpoint is configured.
 * The SDK (about a second to load) is imported only when tracing is on, so a process without an
 * endpoint pays nothing; its spans are the API's non-recording ones.
 */
import { W3CTraceContextPropagator } from "@opentelemetry/core";

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP base URL, e.g. http://otel-collector:4318; empty or undefined: tracing off. */
  otlpEndpoint?: string | undefined;
}

export interface Tracing {
  enabled: boolean;
  /** Flushes pending spans and stops the SDK (no-op when tracing is off). */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: async () => {} };

/** tracesUrl turns an OTLP base endpoint into the traces URL (`…/v1/traces`). */
export function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, "");
  return base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
}

/** startTracing starts the OpenTelemetry SDK when `otlpEndpoint` is set, else does nothing. */
export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  const endpoint = opts.otlpEndpoint?.trim();
  if (!endpoint) return OFF;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
  ]);
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    traceExporter: new OTLPTraceExporter({ url: tracesUrl(endpoint) }),
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
