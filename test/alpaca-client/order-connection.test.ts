/**
 * The dedicated order connection against the real simulator over real HTTP (and over TLS with a
 * private CA): the request is on the wire when `postOrder` returns; orders fill; 429 is waited
 * out; a 422 duplicate is `duplicate` and any other 422 a reject; a connection the broker drops
 * with an order in flight makes that order ambiguous (found by client_order_id, never re-sent);
 * bytes with no request in flight close the connection instead of answering the next order.
 */
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { after, afterEach, before, test } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import type { RestClientOptions } from "../../services/alpaca-client/config.ts";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import { classifySendFailure } from "../../services/alpaca-client/order-submit.ts";
import { AlpacaTradingClient } from "../../services/alpaca-client/trading-client.ts";
import type { OrderRequest } from "../../services/alpaca-client/wire-types.ts";
import { startSimulator } from "../../services/broker-sim/index.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import {
  createCertificateAuthority,
  issueServerCertificate,
} from "../../services/core/tls/certificates.ts";
import { recordRequests, type Sim, simOrders, waitFor } from "./support.ts";

/**
 * Proxy: a TCP proxy in front of the simulator that can drop the client's connection once the
 * simulator has answered (the order landed, its answer lost) and inject bytes of its own.
 */
interface Proxy {
  port: number;
  dropAfterAnswer: boolean;
  /** answerWith: bytes sent to the client instead of the simulator's next answer. */
  answerWith: string | undefined;
  /** appendToAnswer: bytes sent to the client right after the simulator's next answer. */
  appendToAnswer: string | undefined;
  clients: Set<Socket>;
  inject(text: string): void;
  close(): Promise<void>;
}

async function startProxy(target: number): Promise<Proxy> {
  const clients = new Set<Socket>();
  const proxy: Proxy = {
    port: 0,
    dropAfterAnswer: false,
    answerWith: undefined,
    appendToAnswer: undefined,
    clients,
    inject(text) {
      for (const c of clients) c.write(text);
    },
    async close() {
      for (const c of clients) c.destroy();
      server.close();
      await once(server, "close");
    },
  };
  const server: Server = createServer((client) => {
    clients.add(client);
    const upstream = createConnection(target, "127.0.0.1");
    client.on("data", (b) => upstream.write(b));
    upstream.on("data", (b) => {
      if (proxy.dropAfterAnswer) {
        proxy.dropAfterAnswer = false;
        client.destroy();
        return;
      }
      if (proxy.answerWith !== undefined) {
        client.write(proxy.answerWith);
        proxy.answerWith = undefined;
        return;
      }
      client.write(b);
      if (proxy.appendToAnswer !== undefined) {
        client.write(proxy.appendToAnswer);
        proxy.appendToAnswer = undefined;
      }
    });
    const end = () => {
      clients.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}

const REST: Partial<RestClientOptions> = {
  orderConnections: 1,
  rateLimitPerMinute: 100_000,
  orderTimeouts: { requestMs: 2_000 },
  backoff: { initialMs: 10, maxMs: 50 },
  maxAttempts: 3,
};

let sim: Sim;
let proxy: Proxy;
let credentials: Credentials;
let trading: AlpacaTradingClient;

before(async () => {
  sim = await startSimulator({
    seed: 3,
    symbols: ["AAPL"],
    partialFillProbability: 0,
    rateLimitPerMin: 100_000,
  });
  credentials = new Credentials(sim.keys.keyId, sim.keys.secretKey, "test");
  proxy = await startProxy(Number(new URL(sim.tradingUrl).port));
  trading = new AlpacaTradingClient({
    tradingUrl: `http://127.0.0.1:${proxy.port}`,
    credentials,
    options: REST,
  });
  await trading.orderConnection!.ready();
});
afterEach(() => sim.admin.clearFaults());
after(async () => {
  await trading.close();
  await proxy.close();
  await sim.close();
});

let seq = 0;
function order(overrides: Partial<OrderRequest> = {}): OrderRequest & { client_order_id: string } {
  seq++;
  return {
    symbol: "AAPL",
    side: "buy",
    type: "limit",
    time_in_force: "day",
    qty: "1",
    limit_price: "1.00",
    client_order_id: `oc-${process.pid}-${seq}`,
    ...overrides,
  };
}

/** failureOf: the error `p` rejects with (a resolved `p` fails the test with `expected`). */
async function failureOf(p: Promise<unknown>, expected: string): Promise<unknown> {
  return p.then(
    () => assert.fail(expected),
    (e: unknown) => e,
  );
}

function recordWritten(): { ids: string[]; stop(): void } {
  const ids: string[] = [];
  const on = (e: unknown) => ids.push((e as { clientOrderId: string }).clientOrderId);
  diagnostics.subscribe("tradepipe.alpaca.order-written", on);
  return { ids, stop: () => diagnostics.unsubscribe("tradepipe.alpaca.order-written", on) };
}

test("the order is on the dedicated connection when postOrder returns, and it fills", async () => {
  const written = recordWritten();
  const before = trading.orderConnection!.written;
  const request = order({ type: "market", limit_price: undefined, qty: "2" });
  const reply = trading.postOrder(request);
  // Same synchronous run: the bytes were handed to the socket inside postOrder.
  assert.deepEqual(written.ids, [request.client_order_id]);
  assert.equal(trading.orderConnection!.written, before + 1);
  written.stop();
  const accepted = await reply;
  assert.equal(accepted.client_order_id, request.client_order_id);
  const filled = await waitFor("the market order to fill", async () => {
    const o = await trading.getOrder(accepted.id);
    return o.status === "filled" ? o : undefined;
  });
  assert.equal(filled.filled_qty, "2");
  assert.equal(trading.orderConnection!.fellBack, 0);
});

test("orders back to back each get their own answer on the one connection", async () => {
  for (let i = 0; i < 20; i++) {
    const request = order();
    const answer = await trading.postOrder(request);
    assert.equal(answer.client_order_id, request.client_order_id);
  }
});

test("an order that finds the connection busy goes through undici, each with its own answer", async () => {
  const oc = trading.orderConnection!;
  const written = oc.written;
  const fellBack = oc.fellBack;
  const first = order();
  const second = order();
  const [a, b] = await Promise.all([trading.postOrder(first), trading.postOrder(second)]);
  assert.equal(a.client_order_id, first.client_order_id);
  assert.equal(b.client_order_id, second.client_order_id);
  assert.equal(oc.written, written + 1, "the first on the dedicated connection");
  assert.equal(oc.fellBack, fellBack + 1, "the second through undici");
});

test("a 429 is waited out and the order written again, once at the broker", async () => {
  const requests = recordRequests();
  sim.admin.setFaults({ burst429Next: 1 });
  const request = order();
  const answer = await trading.postOrder(request);
  requests.stop();
  assert.equal(answer.client_order_id, request.client_order_id);
  assert.deepEqual(
    requests.events.filter((e) => e.method === "POST").map((e) => e.status),
    [429, 200],
  );
  assert.equal(simOrders(sim, request.client_order_id).length, 1);
});

test("429s past maxAttempts fail as retryable, nothing created", async () => {
  sim.admin.setFaults({ burst429Next: 10 });
  const request = order();
  const err = await failureOf(trading.postOrder(request), "expected a 429");
  assert.equal(classifySendFailure(err).failure, "retryable");
  assert.equal(classifySendFailure(err).httpStatus, 429);
  assert.equal(simOrders(sim, request.client_order_id).length, 0);
});

test("422 'client_order_id must be unique' is duplicate; another 422 is a reject", async () => {
  const request = order();
  await trading.postOrder(request);
  const dup = await failureOf(trading.postOrder(request), "expected a 422");
  assert.equal(classifySendFailure(dup).failure, "duplicate");
  const invalid = await failureOf(trading.postOrder(order({ qty: "-5" })), "expected a 422");
  const sorted = classifySendFailure(invalid);
  assert.equal(sorted.httpStatus, 422);
  assert.equal(sorted.failure, "rejected", sorted.message);
});

test("the broker closing the connection with the order in flight: ambiguous, found by id", async () => {
  proxy.dropAfterAnswer = true;
  const request = order();
  const err = await failureOf(trading.postOrder(request), "expected the connection to drop");
  assert.ok(isTradepipeError(err, "TP_ERR_BROKER_NETWORK"), String(err));
  assert.equal(classifySendFailure(err).failure, "ambiguous");
  // The order landed; the lookup finds it under its own id, and nothing was posted twice.
  const found = await trading.getOrderByClientOrderId(request.client_order_id);
  assert.equal(found?.client_order_id, request.client_order_id);
  assert.equal(simOrders(sim, request.client_order_id).length, 1);
  // The connection is made again and the next order goes on it.
  await trading.orderConnection!.ready();
  const next = order();
  const written = trading.orderConnection!.written;
  assert.equal((await trading.postOrder(next)).client_order_id, next.client_order_id);
  assert.equal(trading.orderConnection!.written, written + 1);
});

test("a timeout with the order in flight is ambiguous (TP_ERR_BROKER_TIMEOUT), also after an answered order", async () => {
  const slow = new AlpacaTradingClient({
    tradingUrl: sim.tradingUrl,
    credentials,
    options: { ...REST, orderTimeouts: { requestMs: 100 } },
  });
  try {
    await slow.orderConnection!.ready();
    // An answered order first: the deadline must hold for every order, not only the first.
    await slow.postOrder(order());
    sim.admin.setFaults({ latencyMs: 400 });
    const request = order();
    const err = await failureOf(slow.postOrder(request), "expected a timeout");
    assert.ok(isTradepipeError(err, "TP_ERR_BROKER_TIMEOUT"), String(err));
    assert.equal(classifySendFailure(err).failure, "ambiguous");
  } finally {
    await slow.close();
  }
});

const FAKE_ANSWER =
  "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 52\r\n\r\n" +
  '{"id":"forged","client_order_id":"forged","qty":"1"}';

test("bytes arriving with no request in flight close the connection, never answer an order", async () => {
  const oc = trading.orderConnection!;
  const socketsBefore = new Set(proxy.clients);
  proxy.inject(FAKE_ANSWER);
  await waitFor("the connection to be dropped and made again", () =>
    oc.connected === 1 && [...proxy.clients].some((c) => !socketsBefore.has(c)) ? true : undefined,
  );
  const request = order();
  const answer = await trading.postOrder(request);
  assert.equal(answer.client_order_id, request.client_order_id);
});

test("bytes left over after an answer are unsolicited too: the connection is dropped", async () => {
  const oc = trading.orderConnection!;
  const socketsBefore = new Set(proxy.clients);
  proxy.appendToAnswer = FAKE_ANSWER;
  const first = order();
  assert.equal((await trading.postOrder(first)).client_order_id, first.client_order_id);
  await waitFor("the connection to be made again", () =>
    oc.connected === 1 && [...proxy.clients].some((c) => !socketsBefore.has(c)) ? true : undefined,
  );
  const second = order();
  assert.equal((await trading.postOrder(second)).client_order_id, second.client_order_id);
});

test("an answer naming another client_order_id is never taken for the order: ambiguous", async () => {
  const oc = trading.orderConnection!;
  proxy.answerWith = FAKE_ANSWER;
  const request = order();
  const err = await failureOf(
    trading.postOrder(request),
    "a forged answer was taken for the order",
  );
  assert.equal(classifySendFailure(err).failure, "ambiguous", String(err));
  assert.match(String(err), /an answer for client_order_id "forged"/);
  assert.equal(simOrders(sim, request.client_order_id).length, 1);
  await waitFor("the connection to be made again", () => (oc.connected === 1 ? true : undefined));
});

test("a 408 (a server closing an idle connection) crossing the order is ambiguous", async () => {
  proxy.answerWith =
    "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
  const err = await failureOf(trading.postOrder(order()), "expected a failure");
  assert.equal(classifySendFailure(err).failure, "ambiguous", String(err));
  await trading.orderConnection!.ready();
});

test("over TLS with a private CA: the order goes out on the dedicated connection", async () => {
  const now = new Date();
  const ca = await createCertificateAuthority({ commonName: "order-connection test CA", now });
  const server = await issueServerCertificate(ca, { hosts: ["localhost", "127.0.0.1"], now });
  const simPort = Number(new URL(sim.tradingUrl).port);
  const tlsProxy = createTlsServer({ cert: server.certPem, key: server.keyPem }, (client) => {
    const upstream = createConnection(simPort, "127.0.0.1");
    client.pipe(upstream).pipe(client);
    client.on("error", () => {});
    upstream.on("error", () => {});
    client.on("close", () => upstream.destroy());
  });
  tlsProxy.listen(0, "127.0.0.1");
  await once(tlsProxy, "listening");
  const port = (tlsProxy.address() as { port: number }).port;
  const secure = new AlpacaTradingClient({
    tradingUrl: `https://localhost:${port}`,
    credentials,
    options: REST,
    deps: { tls: { ca: ca.certPem } },
  });
  try {
    await secure.orderConnection!.ready();
    const request = order();
    const answer = await secure.postOrder(request);
    assert.equal(answer.client_order_id, request.client_order_id);
    assert.equal(secure.orderConnection!.written, 1);
    assert.equal(secure.orderConnection!.fellBack, 0);
    // undici (lookups) verifies against the same CA.
    const found = await secure.getOrderByClientOrderId(request.client_order_id);
    assert.equal(found?.id, answer.id);
  } finally {
    await secure.close();
    tlsProxy.close();
  }
});

test("a server whose certificate the CA did not sign is never connected", async () => {
  const now = new Date();
  const ca = await createCertificateAuthority({ commonName: "the server's CA", now });
  const other = await createCertificateAuthority({ commonName: "another CA", now });
  const server = await issueServerCertificate(ca, { hosts: ["localhost"], now });
  const tlsServer = createTlsServer({ cert: server.certPem, key: server.keyPem }, (s) =>
    s.on("error", () => {}),
  );
  tlsServer.listen(0, "127.0.0.1");
  await once(tlsServer, "listening");
  const port = (tlsServer.address() as { port: number }).port;
  const untrusting = new AlpacaTradingClient({
    tradingUrl: `https://localhost:${port}`,
    credentials,
    options: { ...REST, timeouts: { connectMs: 1_000, requestMs: 1_000 } },
    deps: { tls: { ca: other.certPem } },
  });
  try {
    await assert.rejects(untrusting.orderConnection!.ready(500), /not connected/);
  } finally {
    await untrusting.close();
    tlsServer.close();
  }
});
