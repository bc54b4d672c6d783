/**
 * Account activities (GET /v2/account/activities[/{type}]) through the client against the real
 * simulator: one FILL per execution with the trade update's execution id, FEE entries that add up
 * to what the account was charged, and paging by page_token in both directions and by time.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BrokerHttpError } from "../../services/alpaca-client/broker-errors.ts";
import type {
  WireFillActivity,
  WireNonTradeActivity,
} from "../../services/alpaca-client/wire-types.ts";
import { feeSchedule, fillFees } from "../../services/core/fees.ts";
import { fromDecimal, mul, toDecimal } from "../../services/core/money.ts";
import { type Harness, startHarness, waitFor } from "./support.ts";

const RATES = {
  secPerMillion: "27.8",
  tafPerShare: "0.000166",
  tafMaxPerTrade: "8.3",
  catPerShare: "0.0000265",
};

let h: Harness;
before(async () => {
  // Every executable order fills in parts, so one order has several executions.
  h = await startHarness(
    {
      symbols: ["AAPL"],
      partialFillProbability: 1,
      rateLimitPerMin: 100_000,
      fees: RATES,
    },
    { rateLimitPerMinute: 100_000, rateLimitBurst: 1_000 },
  );
  for (const [side, id] of [
    ["buy", "act-buy"],
    ["sell", "act-sell"],
  ] as const) {
    const o = await h.trading.submitOrder({
      symbol: "AAPL",
      side,
      type: "market",
      time_in_force: "day",
      qty: "40",
      client_order_id: id,
    });
    await waitFor(`${id} filled`, async () =>
      (await h.trading.getOrder(o.id)).status === "filled" ? true : undefined,
    );
  }
});
after(() => h.close());

interface SimFill {
  execution_id: string;
  order_id: string;
  side: "buy" | "sell";
  qty: string;
  price: string;
}

const simFills = () => h.sim.admin.state().fills as SimFill[];

test("each execution is one FILL activity carrying the trade update's execution id", async () => {
  const fills = (await h.trading.allActivities("FILL", { direction: "asc" })) as WireFillActivity[];
  const executions = simFills();
  assert.ok(executions.length > 2, "partial fills: several executions");
  assert.equal(fills.length, executions.length);
  const cum = new Map<string, bigint>();
  fills.forEach((a, i) => {
    const e = executions[i]!;
    assert.equal(a.activity_type, "FILL");
    assert.match(a.id, /^\d{17}::[0-9a-f-]{36}$/);
    assert.equal(a.id.split("::")[1], e.execution_id);
    assert.equal(a.order_id, e.order_id);
    assert.equal(a.qty, e.qty);
    assert.equal(a.price, e.price);
    const c = (cum.get(a.order_id) ?? 0n) + fromDecimal(a.qty);
    cum.set(a.order_id, c);
    assert.equal(fromDecimal(a.cum_qty), c);
    assert.equal(fromDecimal(a.leaves_qty), fromDecimal("40") - c);
    assert.equal(a.type, c === fromDecimal("40") ? "fill" : "partial_fill");
  });
});

test("FEE activities are the schedule's fees, and the account's cash paid exactly them", async () => {
  const fees = (await h.trading.allActivities("FEE")) as WireNonTradeActivity[];
  const schedule = feeSchedule(RATES);
  let expected = 0n;
  const cumulative = new Map<string, bigint>();
  let cashFlow = 0n;
  for (const e of simFills()) {
    const before = cumulative.get(e.order_id) ?? 0n;
    const qty = fromDecimal(e.qty);
    cumulative.set(e.order_id, before + qty);
    const notional = mul(qty, fromDecimal(e.price));
    expected += fillFees(schedule, e.side, before, before + qty, notional).total;
    cashFlow += e.side === "buy" ? -notional : notional;
  }
  const charged = fees.reduce((sum, f) => sum - fromDecimal(f.net_amount), 0n);
  assert.ok(charged > 0n);
  assert.equal(charged, expected);
  assert.deepEqual([...new Set(fees.map((f) => f.activity_sub_type))].sort(), [
    "CAT",
    "REG",
    "TAF",
  ]);
  const account = await h.trading.getAccount();
  assert.equal(account.cash, toDecimal(fromDecimal("100000") + cashFlow - charged));
});

test("paging: page_token continues in either direction; after/until bound by time", async () => {
  const all = await h.trading.listActivities(null, { activity_types: ["FILL", "FEE"] });
  assert.ok(all.length > 4);
  const byOne = await h.trading.allActivities(null, {
    activity_types: ["FILL", "FEE"],
    page_size: 1,
  });
  assert.deepEqual(
    byOne.map((a) => a.id),
    all.map((a) => a.id),
  );
  const asc = await h.trading.allActivities(null, {
    activity_types: ["FILL", "FEE"],
    direction: "asc",
    page_size: 3,
  });
  assert.deepEqual(
    asc.map((a) => a.id),
    all.map((a) => a.id).reverse(),
  );
  const fills = (await h.trading.allActivities("FILL", { direction: "asc" })) as WireFillActivity[];
  const pivot = fills[1]!.transaction_time;
  const later = (await h.trading.allActivities("FILL", { after: pivot })) as WireFillActivity[];
  const earlier = (await h.trading.allActivities("FILL", { until: pivot })) as WireFillActivity[];
  assert.ok(later.every((a) => a.transaction_time > pivot));
  assert.ok(earlier.every((a) => a.transaction_time < pivot));
  assert.deepEqual(await h.trading.listActivities("DIV"), [], "a valid type with nothing to list");
});

test("bad parameters are refused with 422 naming the parameter", async () => {
  for (const [type, query, word] of [
    ["FILL", { page_size: 0 }, /page_size/],
    ["FILL", { direction: "sideways" as "asc" }, /direction/],
    ["NOPE", {}, /activity type/],
    ["FILL", { page_token: "not-an-id" }, /page_token/],
    ["FILL", { after: "yesterday" }, /after/],
  ] as const) {
    await assert.rejects(
      h.trading.listActivities(type, query),
      (e: unknown) =>
        e instanceof BrokerHttpError && e.status === 422 && word.test(e.alpacaMessage ?? ""),
    );
  }
});
