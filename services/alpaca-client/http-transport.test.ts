/**
 * Transport failure classes over real sockets: a peer that resets the connection after reading
 * the request (the request may have been acted on) and a port nobody listens on (it cannot have).
 */
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { isTradepipeError } from "../core/errors.ts";
import { DEFAULT_REST_OPTIONS } from "./config.ts";
import {
  encodeQuery,
  HttpTransport,
  mayHaveReachedBroker,
  type RequestEvent,
} from "./http-transport.ts";

const options = {
  ...DEFAULT_REST_OPTIONS,
  backoff: { initialMs: 1, maxMs: 5 },
  timeouts: { connectMs: 1_000, requestMs: 2_000 },
};

/** resettingServer answers each path's first request by destroying the socket, then 200 {}. */
async function resettingServer() {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const key = `${req.method} ${req.url}`;
      const first = !seen.includes(key);
      seen.push(key);
      if (first) req.socket.destroy();
      else res.end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test("a reset after the POST was read is 'may have reached the broker' and is not re-sent", async (t) => {
  const s = await resettingServer();
  const transport = new HttpTransport(s.url, {}, options);
  t.after(async () => {
    await transport.close();
    await s.close();
  });
  await assert.rejects(
    transport.request({ method: "POST", path: "/v2/orders", body: { qty: "1" } }),
    (err: unknown) => {
      assert.ok(isTradepipeError(err, "TP_ERR_BROKER_NETWORK"), String(err));
      assert.equal(mayHaveReachedBroker(err), true);
      return true;
    },
  );
  assert.deepEqual(s.seen, ["POST /v2/orders"]);
});

test("the same reset on a GET is simply retried", async (t) => {
  const s = await resettingServer();
  const transport = new HttpTransport(s.url, {}, options);
  t.after(async () => {
    await transport.close();
    await s.close();
  });
  const r = await transport.request<object>({ method: "GET", path: "/v2/account" });
  assert.deepEqual(r.data, {});
  assert.deepEqual(s.seen, ["GET /v2/account", "GET /v2/account"]);
});

test("a refused connection cannot have reached the broker: even a POST is retried", async () => {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const transport = new HttpTransport(
    `http://127.0.0.1:${port}`,
    {},
    { ...options, maxAttempts: 3 },
  );
  const attempts: number[] = [];
  const onEvent = (e: unknown) => attempts.push((e as RequestEvent).attempt);
  diagnostics.subscribe("tradepipe.alpaca.request", onEvent);
  try {
    await assert.rejects(
      transport.request({ method: "POST", path: "/v2/orders", body: {} }),
      (err: unknown) => {
        assert.ok(isTradepipeError(err, "TP_ERR_BROKER_NETWORK"));
        assert.match(err.message, /ECONNREFUSED/);
        assert.equal(mayHaveReachedBroker(err), false);
        return true;
      },
    );
    assert.deepEqual(attempts, [0, 1, 2]);
  } finally {
    diagnostics.unsubscribe("tradepipe.alpaca.request", onEvent);
    await transport.close();
  }
});

test("encodeQuery joins lists with commas and drops undefined", () => {
  assert.equal(
    encodeQuery({ symbols: ["A", "B"], limit: 5, nested: undefined }),
    "?symbols=A%2CB&limit=5",
  );
  assert.equal(encodeQuery({}), "");
  assert.equal(encodeQuery(undefined), "");
});

test("a response body past the cap is refused, not read into memory", async (t) => {
  let sent = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    // An endless body: the client must stop reading, not wait for the end.
    const chunk = Buffer.alloc(64 * 1024, 32);
    const pump = () => {
      while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
      if (sent < 64 * 1024 * 1024) res.once("drain", pump);
      else res.end();
    };
    pump();
    res.on("close", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const transport = new HttpTransport(
    url,
    {},
    { ...options, maxAttempts: 1 },
    {
      maxResponseBytes: 1024 * 1024,
    },
  );
  t.after(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  await assert.rejects(transport.request({ method: "GET", path: "/v2/orders" }), (err: unknown) => {
    assert.ok(isTradepipeError(err, "TP_ERR_BROKER_HTTP"), String(err));
    assert.match(err.message, /response body over 1048576 bytes, refused/);
    return true;
  });
  assert.ok(sent < 64 * 1024 * 1024, "the client stopped reading");
});
