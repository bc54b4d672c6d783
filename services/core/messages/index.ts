/**
 * messages: the generated Protocol Buffers types of every bus message plus helpers for headers,
 * trace context and clocks. Import message types and schemas from here, not from gen/.
 */
export * from "./gen/tradepipe/v1/control_pb.ts";
export * from "./gen/tradepipe/v1/header_pb.ts";
export * from "./gen/tradepipe/v1/market_data_pb.ts";
export * from "./gen/tradepipe/v1/order_pb.ts";
export * from "./gen/tradepipe/v1/position_pb.ts";
export * from "./gen/tradepipe/v1/risk_pb.ts";
export * from "./gen/tradepipe/v1/signal_pb.ts";
export { type HeaderOptions, headerFrom, newHeader } from "./header.ts";
export { type ClockNs, monotonicClockNs, wallClockNs } from "./time.ts";
export {
  childTraceparent,
  formatTraceparent,
  newTraceparent,
  parseTraceparent,
  type TraceContext,
} from "./trace.ts";
