import assert from "node:assert/strict";
import { test } from "node:test";
import { CLIENT_ORDER_ID_MAX_LENGTH, clientOrderIdFor, orderIdScope } from "./client-order-id.ts";

test("client_order_id is a pure function of (pipeline, signal id)", () => {
  assert.equal(
    clientOrderIdFor("demo", "XOM-1700000000-42"),
    clientOrderIdFor("demo", "XOM-1700000000-42"),
  );
  assert.match(
    clientOrderIdFor("demo", "XOM-1700000000-42"),
    /^tp-[0-9a-f]{8}-sXOM-1700000000-42$/,
  );
  assert.notEqual(clientOrderIdFor("demo", "s1"), clientOrderIdFor("other", "s1"));
  assert.notEqual(clientOrderIdFor("demo", "s1"), clientOrderIdFor("demo", "s2"));
});

test("long or unusual signal ids are hashed and stay within 48 characters", () => {
  const long = "x".repeat(200);
  const odd = "AAPL signal/7 ü";
  for (const sig of [long, odd, "a".repeat(35), "a".repeat(36)]) {
    const id = clientOrderIdFor("a-pipeline-with-a-rather-long-name", sig);
    assert.ok(id.length <= CLIENT_ORDER_ID_MAX_LENGTH, `${id} is ${id.length} chars`);
  }
  assert.match(clientOrderIdFor("demo", long), /^tp-[0-9a-f]{8}-h[0-9a-f]{24}$/);
  assert.match(clientOrderIdFor("demo", "a".repeat(35)), /-sa{35}$/);
  assert.match(clientOrderIdFor("demo", "a".repeat(36)), /-h[0-9a-f]{24}$/);
  assert.throws(() => clientOrderIdFor("demo", ""), /signal id is empty/);
});

test("the readable and hashed forms cannot collide", () => {
  const hashed = clientOrderIdFor("demo", "x".repeat(100));
  const tail = hashed.slice(hashed.lastIndexOf("-h") + 2);
  assert.notEqual(clientOrderIdFor("demo", tail), hashed);
});

test("two pipelines with the default name derive identical order ids: the prefix is unique per pipeline and account", () => {
  const scope = (account: string, symbols: string[], namespace?: string) =>
    orderIdScope({ account, name: "local", symbols, ...(namespace ? { namespace } : {}) });
  const prefix = (s: string) => clientOrderIdFor(s, "sig-1").slice(0, 12);
  const a = scope("PKACCOUNT1", ["AAPL", "MSFT"]);
  // Same default name, same account, each pipeline with its own (disjoint) universe.
  assert.notEqual(prefix(a), prefix(scope("PKACCOUNT1", ["XOM", "CVX"])));
  // Same name and universe on another account, or in another namespace.
  assert.notEqual(prefix(a), prefix(scope("PKACCOUNT2", ["AAPL", "MSFT"])));
  assert.notEqual(prefix(a), prefix(scope("PKACCOUNT1", ["AAPL", "MSFT"], "team-b")));
  // A function of configuration alone: every instance, restart and replay agrees.
  assert.equal(prefix(a), prefix(scope("PKACCOUNT1", ["MSFT", "AAPL", "AAPL"])));
});
