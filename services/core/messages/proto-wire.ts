/**
 * proto-wire: the Protocol Buffers wire primitives shared by the hand-written hot-path codecs
 * (market-data's quote-wire, signal-bridge's signal-wire, risk-manager's wire), and the
 * `Header` (header.proto) every bus message carries as field 1.
 *
 * Writers take a Buffer and a position and return the position after what they wrote; readers
 * take a Buffer and a position and leave the position after what they read in `cursor.pos`.
 * There is no writer or reader object to make per message: the codecs exist for speed, and
 * these functions are shaped for V8 to inline them (see writeHeaderBody and SHORT_ASCII).
 *
 * Field writers leave out default values (0, 0n, "") as proto3 does, so a codec that writes its
 * fields in field-number order writes exactly the bytes of @bufbuild/protobuf's `toBinary`.
 *
 * IMPORTANT: a writer does not check room. A caller sizes its buffer first: at most
 * 3 bytes per UTF-16 unit of every string plus 16 bytes per other field (`ensureRoom`).
 */

/** HeaderFields: the header fields a producer sets; the bus stamps sequence and the rest. */
export interface HeaderFields {
  source: string;
  eventTimeNs: bigint;
  traceparent: string;
  /** origin_time_ns: wall-clock ns when market-data read the feed frame behind this; 0 if none. */
  originTimeNs: bigint;
}

/** ensureRoom returns `b` if it holds `bytes`, else a new buffer with twice that room. */
export function ensureRoom(b: Buffer<ArrayBuffer>, bytes: number): Buffer<ArrayBuffer> {
  return b.length < bytes ? Buffer.allocUnsafe(bytes * 2) : b;
}

/** varintLength is the number of bytes of `v` (a non-negative safe integer) as a varint. */
export function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** writeVarint writes `v` (a non-negative safe integer) as a varint. */
export function writeVarint(b: Buffer, p: number, v: number): number {
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}

/** writeVarintField writes a varint field (an enum, a uint32) unless `v` is 0. */
export function writeVarintField(b: Buffer, p: number, tag: number, v: number): number {
  if (v === 0) return p;
  b[p++] = tag;
  return writeVarint(b, p, v);
}

/** writeFixed64Field writes a fixed64 field unless `v` is 0; `v` is taken modulo 2^64. */
export function writeFixed64Field(b: Buffer, p: number, tag: number, v: bigint): number {
  if (v === 0n) return p;
  b[p++] = tag;
  b.writeBigUInt64LE(BigInt.asUintN(64, v), p);
  return p + 8;
}

/** writeDouble writes the 8 bytes of `v` (as a map value, which proto3 keeps even when 0). */
export function writeDouble(b: Buffer, p: number, v: number): number {
  b.writeDoubleLE(v, p);
  return p + 8;
}

/** writeDoubleField writes a double field unless `v` is 0 (or -0). */
export function writeDoubleField(b: Buffer, p: number, tag: number, v: number): number {
  if (v === 0) return p;
  b[p++] = tag;
  b.writeDoubleLE(v, p);
  return p + 8;
}

/** writeStringField writes a string field unless `s` is empty. */
export function writeStringField(b: Buffer, p: number, tag: number, s: string): number {
  if (s.length === 0) return p;
  b[p] = tag;
  return writeString(b, p + 1, s);
}

/**
 * SHORT_ASCII: strings shorter than this are copied by a loop when they are ASCII (symbols,
 * prices, sizes, ids): cheaper than a call into Buffer#write, and one length byte suffices.
 */
const SHORT_ASCII = 32;

/** writeString writes `s` as UTF-8 after its varint length (a map key, kept even when empty). */
export function writeString(b: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n < SHORT_ASCII) {
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[p + 1 + i++] = c;
    }
    if (i === n) {
      b[p] = n;
      return p + 1 + n;
    }
  }
  // One length byte for the common short string; a longer one is moved to make room.
  const written = b.write(s, p + 1, "utf8");
  if (written < 128) {
    b[p] = written;
    return p + 1 + written;
  }
  const len = varintLength(written);
  b.copy(b, p + len, p + 1, p + 1 + written);
  writeVarint(b, p, written);
  return p + len + written;
}

/**
 * beginMessage writes the tag of a length-delimited field (a nested message, a map entry) and
 * reserves one byte for its length; it returns where the body starts. Write the body, then
 * call endMessage.
 */
export function beginMessage(b: Buffer, p: number, tag: number): number {
  b[p] = tag;
  return p + 2;
}

/** endMessage fills the length of the body from `start` to `end`, moving it if it needs more. */
export function endMessage(b: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len < 128) {
    b[start - 1] = len;
    return end;
  }
  const n = varintLength(len);
  b.copy(b, start + n - 1, start, end);
  writeVarint(b, start - 1, len);
  return end + n - 1;
}

/**
 * writeHeaderBody writes the fields of a Header that a producer sets, in field order. A bus
 * message's header is its field 1:
 *
 *   const header = beginMessage(b, 0, 0x0a);
 *   let p = endMessage(b, header, writeHeaderBody(b, header, fields));
 *
 * (Not wrapped in a function of its own: one more call level pushes the string writes out of
 * V8's inlining budget; measured ~10-15% slower encoders.)
 */
export function writeHeaderBody(b: Buffer, p: number, h: HeaderFields): number {
  p = writeStringField(b, p, 0x0a, h.source); // 1
  p = writeFixed64Field(b, p, 0x19, h.eventTimeNs); // 3
  p = writeStringField(b, p, 0x2a, h.traceparent); // 5
  return writeFixed64Field(b, p, 0x39, h.originTimeNs); // 7
}

/**
 * cursor.pos: after a read, the position just past what it read. (A property of a shared
 * object: a decoder in another module reads it faster than an imported `let`.)
 */
export const cursor = { pos: 0 };

/** asBuffer views `bytes` as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * readVarint reads a varint of up to 2^53 (exact below that; tags, lengths and enums are far
 * smaller). `what` names the message in the RangeError thrown when the bytes end first.
 */
export function readVarint(b: Buffer, p: number, what: string): number {
  const first = b[p];
  // One byte: every tag and length below 128, so nearly every read.
  if (first !== undefined && first < 0x80) {
    cursor.pos = p + 1;
    return first;
  }
  let v = 0;
  let mul = 1;
  for (;;) {
    if (p >= b.length) throw wireError(what, ": truncated varint");
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) break;
    mul *= 128;
  }
  cursor.pos = p;
  return v;
}

/** readFixed64 reads the 8 bytes at `p` (before `end`) as an unsigned 64-bit integer. */
export function readFixed64(b: Buffer, p: number, end: number, what: string): bigint {
  if (p + 8 > end) throw wireError(what, ": truncated fixed64");
  cursor.pos = p + 8;
  return b.readBigUInt64LE(p);
}

/**
 * readLength reads the varint length of a length-delimited field at `p` and checks that the
 * field ends by `end`; `cursor.pos` is where its body starts. Returns where it ends.
 */
export function readLength(b: Buffer, p: number, end: number, what: string): number {
  const len = readVarint(b, p, what);
  const e = cursor.pos + len;
  if (e > end) throw wireError(what, ": field runs past the end");
  return e;
}

/** skipField returns the position past the value of wire type `wire` at `p`, checked. */
export function skipField(b: Buffer, p: number, wire: number, what: string): number {
  let to: number;
  switch (wire) {
    case 0:
      readVarint(b, p, what);
      to = cursor.pos;
      break;
    case 1:
      to = p + 8;
      break;
    case 2:
      to = readVarint(b, p, what) + cursor.pos;
      break;
    case 5:
      to = p + 4;
      break;
    default:
      throw wireError(what, `: unsupported wire type ${wire}`);
  }
  if (to > b.length) throw wireError(what, ": field runs past the end");
  return to;
}

/**
 * readHeaderInto reads the Header body from `p` to `end` into `out`, over what it holds:
 * protobuf merges repeated occurrences of a message field (the bus appends a header with its
 * stamps), so a decoder clears `out` once per message and calls this for each occurrence.
 * Fields a producer does not set (sequence, publish time, publisher id) are skipped.
 */
export function readHeaderInto(
  b: Buffer,
  p: number,
  end: number,
  out: HeaderFields,
  what: string,
): void {
  while (p < end) {
    const tag = readVarint(b, p, what);
    p = cursor.pos;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 3 && wire === 1) {
      if (p + 8 > end) throw wireError(what, " header: truncated event time");
      out.eventTimeNs = b.readBigUInt64LE(p);
      p += 8;
    } else if (field === 7 && wire === 1) {
      if (p + 8 > end) throw wireError(what, " header: truncated origin time");
      out.originTimeNs = b.readBigUInt64LE(p);
      p += 8;
    } else if ((field === 1 || field === 5) && wire === 2) {
      const len = readVarint(b, p, what);
      const s = cursor.pos;
      if (s + len > end) throw wireError(what, " header: field runs past the end");
      const text = b.toString("utf8", s, s + len);
      if (field === 1) out.source = text;
      else out.traceparent = text;
      p = s + len;
    } else {
      p = skipField(b, p, wire, what);
    }
  }
}

/** clearHeader sets the header fields of `out` to their defaults. */
export function clearHeader(out: HeaderFields): void {
  out.source = "";
  out.eventTimeNs = 0n;
  out.traceparent = "";
  out.originTimeNs = 0n;
}

/** wireError: the RangeError of malformed bytes in the message `what` (kept out of line). */
function wireError(what: string, problem: string): RangeError {
  return new RangeError(what + problem);
}
