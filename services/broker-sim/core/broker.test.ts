import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fromDecimal, toDecimal } from "../../core/money.ts";
import * as b from "./broker.ts";
import * as actions from "./order-actions.ts";
import type { OrderRequest } from "./orders.ts";
import { orderRequest, quote as quoteAt, twoSymbolBroker } from "./test-support.ts";

const T0 = 1_700_000_000_000_000_000n;
const OPEN: b.SessionInfo = { open: true, close: T0 + 86_400_000_000_000n };
const CLOSED: b.SessionInfo = { open: false, close: T0 + 86_400_000_000_000n };

const broker = (partialFillProbability = 0, cash = "100000"): b.BrokerState =>
  twoSymbolBroker(T0, { seed: 1, cash, partialFillProbability });

const quote = (s: b.BrokerState, symbol: string, bid: string, ask: string, t = T0, open = true) =>
  quoteAt(s, symbol, bid, ask, t, open);

const req = (over: Partial<OrderRequest>): OrderRequest => orderRequest("10", over);

function submit(s: b.BrokerState, over: Partial<OrderRequest>, session = OPEN) {
  const r = b.submitOrder(s, req(over), T0, session);
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return r;
}

const events = (us: b.TradeUpdate[]) => us.map((u) => u.event);

describe("matching at the NBBO", () => {
  test("a market buy fills at the ask, a market sell at the bid", () => {
    const s = broker();
    const buy = submit(s, {});
    assert.equal(buy.value.status, "pending_new");
    assert.deepEqual(events(buy.updates), ["new", "fill"]);
    assert.equal(toDecimal(buy.updates[1]!.price!), "100.02");
    const sell = submit(s, { side: "sell", qty: fromDecimal(4) });
    assert.equal(toDecimal(sell.updates[1]!.price!), "100");
    assert.equal(toDecimal(sell.updates[1]!.positionQty!), "6");
  });

  test("a limit order rests until marketable, then fills at the quote, not the limit", () => {
    const s = broker();
    const r = submit(s, { type: "limit", limitPrice: fromDecimal("99.50"), timeInForce: "gtc" });
    assert.deepEqual(events(r.updates), ["new"]);
    assert.deepEqual(events(quote(s, "AAPL", "99.40", "99.60")), []);
    const fills = quote(s, "AAPL", "99.30", "99.45");
    assert.deepEqual(events(fills), ["fill"]);
    assert.equal(toDecimal(fills[0]!.price!), "99.45");
  });

  test("a sell stop elects when the bid reaches the stop and fills at the bid", () => {
    const s = broker();
    submit(s, {});
    const r = submit(s, {
      side: "sell",
      type: "stop",
      stopPrice: fromDecimal("99"),
      timeInForce: "gtc",
    });
    assert.deepEqual(events(r.updates), ["new"]);
    assert.deepEqual(events(quote(s, "AAPL", "99.01", "99.03")), []);
    const fills = quote(s, "AAPL", "98.90", "98.95");
    assert.deepEqual(events(fills), ["fill"]);
    assert.equal(toDecimal(fills[0]!.price!), "98.9");
  });

  test("a stop_limit elects at the stop but fills only within its limit", () => {
    const s = broker();
    submit(s, {
      type: "stop_limit",
      stopPrice: fromDecimal("101"),
      limitPrice: fromDecimal("101.05"),
      timeInForce: "gtc",
    });
    assert.deepEqual(events(quote(s, "AAPL", "101.05", "101.10")), []);
    assert.deepEqual(events(quote(s, "AAPL", "101.00", "101.04")), ["fill"]);
  });

  test("a sell trailing stop follows the bid up and fires when it falls back by the trail", () => {
    const s = broker();
    submit(s, {});
    const r = submit(s, {
      side: "sell",
      type: "trailing_stop",
      trailPrice: fromDecimal("1"),
      timeInForce: "gtc",
    });
    assert.equal(toDecimal(r.value.hwm!), "100");
    assert.equal(toDecimal(r.value.stopPrice!), "99");
    assert.deepEqual(events(quote(s, "AAPL", "103.00", "103.02")), []);
    const o = s.orders.get(r.value.id)!;
    assert.equal(toDecimal(o.hwm!), "103");
    assert.equal(toDecimal(o.stopPrice!), "102");
    assert.deepEqual(events(quote(s, "AAPL", "102.50", "102.52")), []);
    const fills = quote(s, "AAPL", "101.90", "101.95");
    assert.deepEqual(events(fills), ["fill"]);
    assert.equal(toDecimal(fills[0]!.price!), "101.9");
  });

  test("ioc cancels what does not fill at once; fok never fills partly", () => {
    const s = broker(1);
    const ioc = submit(s, { type: "limit", limitPrice: fromDecimal("99"), timeInForce: "ioc" });
    assert.deepEqual(events(ioc.updates), ["new", "canceled"]);
    const fok = submit(s, { qty: fromDecimal(50), timeInForce: "fok" });
    assert.deepEqual(events(fok.updates), ["new", "fill"]);
    const fokMiss = submit(s, { type: "limit", limitPrice: fromDecimal("90"), timeInForce: "fok" });
    assert.deepEqual(events(fokMiss.updates), ["new", "canceled"]);
  });

  test("with partial-fill probability 1 an order fills in parts, the rest on later quotes", () => {
    const s = broker(1);
    const r = submit(s, { qty: fromDecimal(10) });
    assert.deepEqual(events(r.updates), ["new", "partial_fill"]);
    const all = [...r.updates];
    for (let i = 0; i < 20 && s.orders.get(r.value.id)!.status !== "filled"; i++) {
      all.push(...quote(s, "AAPL", "100.00", "100.02", T0 + BigInt(i + 1)));
    }
    assert.equal(s.orders.get(r.value.id)!.status, "filled");
    const filled = all.filter((u) => u.qty !== undefined).reduce((n, u) => n + u.qty!, 0n);
    assert.equal(filled, fromDecimal(10));
    assert.equal(all[all.length - 1]!.event, "fill");
  });

  test("orders placed while the market is closed wait in accepted and route at the open", () => {
    const s = broker();
    const r = submit(s, {}, CLOSED);
    assert.equal(r.value.status, "accepted");
    assert.deepEqual(r.updates, []);
    assert.deepEqual(events(b.openSession(s, T0 + 1n)), ["new", "fill"]);
  });

  test("day orders expire at the close; gtc orders stay", () => {
    const s = broker();
    submit(s, { type: "limit", limitPrice: fromDecimal("90") });
    const gtc = submit(s, { type: "limit", limitPrice: fromDecimal("90"), timeInForce: "gtc" });
    assert.deepEqual(events(b.expireDayOrders(s, T0 + 1n)), ["expired"]);
    assert.equal(s.orders.get(gtc.value.id)!.status, "new");
  });
});

describe("ledger: cash, positions and realized P&L are exact", () => {
  test("buying and selling moves cash by qty × price and realizes average-cost P&L", () => {
    const s = broker();
    submit(s, { qty: fromDecimal(10) }); // 10 @ 100.02
    quote(s, "AAPL", "101.00", "101.01");
    submit(s, { qty: fromDecimal(10) }); // 10 @ 101.01 → avg 100.515
    quote(s, "AAPL", "102.00", "102.02");
    submit(s, { side: "sell", qty: fromDecimal(5) }); // 5 @ 102 → +7.425
    assert.equal(toDecimal(s.ledger.cash), "98499.7");
    assert.equal(toDecimal(s.ledger.realizedPl), "7.425");
    const pos = s.ledger.positions.get("AAPL")!;
    assert.equal(toDecimal(pos.qty), "15");
    assert.equal(toDecimal(pos.costBasis), "1507.725");
  });

  test("a short sale opens a negative position and covering realizes P&L", () => {
    const s = broker();
    submit(s, { side: "sell", qty: fromDecimal(10) }); // short 10 @ 100
    assert.equal(toDecimal(s.ledger.positions.get("AAPL")!.qty), "-10");
    quote(s, "AAPL", "95.00", "95.02");
    submit(s, { side: "buy", qty: fromDecimal(10) }); // cover @ 95.02
    assert.equal(toDecimal(s.ledger.realizedPl), "49.8");
    assert.equal(s.ledger.positions.has("AAPL"), false);
    assert.equal(toDecimal(s.ledger.cash), "100049.8");
  });

  test("fractional quantities and notional orders are exact", () => {
    const s = broker();
    submit(s, { qty: fromDecimal("0.5") });
    const n = submit(s, { qty: null, notional: fromDecimal("50") });
    const fill = n.updates.find((u) => u.event === "fill")!;
    assert.equal(toDecimal(fill.qty!), "0.499900019");
    assert.equal(toDecimal(s.ledger.positions.get("AAPL")!.qty), "0.999900019");
  });
});

describe("refusals use Alpaca's codes", () => {
  test("insufficient buying power is 403 40310000 with the amounts", () => {
    const s = broker(0, "1000");
    const r = b.submitOrder(s, req({ qty: fromDecimal(100) }), T0, OPEN);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.status, 403);
    assert.equal(r.error.body.code, 40310000);
    assert.equal(r.error.body.message, "insufficient buying power");
    assert.equal(r.error.body["buying_power"], "1000");
  });

  test("open orders reserve buying power", () => {
    const s = broker(0, "1000");
    submit(s, {
      type: "limit",
      limitPrice: fromDecimal("90"),
      qty: fromDecimal(10),
      timeInForce: "gtc",
    });
    const r = b.submitOrder(
      s,
      req({ type: "limit", limitPrice: fromDecimal("90"), qty: fromDecimal(2) }),
      T0,
      OPEN,
    );
    assert.equal(r.ok, false);
  });

  test("selling more than the position holds (net of open sells) is 403 insufficient qty", () => {
    const s = broker();
    submit(s, { qty: fromDecimal(5) });
    submit(s, {
      side: "sell",
      type: "limit",
      limitPrice: fromDecimal(200),
      qty: fromDecimal(3),
      timeInForce: "gtc",
    });
    const r = b.submitOrder(s, req({ side: "sell", qty: fromDecimal(3) }), T0, OPEN);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.status, 403);
    assert.match(
      r.error.body.message,
      /insufficient qty available for order \(requested: 3, available: 2\)/,
    );
    assert.equal(r.error.body["held_for_orders"], "3");
  });

  test("an order through zero (long 10, sell 25) is 403 insufficient qty", () => {
    const s = broker();
    submit(s, {});
    const r = b.submitOrder(s, req({ side: "sell", qty: fromDecimal(25) }), T0, OPEN);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.status, 403);
    assert.match(r.error.body.message, /requested: 25, available: 10/);
  });

  test("an order opposite a working order is 422 potential wash trade detected", () => {
    const s = broker();
    submit(s, {});
    const resting = submit(s, {
      side: "sell",
      type: "limit",
      limitPrice: fromDecimal(200),
      qty: fromDecimal(3),
      timeInForce: "gtc",
    });
    const market = b.submitOrder(s, req({ qty: fromDecimal(1) }), T0, OPEN);
    assert.equal(market.ok, false);
    if (market.ok) return;
    assert.equal(market.error.status, 422);
    assert.equal(market.error.body.code, 42210000);
    assert.equal(market.error.body.message, "potential wash trade detected. use complex orders");
    assert.deepEqual(market.error.body["related_orders"], [resting.value.id]);
    // A buy limit at or above the working sell's limit could meet it; one below cannot.
    const crossing = req({ type: "limit", limitPrice: fromDecimal(200), qty: fromDecimal(1) });
    assert.equal(b.submitOrder(s, crossing, T0, OPEN).ok, false);
    const below = req({ type: "limit", limitPrice: fromDecimal("199.99"), qty: fromDecimal(1) });
    assert.equal(b.submitOrder(s, below, T0, OPEN).ok, true);
    // Same side is no wash trade.
    assert.equal(b.submitOrder(s, req({ side: "sell", qty: fromDecimal(1) }), T0, OPEN).ok, true);
  });

  test("client_order_id is unique account-wide, also after a cancel", () => {
    const s = broker();
    const first = submit(s, { type: "limit", limitPrice: fromDecimal(90), clientOrderId: "abc" });
    assert.equal(actions.cancelOrder(s, first.value.id, T0).ok, true);
    const again = b.submitOrder(s, req({ clientOrderId: "abc" }), T0, OPEN);
    assert.equal(again.ok, false);
    if (again.ok) return;
    assert.deepEqual(again.error, {
      status: 422,
      body: { code: 40010001, message: "client_order_id must be unique" },
    });
  });

  test("notional sells are refused with a message saying why", () => {
    const s = broker();
    submit(s, {});
    const r = b.submitOrder(
      s,
      req({ side: "sell", qty: null, notional: fromDecimal(50) }),
      T0,
      OPEN,
    );
    assert.equal(
      !r.ok && r.error.body.message,
      "notional sell orders are not supported by the simulator; sell a qty",
    );
  });

  test("unknown symbols and finished orders", () => {
    const s = broker();
    const unknown = b.submitOrder(s, req({ symbol: "ZZZZ" }), T0, OPEN);
    assert.equal(!unknown.ok && unknown.error.status, 422);
    const filled = submit(s, {});
    const cancel = actions.cancelOrder(s, filled.value.id, T0);
    assert.equal(!cancel.ok && cancel.error.body.message, 'order is already in "filled" state');
    const missing = actions.cancelOrder(s, "nope", T0);
    assert.equal(!missing.ok && missing.error.status, 404);
  });
});

describe("replace and close", () => {
  test("replace creates a new order that replaces the old one", () => {
    const s = broker();
    const old = submit(s, { type: "limit", limitPrice: fromDecimal(90), timeInForce: "gtc" });
    const r = actions.replaceOrder(
      s,
      old.value.id,
      {
        qty: fromDecimal(12),
        limitPrice: fromDecimal("100.05"),
        timeInForce: null,
        stopPrice: null,
        trail: null,
        clientOrderId: "r1",
      },
      T0,
      OPEN,
    );
    assert.equal(r.ok, true);
    if (!r.ok) return;
    assert.deepEqual(events(r.updates), ["replaced", "new", "fill"]);
    assert.equal(s.orders.get(old.value.id)!.status, "replaced");
    assert.equal(s.orders.get(old.value.id)!.replacedBy, r.value.id);
    assert.equal(r.value.replaces, old.value.id);
    assert.equal(toDecimal(s.ledger.positions.get("AAPL")!.qty), "12");
  });

  test("closePosition by percentage sells whole shares; closeAll flattens", () => {
    const s = broker();
    submit(s, { qty: fromDecimal(10) });
    submit(s, { symbol: "MSFT", qty: fromDecimal(2) });
    const half = actions.closePosition(
      s,
      "AAPL",
      { qty: null, percentage: fromDecimal(35) },
      T0,
      OPEN,
    );
    assert.equal(half.ok && toDecimal(half.value.qty!), "3");
    const all = actions.closeAllPositions(s, true, T0, OPEN);
    assert.deepEqual(
      all.results.map((x) => [x.symbol, x.status]),
      [
        ["AAPL", 200],
        ["MSFT", 200],
      ],
    );
    assert.equal(s.ledger.positions.size, 0);
  });
});

describe("determinism", () => {
  test("the same order flow against the same quotes gives the same fills and ids", () => {
    const run = () => {
      const s = broker(0.5);
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        const r = b.submitOrder(
          s,
          req({ qty: fromDecimal(7 + (i % 5)), side: i % 3 === 0 ? "sell" : "buy" }),
          T0 + BigInt(i),
          OPEN,
        );
        if (r.ok) out.push(r.value.id, ...r.updates.map((u) => `${u.event}:${u.qty ?? ""}`));
        out.push(...events(quote(s, "AAPL", "100.00", "100.02", T0 + BigInt(i))));
      }
      return out.join(",");
    };
    assert.equal(run(), run());
  });
});
