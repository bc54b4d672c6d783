/** What a client can do to live orders and positions: each refusal as Alpaca answers it, and what is done. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Fixed, fromDecimal, toDecimal } from "../../core/money.ts";
import * as b from "./broker.ts";
import * as actions from "./order-actions.ts";
import type { OrderRequest, ReplaceRequest } from "./orders.ts";
import { orderRequest, twoSymbolBroker } from "./test-support.ts";

const T0 = 1_700_000_000_000_000_000n;
const OPEN: b.SessionInfo = { open: true, close: T0 + 86_400_000_000_000n };
const CLOSED: b.SessionInfo = { open: false, close: T0 + 86_400_000_000_000n };
const px = (s: string | number): Fixed => fromDecimal(s);

const broker = () => twoSymbolBroker(T0, { seed: 1 });

function submit(s: b.BrokerState, over: Partial<OrderRequest>, session = OPEN) {
  const r = b.submitOrder(s, orderRequest("10", over), T0, session);
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return r.value;
}

const replacing = (over: Partial<ReplaceRequest>): ReplaceRequest => ({
  qty: null,
  timeInForce: null,
  limitPrice: null,
  stopPrice: null,
  trail: null,
  clientOrderId: null,
  ...over,
});

function refusal(r: b.Outcome<unknown>): [number, number, string] {
  assert.equal(r.ok, false);
  if (r.ok) throw new Error("accepted");
  return [r.error.status, r.error.body.code, r.error.body.message];
}

describe("replaceOrder refusals", () => {
  test("an unknown or finished order cannot be replaced", () => {
    const s = broker();
    assert.deepEqual(refusal(actions.replaceOrder(s, "nope", replacing({}), T0, OPEN)), [
      404,
      40410000,
      "order not found",
    ]);
    const filled = submit(s, {});
    assert.deepEqual(refusal(actions.replaceOrder(s, filled.id, replacing({}), T0, OPEN)), [
      422,
      42210000,
      'order is already in "filled" state',
    ]);
  });

  test("an order not yet routed (accepted while the market is closed) cannot be replaced", () => {
    const s = broker();
    const waiting = submit(s, { type: "limit", limitPrice: px(90) }, CLOSED);
    assert.deepEqual(refusal(actions.replaceOrder(s, waiting.id, replacing({}), T0, OPEN)), [
      422,
      42210000,
      'order is in "accepted" state and cannot be replaced',
    ]);
  });

  test("a notional order, a taken client_order_id, prices the type has not and no quantity left are refused", () => {
    const s = broker();
    const limit = submit(s, { type: "limit", limitPrice: px(90), clientOrderId: "mine" });
    const notional = b.submitOrder(
      s,
      orderRequest("1", { qty: null, notional: px(50), type: "limit", limitPrice: px(80) }),
      T0,
      OPEN,
    );
    const cases: [string, Partial<ReplaceRequest>, RegExp][] = [
      [limit.id, { clientOrderId: "mine" }, /^client_order_id must be unique$/],
      [limit.id, { stopPrice: px(95) }, /^stop_price cannot be set on a limit order$/],
      [limit.id, { trail: px(1) }, /^trail cannot be set on a limit order$/],
      [limit.id, { qty: px(0) }, /^qty must be greater than the filled qty$/],
    ];
    assert.ok(notional.ok, "a resting notional limit order");
    cases.push([notional.value.id, {}, /^notional orders cannot be replaced$/]);
    for (const [id, over, re] of cases) {
      const [status, , message] = refusal(actions.replaceOrder(s, id, replacing(over), T0, OPEN));
      assert.equal(status, 422, re.source);
      assert.match(message, re);
    }
  });

  test("a limit price cannot be set on a stop order", () => {
    const s = broker();
    submit(s, {}); // hold shares so a sell stop is allowed
    const stop = submit(s, { side: "sell", type: "stop", stopPrice: px(90), timeInForce: "gtc" });
    const [, , message] = refusal(
      actions.replaceOrder(s, stop.id, replacing({ limitPrice: px(91) }), T0, OPEN),
    );
    assert.equal(message, "limit_price cannot be set on a stop order");
  });

  test("a replacement keeps what it does not change and gets a fresh client_order_id", () => {
    const s = broker();
    const old = submit(s, {
      type: "limit",
      limitPrice: px(90),
      timeInForce: "gtc",
      clientOrderId: "c1",
    });
    const r = actions.replaceOrder(s, old.id, replacing({ qty: px(4) }), T0, CLOSED);
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.deepEqual(
      [toDecimal(r.value.qty!), toDecimal(r.value.limitPrice!), r.value.timeInForce, r.value.type],
      ["4", "90", "gtc", "limit"],
    );
    assert.notEqual(r.value.clientOrderId, "c1");
    assert.notEqual(r.value.clientOrderId, "");
    assert.deepEqual(
      r.updates.map((u) => u.event),
      ["replaced"],
      "the market is closed: the new order waits",
    );
  });
});

describe("cancelAll and rejectOrder", () => {
  test("cancelAll cancels every live order and answers each with 200", () => {
    const s = broker();
    const a = submit(s, { type: "limit", limitPrice: px(90), timeInForce: "gtc" });
    submit(s, {}); // filled: not live
    const c = submit(s, { type: "limit", limitPrice: px(80), timeInForce: "gtc" });
    const r = actions.cancelAll(s, T0);
    assert.deepEqual(r.results, [
      { id: a.id, status: 200 },
      { id: c.id, status: 200 },
    ]);
    assert.deepEqual(
      r.updates.map((u) => [u.event, u.order.id]),
      [
        ["canceled", a.id],
        ["canceled", c.id],
      ],
    );
    assert.deepEqual(actions.cancelAll(s, T0).results, []);
  });

  test("an exchange reject fails a live order; a finished or unknown order is left alone", () => {
    const s = broker();
    const live = submit(s, { type: "limit", limitPrice: px(90), timeInForce: "gtc" });
    const updates = actions.rejectOrder(s, live.id, T0 + 5n);
    assert.deepEqual(
      updates.map((u) => [u.event, u.order.status, u.t]),
      [["rejected", "rejected", T0 + 5n]],
    );
    assert.equal(s.orders.get(live.id)!.failedAt, T0 + 5n);
    assert.deepEqual(actions.rejectOrder(s, live.id, T0 + 6n), []);
    assert.deepEqual(actions.rejectOrder(s, "nope", T0), []);
  });
});

describe("closePosition refusals", () => {
  test("no position, both qty and percentage, a zero qty or a percentage out of range are refused", () => {
    const s = broker();
    submit(s, { qty: px(10) });
    const close = (symbol: string, qty: Fixed | null, percentage: Fixed | null) =>
      actions.closePosition(s, symbol, { qty, percentage }, T0, OPEN);
    assert.deepEqual(refusal(close("MSFT", null, null)), [
      404,
      40410000,
      "position does not exist",
    ]);
    assert.deepEqual(refusal(close("NOPE", null, null)), [
      404,
      40410000,
      "position does not exist",
    ]);
    const msg = (r: b.Outcome<unknown>) => refusal(r)[2];
    assert.equal(msg(close("AAPL", px(1), px(50))), "qty and percentage cannot both be specified");
    assert.equal(msg(close("AAPL", px(0), null)), "qty must be > 0");
    assert.equal(msg(close("AAPL", null, px(0))), "percentage must be between 0 and 100");
    assert.equal(msg(close("AAPL", null, px("100.1"))), "percentage must be between 0 and 100");
    assert.equal(msg(close("AAPL", null, px(5))), "percentage is too small to sell a whole share");
  });

  test("a qty closes that much; 100 percent closes it all; a short is bought back", () => {
    const s = broker();
    submit(s, { qty: px(10) });
    const some = actions.closePosition(s, "AAPL", { qty: px(4), percentage: null }, T0, OPEN);
    assert.ok(some.ok && some.value.side === "sell" && toDecimal(some.value.qty!) === "4");
    const rest = actions.closePosition(s, "AAPL", { qty: null, percentage: px(100) }, T0, OPEN);
    assert.ok(rest.ok && toDecimal(rest.value.qty!) === "6");
    assert.equal(s.ledger.positions.has("AAPL"), false);
    submit(s, { symbol: "MSFT", side: "sell", qty: px(3) });
    const cover = actions.closePosition(s, "MSFT", { qty: null, percentage: null }, T0, OPEN);
    assert.ok(cover.ok && cover.value.side === "buy" && toDecimal(cover.value.qty!) === "3");
  });

  test("a fractional position closes by an exact fraction", () => {
    const s = broker();
    submit(s, { qty: px("2.5") });
    const part = actions.closePosition(s, "AAPL", { qty: null, percentage: px(10) }, T0, OPEN);
    assert.ok(part.ok && toDecimal(part.value.qty!) === "0.25");
  });

  test("closing all without cancelling leaves working orders; a failed close is reported per symbol", () => {
    const s = broker();
    submit(s, { qty: px(10) });
    const resting = submit(s, { type: "limit", limitPrice: px(90), timeInForce: "gtc" });
    const r = actions.closeAllPositions(s, false, T0, OPEN);
    // The sell would meet the working buy: refused as a potential wash trade, as Alpaca does.
    assert.deepEqual(
      r.results.map((x) => [x.symbol, x.status, x.error?.message]),
      [["AAPL", 422, "potential wash trade detected. use complex orders"]],
    );
    assert.equal(s.orders.get(resting.id)!.status, "new");
    assert.equal(toDecimal(s.ledger.positions.get("AAPL")!.qty), "10");
  });
});
