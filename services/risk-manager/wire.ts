/**
 * wire: hand-written Protocol Buffers codecs for the risk-manager's hot path: reading a
 * `TradingSignal` (proto/tradepipe/v1/signal.proto) and writing an `OrderIntent`
 * (order.proto). The reflective codec of @bufbuild/protobuf costs several microseconds per
 * message — most of this stage's time per signal — while these read and write only what the
 * stage needs. Tests compare them with `fromBinary`/`toBinary` over many values.
 *
 * - decodeSignal reads the header's source, event time, traceparent and origin time (merging
 *   repeated header occurrences as protobuf does: the bus appends one with its stamps),
 *   signal_id, symbol, action and reference_price; it skips confidence, indicators and model.
 * - encodeIntent writes every OrderIntent field the stage sets, in field order, leaving out
 *   default values as proto3 does, so the bytes equal `toBinary`'s.
 * - decodeIntent reads every OrderIntent field back (the header's producer fields merged as in
 *   decodeSignal): the execution engine's reader of the one message its order path starts from.
 *
 * IMPORTANT: `encodeIntent` returns a view of a buffer reused by the next call; the bus copies
 * it when publishing, so publish it at once. `decodeSignal` and `decodeIntent` fill and return
 * `out`.
 */
import type { BusMessage } from "../core/bus/types.ts";
import {
  asBuffer,
  beginMessage,
  clearHeader,
  cursor,
  endMessage,
  ensureRoom,
  type HeaderFields,
  readHeaderInto,
  readLength,
  readVarint,
  skipField,
  writeHeaderBody,
  writeStringField,
  writeVarintField,
} from "../core/messages/proto-wire.ts";
import type { SignalFields as PublishedSignal } from "../signal-bridge/signal-wire.ts";

/** SignalFields: the header (originTimeNs: when market-data read the tick's frame) and signal. */
export interface SignalFields extends HeaderFields {
  signalId: string;
  symbol: string;
  /** action: the SignalAction number (1 BUY, 2 SELL, 3 HOLD). */
  action: number;
  referencePrice: string;
  /** quantity: shares asked for ("" for the pipeline's order quantity); field 10. */
  quantity: string;
  /** limitPrice: the limit asked for ("" for a market order); field 11. */
  limitPrice: string;
}

export function emptySignalFields(): SignalFields {
  return {
    source: "",
    eventTimeNs: 0n,
    traceparent: "",
    originTimeNs: 0n,
    signalId: "",
    symbol: "",
    action: 0,
    referencePrice: "",
    quantity: "",
    limitPrice: "",
  };
}

/** IntentFields: the header (originTimeNs carried from the signal: tick → order) and intent. */
export interface IntentFields extends HeaderFields {
  clientOrderId: string;
  signalId: string;
  symbol: string;
  /** side, orderType, timeInForce, decision: the enum numbers of order.proto / header.proto. */
  side: number;
  qty: string;
  orderType: number;
  limitPrice: string;
  stopPrice: string;
  timeInForce: number;
  decision: number;
  rejectCode: string;
  rejectReason: string;
  decisionPrice: string;
  correlationId: string;
}

export function emptyIntentFields(): IntentFields {
  return {
    source: "",
    eventTimeNs: 0n,
    traceparent: "",
    originTimeNs: 0n,
    clientOrderId: "",
    signalId: "",
    symbol: "",
    side: 0,
    qty: "",
    orderType: 0,
    limitPrice: "",
    stopPrice: "",
    timeInForce: 0,
    decision: 0,
    rejectCode: "",
    rejectReason: "",
    decisionPrice: "",
    correlationId: "",
  };
}

/** copyIntent: a copy for the in-process bus (BusMessage.value); `f` is reused by the next one. */
export function copyIntent(f: IntentFields): IntentFields {
  return { ...f };
}

let buf = Buffer.allocUnsafe(1024);

/** encodeIntent encodes `f` as a tradepipe.v1.OrderIntent (see IMPORTANT above). */
export function encodeIntent(f: IntentFields): Uint8Array {
  const chars =
    f.source.length +
    f.traceparent.length +
    f.clientOrderId.length +
    f.signalId.length +
    f.symbol.length +
    f.qty.length +
    f.limitPrice.length +
    f.stopPrice.length +
    f.rejectCode.length +
    f.rejectReason.length +
    f.decisionPrice.length +
    f.correlationId.length;
  const max = 128 + 3 * chars;
  buf = ensureRoom(buf, max);
  const b = buf;
  const header = beginMessage(b, 0, 0x0a); // field 1
  let p = endMessage(b, header, writeHeaderBody(b, header, f));
  p = writeStringField(b, p, 0x12, f.clientOrderId); // 2
  p = writeStringField(b, p, 0x1a, f.signalId); // 3
  p = writeStringField(b, p, 0x22, f.symbol); // 4
  p = writeVarintField(b, p, 0x28, f.side); // 5
  p = writeStringField(b, p, 0x32, f.qty); // 6
  p = writeVarintField(b, p, 0x38, f.orderType); // 7
  p = writeStringField(b, p, 0x42, f.limitPrice); // 8
  p = writeStringField(b, p, 0x4a, f.stopPrice); // 9
  p = writeVarintField(b, p, 0x50, f.timeInForce); // 10
  p = writeVarintField(b, p, 0x58, f.decision); // 11
  p = writeStringField(b, p, 0x62, f.rejectCode); // 12
  p = writeStringField(b, p, 0x6a, f.rejectReason); // 13
  p = writeStringField(b, p, 0x72, f.decisionPrice); // 14
  p = writeStringField(b, p, 0x7a, f.correlationId); // 15
  return b.subarray(0, p);
}

/** decodeSignal reads a tradepipe.v1.TradingSignal into `out`; throws RangeError on bad bytes. */
export function decodeSignal(bytes: Uint8Array, out: SignalFields): SignalFields {
  const b = asBuffer(bytes);
  clearHeader(out);
  out.signalId = "";
  out.symbol = "";
  out.action = 0;
  out.referencePrice = "";
  out.quantity = "";
  out.limitPrice = "";
  const end = b.length;
  let p = 0;
  while (p < end) {
    const tag = readVarint(b, p, "signal");
    p = cursor.pos;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 4 && wire === 0) {
      out.action = readVarint(b, p, "signal");
      p = cursor.pos;
      continue;
    }
    if (wire !== 2) {
      p = skipField(b, p, wire, "signal");
      continue;
    }
    const e = readLength(b, p, end, "signal");
    const s = cursor.pos;
    switch (field) {
      case 1:
        readHeaderInto(b, s, e, out, "signal");
        break;
      case 2:
        out.signalId = b.toString("utf8", s, e);
        break;
      case 3:
        out.symbol = b.toString("utf8", s, e);
        break;
      case 7:
        out.referencePrice = b.toString("utf8", s, e);
        break;
      case 10:
        out.quantity = b.toString("utf8", s, e);
        break;
      case 11:
        out.limitPrice = b.toString("utf8", s, e);
        break;
    }
    p = e;
  }
  return out;
}

/** decodeIntent reads a tradepipe.v1.OrderIntent into `out`; throws RangeError on bad bytes. */
export function decodeIntent(bytes: Uint8Array, out: IntentFields): IntentFields {
  const b = asBuffer(bytes);
  clearHeader(out);
  out.clientOrderId = "";
  out.signalId = "";
  out.symbol = "";
  out.side = 0;
  out.qty = "";
  out.orderType = 0;
  out.limitPrice = "";
  out.stopPrice = "";
  out.timeInForce = 0;
  out.decision = 0;
  out.rejectCode = "";
  out.rejectReason = "";
  out.decisionPrice = "";
  out.correlationId = "";
  const end = b.length;
  let p = 0;
  while (p < end) {
    const tag = readVarint(b, p, "intent");
    p = cursor.pos;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0 && (field === 5 || field === 7 || field === 10 || field === 11)) {
      const v = readVarint(b, p, "intent");
      p = cursor.pos;
      if (field === 5) out.side = v;
      else if (field === 7) out.orderType = v;
      else if (field === 10) out.timeInForce = v;
      else out.decision = v;
      continue;
    }
    if (wire !== 2) {
      p = skipField(b, p, wire, "intent");
      continue;
    }
    const e = readLength(b, p, end, "intent");
    const s = cursor.pos;
    switch (field) {
      case 1:
        readHeaderInto(b, s, e, out, "intent");
        break;
      case 2:
        out.clientOrderId = b.toString("utf8", s, e);
        break;
      case 3:
        out.signalId = b.toString("utf8", s, e);
        break;
      case 4:
        out.symbol = b.toString("utf8", s, e);
        break;
      case 6:
        out.qty = b.toString("utf8", s, e);
        break;
      case 8:
        out.limitPrice = b.toString("utf8", s, e);
        break;
      case 9:
        out.stopPrice = b.toString("utf8", s, e);
        break;
      case 12:
        out.rejectCode = b.toString("utf8", s, e);
        break;
      case 13:
        out.rejectReason = b.toString("utf8", s, e);
        break;
      case 14:
        out.decisionPrice = b.toString("utf8", s, e);
        break;
      case 15:
        out.correlationId = b.toString("utf8", s, e);
        break;
    }
    p = e;
  }
  return out;
}

/**
 * readSignal: the signal of a delivered `signal` message: on the in-process bus the
 * signal-bridge's own copy (BusMessage.value: no decode; its fields are a superset of these),
 * else the payload decoded into `out`. Throws RangeError on malformed bytes.
 */
export function readSignal(m: BusMessage, out: SignalFields): SignalFields {
  const published = m.value as PublishedSignal | undefined;
  return published !== undefined ? published : decodeSignal(m.payload, out);
}

/**
 * readIntent: the intent of a delivered `order.intent` message: on the in-process bus the
 * risk-manager's own copy (BusMessage.value, published with `{ ...fields }`: no decode), else
 * the payload decoded into `out`. Throws RangeError on malformed bytes.
 */
export function readIntent(m: BusMessage, out: IntentFields): IntentFields {
  const published = m.value as IntentFields | undefined;
  return published !== undefined ? published : decodeIntent(m.payload, out);
}
