/** The account activities the simulator derives from its executions: FILL and regulatory FEE bodies. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { feeSchedule } from "../../core/fees.ts";
import { fromDecimal } from "../../core/money.ts";
import { accountActivities } from "./activities.ts";
import * as b from "./broker.ts";
import type { OrderRequest } from "./orders.ts";
import { orderRequest, twoSymbolBroker } from "./test-support.ts";

// 2024-03-12 10:30:00.5 in New York (EDT, UTC−4).
const T0 = BigInt(Date.UTC(2024, 2, 12, 14, 30, 0, 500)) * 1_000_000n;
const OPEN: b.SessionInfo = { open: true, close: T0 + 86_400_000_000_000n };
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}";

function submit(s: b.BrokerState, qty: string, over: Partial<OrderRequest> = {}, t = T0) {
  const r = b.submitOrder(s, orderRequest(qty, over), t, OPEN);
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return r.value;
}

describe("accountActivities", () => {
  test("one FILL per execution, its id the New York time to the millisecond and the execution id", () => {
    const s = twoSymbolBroker(T0, { seed: 1 });
    const order = submit(s, "10");
    const [fill, ...rest] = accountActivities(s);
    assert.deepEqual(rest, []);
    const execution = s.executions[0]!;
    const id = `20240312103000500::${execution.executionId}`;
    assert.deepEqual(fill, {
      id,
      type: "FILL",
      t: T0,
      body: {
        id,
        activity_type: "FILL",
        transaction_time: "2024-03-12T14:30:00.5Z",
        type: "fill",
        price: "100.02",
        qty: "10",
        side: "buy",
        symbol: "AAPL",
        leaves_qty: "0",
        order_id: order.id,
        cum_qty: "10",
        order_status: "filled",
      },
    });
  });

  test("partial fills count the order's cumulative and remaining quantity", () => {
    const s = twoSymbolBroker(T0, { seed: 3, partialFillProbability: 1 });
    submit(s, "10");
    const fills = accountActivities(s).map((a) => a.body);
    assert.ok(fills.length >= 1);
    const first = fills[0]!;
    assert.equal(first["type"], "partial_fill");
    assert.equal(first["order_status"], "partially_filled");
    assert.equal(
      fromDecimal(first["leaves_qty"] as string) + fromDecimal(first["cum_qty"] as string),
      fromDecimal(10),
    );
    assert.equal(first["cum_qty"], first["qty"]);
  });

  test("a notional order is done when it is filled (it has no quantity to count down)", () => {
    const s = twoSymbolBroker(T0, { seed: 1 });
    submit(s, "1", { qty: null, notional: fromDecimal(50) });
    const [fill] = accountActivities(s);
    assert.deepEqual(
      [fill!.body["type"], fill!.body["order_status"], fill!.body["leaves_qty"]],
      ["fill", "filled", "0"],
    );
  });

  test("with fees, a sale is followed by its REG, TAF and CAT fees, a purchase by CAT alone", () => {
    const s = twoSymbolBroker(T0, { seed: 1 });
    s.options.fees = feeSchedule({
      secPerMillion: "27.8",
      tafPerShare: "0.000166",
      tafMaxPerTrade: "8.3",
      catPerShare: "0.0000265",
    });
    submit(s, "10");
    submit(s, "10", { side: "sell" }, T0 + 1_000_000_000n);
    const all = accountActivities(s);
    assert.deepEqual(
      all.map((a) => [a.type, a.body["activity_sub_type"] ?? a.body["side"]]),
      [
        ["FILL", "buy"],
        ["FEE", "CAT"],
        ["FILL", "sell"],
        ["FEE", "REG"],
        ["FEE", "TAF"],
        ["FEE", "CAT"],
      ],
    );
    const sale = all[2]!;
    const reg = all[3]!;
    assert.match(reg.id, new RegExp(`^20240312103001500::${UUID}$`));
    assert.deepEqual(reg.body, {
      id: reg.id,
      activity_type: "FEE",
      activity_sub_type: "REG",
      date: "2024-03-12",
      created_at: "2024-03-12T14:30:01.5Z",
      net_amount: "-0.0278", // 10 × 100.00 × 27.8 / 1e6
      description: "SEC transaction fee on sell of 10 AAPL",
      symbol: "AAPL",
      qty: "10",
      status: "executed",
      currency: "USD",
      group_id: sale.id,
    });
    assert.equal(all[4]!.body["description"], "FINRA trading activity fee on sell of 10 AAPL");
    assert.equal(all[4]!.body["net_amount"], "-0.00166");
    assert.equal(all[5]!.body["description"], "Consolidated audit trail fee on sell of 10 AAPL");
    const feeIds = all.filter((a) => a.type === "FEE").map((a) => a.id);
    assert.equal(new Set(feeIds).size, feeIds.length, "each fee its own id");
    assert.deepEqual(
      accountActivities(s).map((a) => a.id),
      all.map((a) => a.id),
      "ids are stable",
    );
  });
});
