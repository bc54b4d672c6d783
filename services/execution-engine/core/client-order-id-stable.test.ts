/**
 * Order ids must not change between releases: orders already at the broker keep the ids they
 * were sent with, and a restarted engine finds them by those ids. These values are pinned.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { clientOrderIdFor, orderIdScope } from "./client-order-id.ts";

test("the ids of a known pipeline and signal are the same as in every earlier release", () => {
  assert.equal(clientOrderIdFor("demo", "XOM-1700000000-42"), "tp-2a97516c-sXOM-1700000000-42");
  assert.equal(clientOrderIdFor("demo", "x".repeat(60)), "tp-2a97516c-h8cf41553651cdc1424ff0183");
  assert.equal(
    orderIdScope({ account: "PK1", name: "local", symbols: ["MSFT", "AAPL"] }),
    "account=PK1\npipeline=/local\nsymbols=AAPL,MSFT",
  );
  assert.equal(
    orderIdScope({ account: "PK1", namespace: "ns", name: "local", symbols: ["AB", "C"] }),
    "account=PK1\npipeline=ns/local\nsymbols=AB,C",
  );
});

test("a signal id with a character outside [A-Za-z0-9._:-] anywhere is hashed", () => {
  for (const signal of ["a b", "/ab", "ab/", "é1"]) {
    assert.match(clientOrderIdFor("demo", signal), /^tp-[0-9a-f]{8}-h[0-9a-f]{24}$/, signal);
  }
});
