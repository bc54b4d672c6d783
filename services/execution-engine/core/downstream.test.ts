/** The events the engine's published updates become for the position-tracker and the risk-manager. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventsForRisk, fillForTracker } from "./downstream.ts";
import { d, T0 } from "./test-support.ts";
import type { OrderUpdateOut } from "./types.ts";

const base: OrderUpdateOut = {
  clientOrderId: "tp-1",
  signalId: "s",
  correlationId: "c",
  symbol: "XOM",
  side: "buy",
  status: "New",
  event: "new",
  fillQty: 0n,
  fillPrice: null,
  filledQty: 0n,
  filledAvgPrice: null,
  qty: d(10),
  terminal: false,
  reason: "",
  timeNs: T0,
};

test("a fill becomes the tracker's FillReceived with the cumulative figures", () => {
  const u = {
    ...base,
    status: "PartiallyFilled",
    fillQty: d(4),
    fillPrice: d("100.5"),
    filledQty: d(6),
    filledAvgPrice: d("100.25"),
  } as const;
  assert.deepEqual(fillForTracker(u), {
    type: "FillReceived",
    timeNs: T0,
    clientOrderId: "tp-1",
    symbol: "XOM",
    side: "buy",
    fillQty: d(4),
    fillPrice: d("100.5"),
    filledQty: d(6),
    filledAvgPrice: d("100.25"),
  });
  assert.equal("filledAvgPrice" in fillForTracker({ ...u, filledAvgPrice: null })!, false);
  assert.equal(fillForTracker(base), null, "no fill");
  assert.equal(fillForTracker({ ...u, fillPrice: null }), null, "a fill without a price");
});

test("New is accepted; fills and other ends progress; nothing else reaches the risk-manager", () => {
  const b = { timeNs: T0, clientOrderId: "tp-1" };
  assert.deepEqual(eventsForRisk(base), [{ type: "OrderAccepted", ...b }]);
  assert.deepEqual(
    eventsForRisk({ ...base, status: "PartiallyFilled", fillQty: d(4), filledQty: d(4) }),
    [{ type: "OrderProgressed", ...b, filledQty: d(4), terminal: false }],
  );
  assert.deepEqual(
    eventsForRisk({ ...base, status: "Cancelled", filledQty: d(4), terminal: true }),
    [{ type: "OrderProgressed", ...b, filledQty: d(4), terminal: true }],
  );
  assert.deepEqual(eventsForRisk({ ...base, status: "Submitted" }), []);
});

test("a rejection fails the order, with the engine's own refusals told apart from the broker's", () => {
  const b = { timeNs: T0, clientOrderId: "tp-1" };
  const rejected = { ...base, status: "Rejected", terminal: true } as const;
  assert.deepEqual(eventsForRisk({ ...rejected, reason: "insufficient buying power" }), [
    { type: "OrderFailed", ...b, reason: "insufficient buying power", origin: "broker" },
  ]);
  assert.deepEqual(eventsForRisk({ ...rejected, reason: "slippage" }), [
    { type: "OrderFailed", ...b, reason: "slippage", origin: "engine" },
  ]);
  assert.deepEqual(eventsForRisk(rejected), [
    { type: "OrderFailed", ...b, reason: "rejected", origin: "broker" },
  ]);
});
