/**
 * quote-wire: a hand-written Protocol Buffers codec for the one message on every tick, `Quote`
 * (proto/tradepipe/v1/market_data.proto). The reflective codec of @bufbuild/protobuf costs a few
 * microseconds per encode and per decode, which is most of a fused hop; this one writes the same
 * bytes (a test compares them with `toBinary` over many values) into a reused buffer and reads
 * the fields a tick consumer needs into a reused object.
 *
 * Scope: the encoder writes what the market-data stage fills (header source, event time,
 * traceparent and origin time; symbol; bid/ask price and size). The decoder reads those, skips every other field,
 * and merges repeated header occurrences as protobuf does (the bus appends a second header with
 * its stamps).
 *
 * IMPORTANT: `encodeQuote` returns a view of a buffer reused by the next call; the bus copies it
 * when publishing, so publish it at once. `decodeQuote` fills and returns `out`.
 */
import type { Bus, BusMessage, Subscription } from "../core/bus/types.ts";

export interface QuoteFields {
  source: string;
  eventTimeNs: bigint;
  traceparent: string;
  /** Wall-clock ns when market-data read the feed frame (header origin_time_ns); 0 if none. */
  originTimeNs: bigint;
  symbol: string;
  bidPrice: string;
  bidSize: string;
  askPrice: string;
  askSize: string;
}

export function emptyQuoteFields(): QuoteFields {
  return {
    source: "",
    eventTimeNs: 0n,
    traceparent: "",
    originTimeNs: 0n,
    symbol: "",
    bidPrice: "",
    bidSize: "",
    askPrice: "",
    askSize: "",
  };
}

let buf = Buffer.allocUnsafe(512);

/** encodeQuote encodes `q` as a tradepipe.v1.Quote (see IMPORTANT above). */
export function encodeQuote(q: QuoteFields): Uint8Array {
  const max =
    64 +
    3 *
      (q.source.length +
        q.traceparent.length +
        q.symbol.length +
        q.bidPrice.length +
        q.bidSize.length +
        q.askPrice.length +
        q.askSize.length);
  if (buf.length < max) buf = Buffer.allocUnsafe(max * 2);
  // The header's length is needed before it is written: strings are written past a one-byte
  // length guess and moved if the guess is wrong (never for a normal header, < 128 bytes).
  let p = 0;
  buf[p++] = 0x0a; // field 1 (header), length-delimited
  const lenAt = p++;
  const start = p;
  p = writeString(buf, p, 0x0a, q.source);
  if (q.eventTimeNs !== 0n) {
    buf[p++] = 0x19; // field 3 (event_time_ns), fixed64
    buf.writeBigUInt64LE(BigInt.asUintN(64, q.eventTimeNs), p);
    p += 8;
  }
  p = writeString(buf, p, 0x2a, q.traceparent);
  if (q.originTimeNs !== 0n) {
    buf[p++] = 0x39; // field 7 (origin_time_ns), fixed64
    buf.writeBigUInt64LE(BigInt.asUintN(64, q.originTimeNs), p);
    p += 8;
  }
  const headerLen = p - start;
  if (headerLen < 128) {
    buf[lenAt] = headerLen;
  } else {
    const n = varintLength(headerLen);
    buf.copy(buf, start + n - 1, start, p);
    writeVarint(buf, lenAt, headerLen);
    p += n - 1;
  }
  p = writeString(buf, p, 0x12, q.symbol);
  p = writeString(buf, p, 0x1a, q.bidPrice);
  p = writeString(buf, p, 0x22, q.bidSize);
  p = writeString(buf, p, 0x2a, q.askPrice);
  p = writeString(buf, p, 0x32, q.askSize);
  return buf.subarray(0, p);
}

function writeString(b: Buffer, p: number, tag: number, s: string): number {
  if (s.length === 0) return p;
  b[p++] = tag;
  const lenAt = p;
  // Reserve one length byte for the common short string; move for longer ones.
  const written = b.write(s, lenAt + 1, "utf8");
  if (written < 128) {
    b[lenAt] = written;
    return lenAt + 1 + written;
  }
  const n = varintLength(written);
  b.copy(b, lenAt + n, lenAt + 1, lenAt + 1 + written);
  writeVarint(b, lenAt, written);
  return lenAt + n + written;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(b: Buffer, p: number, v: number): number {
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}

/** After readVarint: the position just past the varint it read. */
let next = 0;

/** decodeQuote reads a tradepipe.v1.Quote into `out`; throws RangeError on malformed bytes. */
export function decodeQuote(bytes: Uint8Array, out: QuoteFields): QuoteFields {
  const b = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  out.source = "";
  out.eventTimeNs = 0n;
  out.traceparent = "";
  out.originTimeNs = 0n;
  out.symbol = "";
  out.bidPrice = "";
  out.bidSize = "";
  out.askPrice = "";
  out.askSize = "";
  const end = b.length;
  let p = 0;
  while (p < end) {
    const tag = readVarint(b, p);
    p = next;
    const wire = tag & 7;
    if (wire !== 2) {
      p = skip(b, p, wire);
      continue;
    }
    const len = readVarint(b, p);
    const s = next;
    const e = s + len;
    if (e > end) throw new RangeError("quote: field runs past the end");
    switch (tag >>> 3) {
      case 1:
        decodeHeader(b, s, e, out);
        break;
      case 2:
        out.symbol = b.toString("utf8", s, e);
        break;
      case 3:
        out.bidPrice = b.toString("utf8", s, e);
        break;
      case 4:
        out.bidSize = b.toString("utf8", s, e);
        break;
      case 5:
        out.askPrice = b.toString("utf8", s, e);
        break;
      case 6:
        out.askSize = b.toString("utf8", s, e);
        break;
    }
    p = e;
  }
  return out;
}

function decodeHeader(b: Buffer, p: number, end: number, out: QuoteFields): void {
  while (p < end) {
    const tag = readVarint(b, p);
    p = next;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 3 && wire === 1) {
      if (p + 8 > end) throw new RangeError("quote header: truncated event time");
      out.eventTimeNs = b.readBigUInt64LE(p);
      p += 8;
    } else if (field === 7 && wire === 1) {
      if (p + 8 > end) throw new RangeError("quote header: truncated origin time");
      out.originTimeNs = b.readBigUInt64LE(p);
      p += 8;
    } else if ((field === 1 || field === 5) && wire === 2) {
      const len = readVarint(b, p);
      const s = next;
      if (s + len > end) throw new RangeError("quote header: field runs past the end");
      const text = b.toString("utf8", s, s + len);
      if (field === 1) out.source = text;
      else out.traceparent = text;
      p = s + len;
    } else {
      p = skip(b, p, wire);
    }
  }
}

function readVarint(b: Buffer, p: number): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (p >= b.length) throw new RangeError("quote: truncated varint");
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) break;
    mul *= 128;
  }
  next = p;
  return v;
}

function skip(b: Buffer, p: number, wire: number): number {
  const to = skipTo(b, p, wire);
  if (to > b.length) throw new RangeError("quote: field runs past the end");
  return to;
}

function skipTo(b: Buffer, p: number, wire: number): number {
  switch (wire) {
    case 0:
      readVarint(b, p);
      return next;
    case 1:
      return p + 8;
    case 2: {
      const len = readVarint(b, p);
      return next + len;
    }
    case 5:
      return p + 4;
    default:
      throw new RangeError(`quote: unsupported wire type ${wire}`);
  }
}

/**
 * subscribeQuotes delivers the quotes on topics matching `filters`, decoded by decodeQuote into
 * one reused QuoteFields (valid until the handler returns: copy what you keep). For every
 * md.quote consumer: in the fused pipeline each of them decodes every quote before the signal it
 * causes is delivered, so a cheap decode shortens the tick → order path. Undecodable frames go
 * to `onInvalid` and never throw into the bus.
 */
export function subscribeQuotes(
  bus: Bus,
  filters: readonly string[],
  handler: (quote: QuoteFields, message: BusMessage) => void,
  onInvalid: (err: Error, message: BusMessage) => void,
): Subscription {
  const fields = emptyQuoteFields();
  return bus.subscribe(filters, (m) => {
    try {
      decodeQuote(m.payload, fields);
    } catch (err) {
      onInvalid(err as Error, m);
      return;
    }
    handler(fields, m);
  });
}
