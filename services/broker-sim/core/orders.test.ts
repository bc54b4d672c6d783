import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOrderRequest, parseReplaceRequest } from "./orders.ts";

const base = { symbol: "AAPL", qty: "1", side: "buy", type: "market", time_in_force: "day" };

test("a well-formed order request parses; numbers are accepted for decimals", () => {
  const r = parseOrderRequest({ ...base, qty: 2, client_order_id: "x" });
  assert.equal(r.ok, true);
  assert.equal(r.ok && r.value.qty, 2_000_000_000n);
});

const cases: [string, unknown, string][] = [
  ["not an object", [1, 2], "request body must be a JSON object"],
  ["unknown field", { ...base, colour: "red" }, 'unknown field "colour"'],
  [
    "mistyped qty",
    { ...base, qty: { a: 1 } },
    "invalid qty: expected a decimal string, got object",
  ],
  ["junk qty", { ...base, qty: "1e5" }, 'invalid qty: "1e5" is not a decimal number'],
  ["zero qty", { ...base, qty: "0" }, "qty must be > 0"],
  ["negative qty", { ...base, qty: "-3" }, "qty must be > 0"],
  ["qty and notional", { ...base, notional: "10" }, "qty and notional cannot both be specified"],
  ["no side", { ...base, side: undefined }, "side is required"],
  ["bad type", { ...base, type: "iceberg" }, "invalid order type: iceberg"],
  ["limit without price", { ...base, type: "limit" }, "limit_price is required"],
  [
    "market with limit price",
    { ...base, limit_price: "5" },
    "limit_price is not allowed for market orders",
  ],
  [
    "bracket",
    { ...base, order_class: "bracket" },
    "order_class bracket is not supported by the simulator",
  ],
  [
    "fractional gtc",
    { ...base, qty: "0.5", time_in_force: "gtc" },
    "fractional orders must be DAY orders",
  ],
  [
    "long client id",
    { ...base, client_order_id: "x".repeat(129) },
    "client_order_id must be no more than 128 characters",
  ],
  [
    "extended hours market",
    { ...base, extended_hours: true },
    "extended hours order must be DAY or GTC limit orders",
  ],
  [
    "trailing without trail",
    { ...base, type: "trailing_stop" },
    "exactly one of trail_price or trail_percent is required",
  ],
];

for (const [name, body, message] of cases) {
  test(`invalid order request (${name}) → 422 "${message}"`, () => {
    const r = parseOrderRequest(body);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.error, { status: 422, body: { code: 40010001, message } });
  });
}

test("replace requests are validated too", () => {
  assert.equal(parseReplaceRequest({ limit_price: "10" }).ok, true);
  const bad = parseReplaceRequest({ qty: "-1" });
  assert.equal(!bad.ok && bad.error.body.message, "qty must be > 0");
  const unknown = parseReplaceRequest({ side: "sell" });
  assert.equal(!unknown.ok && unknown.error.body.message, 'unknown field "side"');
});
