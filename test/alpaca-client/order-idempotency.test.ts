/**
 * Exactly-once order placement against the real simulator's fault injection: a POST whose answer
 * is lost (timeout) or that draws a 5xx is resolved through GET /v2/orders:by_client_order_id,
 * and the simulator's own records show the order was created once.
 */
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { after, afterEach, before, test } from "node:test";
import {
  classifySendFailure,
  type OrderResolutionEvent,
} from "../../services/alpaca-client/order-submit.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import {
  type Harness,
  recordRequests,
  simOrderRequests,
  simOrders,
  startHarness,
  waitFor,
} from "./support.ts";

let h: Harness;
before(async () => {
  h = await startHarness(
    { symbols: ["AAPL"], partialFillProbability: 0, rateLimitPerMin: 100_000 },
    {
      rateLimitPerMinute: 100_000,
      orderTimeouts: { requestMs: 250 },
      backoff: { initialMs: 10, maxMs: 50 },
    },
  );
});
afterEach(() => h.sim.admin.clearFaults());
after(() => h.close());

function limitBuy(clientOrderId: string, qty = "1") {
  return {
    symbol: "AAPL",
    side: "buy" as const,
    type: "limit" as const,
    time_in_force: "day" as const,
    qty,
    limit_price: "1.00",
    client_order_id: clientOrderId,
  };
}

function recordResolution(): { steps: string[]; stop(): void } {
  const steps: string[] = [];
  const on = (e: unknown) => steps.push((e as OrderResolutionEvent).step);
  diagnostics.subscribe("tradepipe.alpaca.order-resolution", on);
  return { steps, stop: () => diagnostics.unsubscribe("tradepipe.alpaca.order-resolution", on) };
}

test("a second submit with the same client_order_id returns the existing order", async () => {
  const first = await h.trading.submitOrderWithOutcome(limitBuy("dup-1"));
  assert.equal(first.outcome, "created");
  const second = await h.trading.submitOrderWithOutcome(limitBuy("dup-1"));
  assert.equal(second.outcome, "existing");
  assert.equal(second.order.id, first.order.id);
  assert.equal(simOrders(h.sim, "dup-1").length, 1);
  assert.deepEqual(
    simOrderRequests(h.sim, "dup-1").map((r) => r.status),
    [200, 422],
    "the repeat met the broker's uniqueness check and was not re-sent",
  );
});

test("the same client_order_id for a different order is refused loudly", async () => {
  await h.trading.submitOrder(limitBuy("dup-2", "1"));
  await assert.rejects(h.trading.submitOrder(limitBuy("dup-2", "5")), (err: unknown) => {
    assert.ok(isTradepipeError(err, "TP_ERR_BROKER_ORDER_CONFLICT"));
    assert.match(err.message, /dup-2/);
    return true;
  });
  assert.equal(simOrders(h.sim, "dup-2").length, 1);
});

test("a POST that times out is resolved by client_order_id and never sent twice", async () => {
  // Every answer now takes 600 ms; the order POST gives up after 250 ms.
  h.sim.admin.setFaults({ latencyMs: 600 });
  const requests = recordRequests();
  const resolution = recordResolution();
  try {
    const result = await h.trading.submitOrderWithOutcome(limitBuy("timeout-1"));
    assert.equal(result.outcome, "recovered");
    assert.equal(result.order.client_order_id, "timeout-1");
  } finally {
    requests.stop();
    resolution.stop();
  }
  const posts = requests.events.filter((e) => e.method === "POST" && e.path === "/v2/orders");
  assert.equal(posts.length, 1, "one POST written");
  assert.match(posts[0]?.error ?? "", /timeout/i);
  assert.deepEqual(resolution.steps, ["ambiguous", "found"]);
  assert.equal(simOrders(h.sim, "timeout-1").length, 1, "the broker holds exactly one order");
  assert.deepEqual(
    simOrderRequests(h.sim, "timeout-1").map((r) => [r.kind, r.status]),
    [["submit", 200]],
    "exactly one POST reached the broker",
  );
});

test("a POST that draws a 5xx is re-sent only after the lookup says 404", async () => {
  // The simulator answers 503 before the order reaches the book, so the order does not exist.
  h.sim.admin.setFaults({ fail5xxNext: 1, errorStatus: 503 });
  const resolution = recordResolution();
  let result: Awaited<ReturnType<typeof h.trading.submitOrderWithOutcome>>;
  try {
    result = await h.trading.submitOrderWithOutcome(limitBuy("5xx-1"));
  } finally {
    resolution.stop();
  }
  assert.deepEqual(resolution.steps, ["ambiguous", "not-found", "resend"]);
  assert.equal(result.posts, 2);
  assert.equal(result.outcome, "recovered");
  assert.equal(simOrders(h.sim, "5xx-1").length, 1);
  // The 503 was answered before the order handler; only the re-send reached it.
  assert.deepEqual(
    simOrderRequests(h.sim, "5xx-1").map((r) => r.status),
    [200],
  );
});

test("a POST whose lookup fails too is reported unresolved, not re-sent", async () => {
  // Every request fails: the POST and all lookups.
  h.sim.admin.setFaults({ errorRate: 1, errorStatus: 500 });
  const requests = recordRequests();
  try {
    await assert.rejects(h.trading.submitOrder(limitBuy("unresolved-1")), (err: unknown) => {
      assert.ok(isTradepipeError(err, "TP_ERR_BROKER_ORDER_UNRESOLVED"));
      assert.match(err.message, /unresolved-1/);
      return true;
    });
  } finally {
    requests.stop();
  }
  const posts = requests.events.filter((e) => e.method === "POST");
  assert.equal(posts.length, 1);
  const lookups = requests.events.filter((e) => e.path === "/v2/orders:by_client_order_id");
  assert.equal(lookups.length, h.trading.options.maxAttempts, "the GET lookup itself was retried");
  h.sim.admin.clearFaults();
  assert.equal(simOrders(h.sim, "unresolved-1").length, 0);
});

test("429s are waited out and retried for any method, POST included", async () => {
  h.sim.admin.setFaults({ burst429Next: 2 });
  const requests = recordRequests();
  let order: Awaited<ReturnType<typeof h.trading.submitOrder>>;
  try {
    order = await h.trading.submitOrder(limitBuy("429-1"));
  } finally {
    requests.stop();
  }
  assert.equal(order.client_order_id, "429-1");
  assert.deepEqual(
    requests.events.map((e) => e.status),
    [429, 429, 200],
  );
  assert.equal(simOrders(h.sim, "429-1").length, 1);
});

test("idempotent GETs are retried on 5xx", async () => {
  h.sim.admin.setFaults({ fail5xxNext: 2, errorStatus: 502 });
  const requests = recordRequests();
  try {
    const account = await h.trading.getAccount();
    assert.equal(account.status, "ACTIVE");
  } finally {
    requests.stop();
  }
  assert.deepEqual(
    requests.events.map((e) => e.status),
    [502, 502, 200],
  );
});

test("postOrder sends once and classifySendFailure sorts what can go wrong", async () => {
  const send = (id: string, qty = "1") => h.trading.postOrder({ ...limitBuy(id, qty) });
  const failureOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return classifySendFailure(err);
    }
    assert.fail("expected the POST to fail");
  };
  await send("classify-1");
  assert.deepEqual(await failureOf(send("classify-1")), {
    failure: "duplicate",
    httpStatus: 422,
    message: "POST /v2/orders → HTTP 422: 40010001 client_order_id must be unique",
  });
  const refused = await failureOf(send("classify-2", "1000000"));
  assert.equal(refused.failure, "rejected");
  assert.equal(refused.httpStatus, 403);

  h.sim.admin.setFaults({ latencyMs: 600 });
  const slow = await failureOf(send("classify-3"));
  assert.equal(slow.failure, "ambiguous");
  assert.equal(slow.httpStatus, null);
  h.sim.admin.clearFaults();

  h.sim.admin.setFaults({ fail5xxNext: 1 });
  assert.equal((await failureOf(send("classify-4"))).failure, "ambiguous");
  h.sim.admin.setFaults({ burst429Next: 10 });
  const limited = await failureOf(send("classify-5"));
  assert.equal(limited.failure, "retryable");
  assert.equal(limited.httpStatus, 429);
  h.sim.admin.clearFaults();
  assert.equal(simOrders(h.sim, "classify-5").length, 0);
  await waitFor("the slow POST landed", () =>
    simOrders(h.sim, "classify-3").length === 1 ? true : undefined,
  );
});
