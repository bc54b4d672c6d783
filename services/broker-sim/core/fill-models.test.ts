import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromDecimal, toDecimal } from "../../core/money.ts";
import * as b from "./broker.ts";
import { createFillModel, type RestingLimitModel } from "./fill-models.ts";
import { orderRequest } from "./test-support.ts";
import type { Quote } from "./types.ts";

const T0 = 1_772_460_000_000_000_000n;
const SESSION = { open: true, close: T0 + 10n ** 15n };

function broker(restingLimits: RestingLimitModel, model = createFillModel({ restingLimits })) {
  const s = b.createBroker(
    {
      seed: 1,
      startingCash: fromDecimal("1000000"),
      partialFillProbability: 0,
      shortingEnabled: true,
      fillModel: model,
    },
    [
      {
        id: "id-AAPL",
        symbol: "AAPL",
        name: "AAPL",
        exchange: "NASDAQ",
        tradable: true,
        shortable: true,
        marginable: true,
        fractionable: true,
        easyToBorrow: true,
      },
    ],
    T0,
  );
  return s;
}

const q = (bid: string, bidLots: number, ask: string, askLots: number, t: bigint): Quote => ({
  symbol: "AAPL",
  t,
  bidPrice: fromDecimal(bid),
  bidSize: bidLots,
  bidExchange: "V",
  askPrice: fromDecimal(ask),
  askSize: askLots,
  askExchange: "V",
  conditions: [],
  tape: "C",
});

const print = (price: string, size: number, t: bigint) => ({
  symbol: "AAPL",
  t,
  id: 1,
  price: fromDecimal(price),
  size,
  exchange: "V",
  conditions: [],
  tape: "C",
});

const fills = (updates: b.TradeUpdate[]) =>
  updates
    .filter((u) => u.qty !== undefined)
    .map((u) => `${toDecimal(u.qty!)}@${toDecimal(u.price!)}`);

describe("fill models", () => {
  it("a market order takes only the size the quote shows and the rest from the next quotes", () => {
    const s = broker("conservative");
    b.onQuote(s, q("100", 1, "100.02", 2, T0), T0, true); // 200 shares offered
    const placed = b.submitOrder(s, orderRequest("350", {}), T0 + 1n, SESSION);
    assert.ok(placed.ok);
    assert.deepEqual(fills(placed.updates), ["200@100.02"]);
    // The same quote's size is consumed: a second order gets nothing from it.
    const second = b.submitOrder(s, orderRequest("10", {}), T0 + 2n, SESSION);
    assert.ok(second.ok);
    assert.deepEqual(fills(second.updates), []);
    const next = b.onQuote(s, q("100", 1, "100.03", 1, T0 + 3n), T0 + 3n, true);
    assert.deepEqual(fills(next), ["100@100.03"]);
  });

  it("conservative: a resting limit does not fill when touched, fills when the market trades through", () => {
    const s = broker("conservative");
    b.onQuote(s, q("100", 5, "100.02", 5, T0), T0, true);
    const placed = b.submitOrder(
      s,
      orderRequest("100", { type: "limit", limitPrice: fromDecimal("100.00") }),
      T0 + 1n,
      SESSION,
    );
    assert.ok(placed.ok);
    assert.deepEqual(fills(placed.updates), []);
    assert.deepEqual(
      fills(b.onTrade(s, print("100.00", 300, T0 + 2n), T0 + 2n, true)),
      [],
      "a print at the limit",
    );
    assert.deepEqual(
      fills(b.onQuote(s, q("99.99", 5, "100.00", 5, T0 + 3n), T0 + 3n, true)),
      [],
      "ask touches the limit",
    );
    assert.deepEqual(fills(b.onTrade(s, print("99.99", 60, T0 + 4n), T0 + 4n, true)), ["60@100"]);
    assert.deepEqual(fills(b.onQuote(s, q("99.97", 5, "99.98", 1, T0 + 5n), T0 + 5n, true)), [
      "40@100",
    ]);
  });

  it("queue: prints at the limit consume the size ahead first, then fill the order", () => {
    const s = broker("queue");
    b.onQuote(s, q("100", 3, "100.02", 5, T0), T0, true); // 300 shares ahead at 100.00
    const placed = b.submitOrder(
      s,
      orderRequest("100", { type: "limit", limitPrice: fromDecimal("100.00") }),
      T0 + 1n,
      SESSION,
    );
    assert.ok(placed.ok);
    assert.deepEqual(fills(b.onTrade(s, print("100.00", 250, T0 + 2n), T0 + 2n, true)), []);
    assert.deepEqual(fills(b.onTrade(s, print("100.00", 80, T0 + 3n), T0 + 3n, true)), ["30@100"]);
    assert.deepEqual(fills(b.onTrade(s, print("100.00", 500, T0 + 4n), T0 + 4n, true)), ["70@100"]);
  });

  it("queue with L2 books: the book's size at the limit is ahead, below the touch too; cancellations move the order up", () => {
    const shares = (n: number) => fromDecimal(n);
    const bookFed = () => {
      const model = createFillModel({ restingLimits: "queue" });
      model.onBook("AAPL", "bid", fromDecimal("100.00"), shares(300), true);
      model.onBook("AAPL", "bid", fromDecimal("99.99"), shares(500), false);
      model.onBook("AAPL", "ask", fromDecimal("100.02"), shares(500), true);
      return { model, s: broker("queue", model) };
    };
    const below = (s: b.BrokerState) => {
      b.onQuote(s, q("100", 3, "100.02", 5, T0), T0, true);
      const placed = b.submitOrder(
        s,
        orderRequest("100", { type: "limit", limitPrice: fromDecimal("99.99") }),
        T0 + 1n,
        SESSION,
      );
      assert.ok(placed.ok);
      assert.deepEqual(fills(placed.updates), []);
    };
    // Quotes alone know nothing below the touch: the first print at 99.99 fills it.
    const plain = broker("queue");
    below(plain);
    assert.deepEqual(fills(b.onTrade(plain, print("99.99", 120, T0 + 2n), T0 + 2n, true)), [
      "100@99.99",
    ]);
    // The book shows 500 shares at 99.99: they trade first.
    const { model, s } = bookFed();
    below(s);
    assert.deepEqual(fills(b.onTrade(s, print("99.99", 120, T0 + 2n), T0 + 2n, true)), []);
    // 380 ahead; the level shrinks to 200 (cancellations ahead of it): 200 ahead.
    model.onBook("AAPL", "bid", fromDecimal("99.99"), shares(200), false);
    // Growing again (orders joining behind) does not push it back.
    model.onBook("AAPL", "bid", fromDecimal("99.99"), shares(900), false);
    assert.deepEqual(fills(b.onTrade(s, print("99.99", 250, T0 + 3n), T0 + 3n, true)), [
      "50@99.99",
    ]);
    // A snapshot (reset) replaces the side's levels.
    model.onBook("AAPL", "bid", fromDecimal("99.50"), shares(100), true);
    const other = b.submitOrder(
      s,
      orderRequest("10", { type: "limit", limitPrice: fromDecimal("100.00") }),
      T0 + 4n,
      SESSION,
    );
    assert.ok(other.ok);
    assert.deepEqual(
      fills(b.onTrade(s, print("100.00", 10, T0 + 5n), T0 + 5n, true)),
      ["10@100"],
      "after the snapshot nothing is left at 100.00: nothing ahead",
    );
  });

  it("without a fill model the paper rules apply and prints fill nothing", () => {
    const s = b.createBroker(
      {
        seed: 1,
        startingCash: fromDecimal("1000000"),
        partialFillProbability: 0,
        shortingEnabled: true,
      },
      [],
      T0,
    );
    assert.deepEqual(b.onTrade(s, print("1", 1, T0), T0, true), []);
  });
});
