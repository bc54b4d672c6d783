import assert from "node:assert/strict";
import { test } from "node:test";
import { headerFrom, newHeader } from "./header.ts";
import { childTraceparent, newTraceparent, parseTraceparent } from "./trace.ts";

test("traceparent: new, parse and child keep the W3C format and the trace id", () => {
  const root = newTraceparent();
  assert.match(root, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const parsed = parseTraceparent(root)!;
  const child = childTraceparent(root);
  assert.equal(parseTraceparent(child)?.traceId, parsed.traceId);
  assert.notEqual(parseTraceparent(child)?.spanId, parsed.spanId);
  assert.equal(
    parseTraceparent("00-00000000000000000000000000000000-b7ad6b7169203331-01"),
    undefined,
  );
  assert.equal(parseTraceparent("garbage"), undefined);
  assert.match(childTraceparent("garbage"), /^00-[0-9a-f]{32}-/, "a bad parent starts a new trace");
});

test("headers: new events and caused events", () => {
  const h = newHeader("market-data", 42n, { traceparent: newTraceparent(), originTimeNs: 9n });
  assert.equal(h.source, "market-data");
  assert.equal(h.eventTimeNs, 42n);
  assert.equal(h.sequence, 0n, "the bus stamps the sequence");
  const caused = headerFrom("signal-bridge", h);
  assert.equal(caused.eventTimeNs, 42n);
  assert.equal(caused.originTimeNs, 9n, "the origin (frame read time) is carried over");
  assert.equal(
    parseTraceparent(caused.traceparent)?.traceId,
    parseTraceparent(h.traceparent)?.traceId,
  );
  assert.equal(headerFrom("x", undefined, 7n).traceparent, "");
  assert.equal(headerFrom("x", undefined, 7n).originTimeNs, 0n);
});
