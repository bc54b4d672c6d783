import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { context, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import {
  extractTraceparent,
  injectTraceparent,
} from "../../services/core/telemetry/trace-context.ts";
import { startTracing, tracesUrl } from "../../services/core/telemetry/tracing.ts";

const SPAN = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
};

test("extract(inject(ctx)) round-trips the span context through a traceparent string", () => {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, SPAN);
  const header = injectTraceparent(ctx);
  assert.equal(header, `00-${SPAN.traceId}-${SPAN.spanId}-01`);
  const back = trace.getSpanContext(extractTraceparent(header));
  assert.deepEqual(back, { ...SPAN, isRemote: true });
  assert.equal(injectTraceparent(extractTraceparent(header)), header);
});

test("no span gives an empty header; a bad header leaves the context unchanged", () => {
  assert.equal(injectTraceparent(ROOT_CONTEXT), "");
  assert.equal(extractTraceparent("", ROOT_CONTEXT), ROOT_CONTEXT);
  const ctx = extractTraceparent("00-not-a-trace-01", ROOT_CONTEXT);
  assert.equal(trace.getSpanContext(ctx), undefined);
});

test("tracing without an endpoint starts nothing: spans do not record", async () => {
  const tracing = await startTracing({ serviceName: "test", otlpEndpoint: undefined });
  assert.equal(tracing.enabled, false);
  const span = trace.getTracer("t").startSpan("s");
  assert.equal(span.isRecording(), false);
  span.end();
  await tracing.shutdown();
  assert.equal((await startTracing({ serviceName: "test", otlpEndpoint: "  " })).enabled, false);
});

test("tracesUrl appends /v1/traces once", () => {
  assert.equal(tracesUrl("http://c:4318"), "http://c:4318/v1/traces");
  assert.equal(tracesUrl("http://c:4318/"), "http://c:4318/v1/traces");
  assert.equal(tracesUrl("http://c:4318/v1/traces"), "http://c:4318/v1/traces");
});

test("with an endpoint, spans are exported over OTLP/HTTP to that endpoint", async () => {
  const received: { url: string | undefined; bytes: number }[] = [];
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on("data", (c: Buffer) => (bytes += c.length));
    req.on("end", () => {
      received.push({ url: req.url, bytes });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    const tracing = await startTracing({
      serviceName: "tracing-test",
      otlpEndpoint: `http://127.0.0.1:${port}`,
    });
    assert.equal(tracing.enabled, true);
    const span = trace.getTracer("t").startSpan("order.submit");
    assert.equal(span.isRecording(), true);
    const header = injectTraceparent(trace.setSpan(context.active(), span));
    assert.match(header, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    span.end();
    await tracing.shutdown();
    assert.ok(received.length >= 1, "the collector received an export");
    assert.equal(received[0]?.url, "/v1/traces");
    assert.ok((received[0]?.bytes ?? 0) > 0);
  } finally {
    server.close();
  }
});
