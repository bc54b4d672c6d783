/**
 * Header construction. The bus stamps `sequence`, `publishTimeNs` and `publisherId` when it
 * publishes, so a producer only fills in what it knows: who it is, when the event happened, the
 * trace it belongs to and when the market-data frame it derives from was read (`originTimeNs`).
 */
import { create } from "@bufbuild/protobuf";
import { type Header, HeaderSchema } from "./gen/tradepipe/v1/header_pb.ts";
import { childTraceparent } from "./trace.ts";

export interface HeaderOptions {
  /** W3C traceparent; defaults to empty (untraced). */
  traceparent?: string;
  /** Normally left to the bus; set only when replaying recorded messages. */
  sequence?: bigint;
  /** Wall-clock ns when the market-data frame this event derives from was read; 0 if none. */
  originTimeNs?: bigint;
}

/** newHeader builds the header of a new event produced by `source` at `eventTimeNs`. */
export function newHeader(
  source: string,
  eventTimeNs: bigint,
  options: HeaderOptions = {},
): Header {
  return create(HeaderSchema, {
    source,
    eventTimeNs,
    traceparent: options.traceparent ?? "",
    sequence: options.sequence ?? 0n,
    originTimeNs: options.originTimeNs ?? 0n,
  });
}

/**
 * headerFrom builds the header of an event caused by `cause` (e.g. a signal caused by a quote):
 * the event time and the origin time are carried over and the trace continues with a new span.
 */
export function headerFrom(
  source: string,
  cause: Pick<Header, "traceparent" | "eventTimeNs" | "originTimeNs"> | undefined,
  eventTimeNs?: bigint,
): Header {
  const traceparent = cause?.traceparent ? childTraceparent(cause.traceparent) : "";
  return newHeader(source, eventTimeNs ?? cause?.eventTimeNs ?? 0n, {
    traceparent,
    originTimeNs: cause?.originTimeNs ?? 0n,
  });
}
