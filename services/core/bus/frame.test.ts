import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { newHeader, QuoteSchema } from "../messages/index.ts";
import { decodeFrame, encodeFrame, STAMP_LENGTH, topicBytes } from "./frame.ts";

test("a frame carries topic, payload and stamp, and decodes as the stamped message", () => {
  const quote = create(QuoteSchema, {
    header: newHeader("md", 123n, { traceparent: "t" }),
    symbol: "MSFT",
    bidPrice: "410.5",
  });
  const payload = toBinary(QuoteSchema, quote);
  const maxSafe = Number.MAX_SAFE_INTEGER;
  const frame = encodeFrame(topicBytes("md.quote/MSFT"), payload, maxSafe, 2n ** 63n + 5n, 99, 0);
  assert.equal(frame.length, "md.quote/MSFT".length + 1 + payload.length + STAMP_LENGTH);
  const d = decodeFrame(frame)!;
  assert.equal(d.topic, "md.quote/MSFT");
  assert.equal(d.sequence, maxSafe);
  assert.equal(d.publishTimeNs, 2n ** 63n + 5n);
  assert.equal(d.publisherId, 99);
  const decoded = fromBinary(QuoteSchema, d.payload);
  assert.equal(decoded.symbol, "MSFT");
  assert.equal(decoded.header?.sequence, BigInt(maxSafe));
  assert.equal(decoded.header?.eventTimeNs, 123n);
  assert.equal(decoded.header?.publishTimeNs, 2n ** 63n + 5n);
  assert.equal(decoded.header?.traceparent, "t");
});

test("decodeFrame refuses bytes that are not a bus frame", () => {
  assert.equal(decodeFrame(Buffer.from("no terminator")), undefined);
  assert.equal(decodeFrame(Buffer.from("topic\0short")), undefined);
  assert.equal(decodeFrame(Buffer.concat([Buffer.from("t\0"), Buffer.alloc(40)])), undefined);
});

test("the transport prefix is left free", () => {
  const frame = encodeFrame(topicBytes("x"), new Uint8Array([1]), 1, 1n, 1, 4);
  assert.equal(decodeFrame(frame.subarray(4))?.topic, "x");
});
