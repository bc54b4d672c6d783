/**
 * W3C Trace Context helpers for the `traceparent` carried in every message header
 * (https://www.w3.org/TR/trace-context/#traceparent-header): version 00, a 16-byte trace id,
 * an 8-byte parent span id and flags. Stages continue a trace with `childTraceparent` so one
 * market event can be followed through every hop.
 */
import { randomBytes } from "node:crypto";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

/** parseTraceparent returns the context, or undefined when the value is absent or malformed. */
export function parseTraceparent(value: string): TraceContext | undefined {
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const [, traceId, spanId, flags] = m as unknown as [string, string, string, string];
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** formatTraceparent renders a context as a version-00 traceparent. */
export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? "01" : "00"}`;
}

/** newTraceparent starts a new trace (a root span). */
export function newTraceparent(sampled = true): string {
  return formatTraceparent({ traceId: nonZeroHex(16), spanId: nonZeroHex(8), sampled });
}

/**
 * childTraceparent continues `parent`'s trace with a new span id; with an absent or malformed
 * parent it starts a new trace, as the specification asks of a receiver.
 */
export function childTraceparent(parent: string, sampled = true): string {
  const ctx = parseTraceparent(parent);
  if (!ctx) return newTraceparent(sampled);
  return formatTraceparent({ traceId: ctx.traceId, spanId: nonZeroHex(8), sampled: ctx.sampled });
}

function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString("hex");
    if (/[^0]/.test(hex)) return hex;
  }
}
