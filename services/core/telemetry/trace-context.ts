/**
 * trace-context: W3C `traceparent` strings for the bus message header, so a trace continues
 * from stage to stage. Works whether or not tracing is exporting: with no active span there is
 * nothing to carry and the header is empty.
 */
import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

const w3c = new W3CTraceContextPropagator();

/**
 * injectTraceparent returns the `traceparent` of the span in `ctx` (default: the active
 * context), or "" when there is no valid span.
 */
export function injectTraceparent(ctx: Context = context.active()): string {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent ?? "";
}

/**
 * extractTraceparent returns `ctx` (default: the root context) with the remote span context of
 * `traceparent` set as parent; a missing or malformed header leaves `ctx` unchanged.
 */
export function extractTraceparent(traceparent: string, ctx: Context = ROOT_CONTEXT): Context {
  if (!traceparent) return ctx;
  return w3c.extract(ctx, { traceparent }, defaultTextMapGetter);
}
