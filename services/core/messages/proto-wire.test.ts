import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { HeaderSchema, QuoteSchema } from "./index.ts";
import {
  beginMessage,
  clearHeader,
  cursor,
  endMessage,
  type HeaderFields,
  readFixed64,
  readHeaderInto,
  readLength,
  readVarint,
  skipField,
  varintLength,
  writeDouble,
  writeDoubleField,
  writeFixed64Field,
  writeHeaderBody,
  writeString,
  writeStringField,
  writeVarint,
  writeVarintField,
} from "./proto-wire.ts";

const scratch = () => Buffer.alloc(4096);
const bytes = (w: BinaryWriter) => Buffer.from(w.finish());

test("writeVarint writes BinaryWriter's bytes and readVarint reads them back, 0 to 2^53-1", () => {
  const values = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31, 2 ** 32, 2 ** 35 + 5];
  values.push(Number.MAX_SAFE_INTEGER);
  for (const v of values) {
    const b = scratch();
    const end = writeVarint(b, 3, v);
    assert.deepEqual(b.subarray(3, end), bytes(new BinaryWriter().uint64(v)), `varint ${v}`);
    assert.equal(end - 3, varintLength(v), `length of ${v}`);
    assert.equal(readVarint(b, 3, "t"), v);
    assert.equal(cursor.pos, end);
  }
});

test("field writers leave out proto3 defaults and write BinaryWriter's bytes otherwise", () => {
  const b = scratch();
  assert.equal(writeVarintField(b, 5, 0x28, 0), 5);
  assert.equal(writeFixed64Field(b, 5, 0x19, 0n), 5);
  assert.equal(writeDoubleField(b, 5, 0x29, 0), 5);
  assert.equal(writeDoubleField(b, 5, 0x29, -0), 5);
  assert.equal(writeStringField(b, 5, 0x12, ""), 5);

  let end = writeVarintField(b, 0, 0x28, 300);
  assert.deepEqual(
    b.subarray(0, end),
    bytes(new BinaryWriter().tag(5, WireType.Varint).uint32(300)),
  );
  end = writeDoubleField(b, 0, 0x29, -1.5e-300);
  const double = new BinaryWriter().tag(5, WireType.Bit64).double(-1.5e-300);
  assert.deepEqual(b.subarray(0, end), bytes(double));
  end = writeDouble(b, 0, 0);
  assert.deepEqual(b.subarray(0, end), Buffer.alloc(8), "a map value keeps its 0");
});

test("writeFixed64Field: 1, past 2^53, 2^64-1 and negatives (modulo 2^64) round-trip", () => {
  const cases: [bigint, bigint][] = [
    [1n, 1n],
    [2n ** 53n + 1n, 2n ** 53n + 1n],
    [1_772_461_800_000_123_456n, 1_772_461_800_000_123_456n],
    [2n ** 64n - 1n, 2n ** 64n - 1n],
    [-1n, 2n ** 64n - 1n],
  ];
  for (const [v, stored] of cases) {
    const b = scratch();
    const end = writeFixed64Field(b, 0, 0x19, v);
    const want = new BinaryWriter().tag(3, WireType.Bit64).fixed64(stored);
    assert.deepEqual(b.subarray(0, end), bytes(want), `fixed64 ${v}`);
    assert.equal(readFixed64(b, 1, end, "t"), stored);
    assert.equal(cursor.pos, end);
  }
  assert.throws(() => readFixed64(Buffer.alloc(7), 0, 7, "quote"), /^RangeError: quote: trunc/);
});

test("writeString writes UTF-8 as BinaryWriter does: empty, ASCII, unicode, lone surrogates, long", () => {
  const strings = ["", "A", "AAPL", "187.255", "x".repeat(31), "x".repeat(32), "x".repeat(33)];
  strings.push("Ü-TEST", "é€😀", "abc😀".repeat(12), "lone \ud800 surrogate", "BRK.B\u007f");
  strings.push("y".repeat(127), "y".repeat(128), "€".repeat(43), "z".repeat(1000));
  for (const s of strings) {
    const b = scratch();
    const end = writeString(b, 0, s);
    assert.deepEqual(b.subarray(0, end), bytes(new BinaryWriter().string(s)), JSON.stringify(s));
    const bodyEnd = readLength(b, 0, end, "t");
    assert.equal(bodyEnd, end);
    const text = b.toString("utf8", cursor.pos, bodyEnd);
    assert.equal(text, Buffer.from(s, "utf8").toString("utf8"));
    const field = writeStringField(b, 0, 0x12, s);
    const tagged = s === "" ? Buffer.alloc(0) : bytes(new BinaryWriter().tag(2, 2).string(s));
    assert.deepEqual(b.subarray(0, field), tagged);
  }
});

test("beginMessage/endMessage prefix a body's length, moving a body of 128 bytes or more", () => {
  for (const size of [0, 1, 127, 128, 300, 20_000]) {
    const b = Buffer.alloc(size + 16);
    const start = beginMessage(b, 1, 0x32);
    b.fill(0x5a, start, start + size);
    const end = endMessage(b, start, start + size);
    const want = new BinaryWriter()
      .tag(6, WireType.LengthDelimited)
      .bytes(Buffer.alloc(size, 0x5a));
    assert.deepEqual(b.subarray(1, end), bytes(want), `body of ${size}`);
  }
});

const headers: HeaderFields[] = [
  { source: "", eventTimeNs: 0n, traceparent: "", originTimeNs: 0n },
  { source: "market-data", eventTimeNs: 1n, traceparent: "", originTimeNs: 0n },
  {
    source: "signal-bridge",
    eventTimeNs: 1_772_461_800_000_000_000n,
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    originTimeNs: 2n ** 53n + 3n,
  },
  { source: "é€😀", eventTimeNs: 2n ** 64n - 1n, traceparent: "t".repeat(150), originTimeNs: 9n },
  { source: "risk-manager", eventTimeNs: 0n, traceparent: "", originTimeNs: 2n ** 63n },
];

test("writeHeaderBody writes exactly toBinary's Header bytes, and as field 1 a message's", () => {
  for (const h of headers) {
    const b = scratch();
    const end = writeHeaderBody(b, 0, h);
    assert.deepEqual(
      b.subarray(0, end),
      Buffer.from(toBinary(HeaderSchema, create(HeaderSchema, h))),
    );
    const start = beginMessage(b, 0, 0x0a);
    const fieldEnd = endMessage(b, start, writeHeaderBody(b, start, h));
    const quote = create(QuoteSchema, { header: create(HeaderSchema, h) });
    assert.deepEqual(b.subarray(0, fieldEnd), Buffer.from(toBinary(QuoteSchema, quote)));
  }
});

test("readHeaderInto reads toBinary's Header, skips the bus's stamps and merges occurrences", () => {
  for (const h of headers) {
    const stamped = { ...h, sequence: 42n, publishTimeNs: 7n, publisherId: 2n ** 64n - 2n };
    const b = Buffer.from(toBinary(HeaderSchema, create(HeaderSchema, stamped)));
    const out: HeaderFields = { source: "x", eventTimeNs: 5n, traceparent: "y", originTimeNs: 6n };
    clearHeader(out);
    readHeaderInto(b, 0, b.length, out, "t");
    assert.deepEqual(out, h);
  }
  const out = { ...headers[2]! };
  const later = Buffer.from(toBinary(HeaderSchema, create(HeaderSchema, { traceparent: "later" })));
  readHeaderInto(later, 0, later.length, out, "t");
  assert.deepEqual(out, { ...headers[2]!, traceparent: "later" });
});

test("readers refuse truncated bytes with a RangeError naming the message", () => {
  const h = Buffer.from(toBinary(HeaderSchema, create(HeaderSchema, headers[2]!)));
  const out = { ...headers[0]! };
  // source (0..15), event_time_ns (15..24), traceparent (24..81), origin_time_ns (81..90).
  assert.equal(h.length, 90);
  const cuts: [number, string][] = [
    [5, "signal header: field runs past the end"],
    [20, "signal header: truncated event time"],
    [60, "signal header: field runs past the end"],
    [87, "signal header: truncated origin time"],
  ];
  for (const [cut, message] of cuts) {
    assert.throws(() => readHeaderInto(h, 0, cut, out, "signal"), { name: "RangeError", message });
  }
  assert.throws(() => readVarint(Buffer.from([0x80, 0x80]), 0, "quote"), {
    name: "RangeError",
    message: "quote: truncated varint",
  });
  assert.throws(() => readLength(Buffer.from([0x05, 1, 2]), 0, 3, "quote"), {
    message: "quote: field runs past the end",
  });
});

test("skipField passes over each wire type and refuses unknown ones and overruns", () => {
  const b = Buffer.from([0x96, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 0xaa, 0xbb, 9, 9, 9, 9]);
  assert.equal(skipField(b, 0, 0, "t"), 2);
  assert.equal(skipField(b, 2, 1, "t"), 10);
  assert.equal(skipField(b, 10, 2, "t"), 13);
  assert.equal(skipField(b, 13, 5, "t"), 17);
  assert.throws(() => skipField(b, 14, 5, "t"), { message: "t: field runs past the end" });
  assert.throws(() => skipField(b, 0, 3, "t"), { message: "t: unsupported wire type 3" });
});
