/**
 * runBrokerContract: one suite every Broker implementation must pass (the Alpaca client over the
 * simulator today; an in-process simulated broker for the backtester tomorrow). It speaks only
 * the Broker port and a way to set the market's quote, so any implementation can plug in.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Broker, OrderIntent } from "../../services/alpaca-client/broker.ts";
import type { BrokerOrder } from "../../services/alpaca-client/domain.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { fromDecimal, mul, ZERO } from "../../services/core/money.ts";

export interface BrokerUnderTest {
  broker: Broker;
  /**
   * setQuote makes (bid, ask) the symbol's NBBO now and lets resting orders match against it.
   * The market must not move by itself during the suite (e.g. a manual simulated clock).
   */
  setQuote(symbol: string, bid: string, ask: string): Promise<void> | void;
  close(): Promise<void>;
}

export interface BrokerContractOptions {
  name: string;
  /** newBroker starts a fresh account ($100,000 cash, no positions, no partial fills). */
  newBroker(): Promise<BrokerUnderTest>;
}

const SYMBOL = "AAPL";

async function eventually(
  what: string,
  broker: Broker,
  clientOrderId: string,
  ok: (o: BrokerOrder) => boolean,
): Promise<BrokerOrder> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const o = await broker.getOrderByClientOrderId(clientOrderId);
    if (o !== null && ok(o)) return o;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${o?.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function intent(id: string, fields: Partial<OrderIntent>): OrderIntent {
  return {
    clientOrderId: id,
    symbol: SYMBOL,
    side: "buy",
    type: "market",
    timeInForce: "day",
    qty: fromDecimal("10"),
    ...fields,
  };
}

export function runBrokerContract(opts: BrokerContractOptions): void {
  let b: BrokerUnderTest;
  let quote: [string, string] = ["100.00", "100.02"];
  const setQuote = async (bid: string, ask: string) => {
    quote = [bid, ask];
    await b.setQuote(SYMBOL, bid, ask);
  };
  /** tick repeats the current quote, so orders sent since are matched against it. */
  const tick = () => b.setQuote(SYMBOL, quote[0], quote[1]);
  before(async () => {
    b = await opts.newBroker();
    await setQuote("100.00", "100.02");
  });
  after(() => b.close());
  const name = (what: string) => `${opts.name}: ${what}`;

  test(name("a market buy fills at the ask and cash falls by exactly qty × ask"), async () => {
    const before = await b.broker.getAccount();
    await b.broker.submitOrder(intent("contract-buy", {}));
    await tick();
    const filled = await eventually("fill", b.broker, "contract-buy", (o) => o.status === "filled");
    assert.equal(filled.filledQty, fromDecimal("10"));
    assert.equal(filled.filledAvgPrice, fromDecimal("100.02"));
    const after = await b.broker.getAccount();
    assert.equal(before.cash - after.cash, mul(fromDecimal("10"), fromDecimal("100.02")));
    const pos = (await b.broker.listPositions()).find((p) => p.symbol === SYMBOL);
    assert.equal(pos?.qty, fromDecimal("10"));
    assert.equal(pos?.avgEntryPrice, fromDecimal("100.02"));
  });

  test(name("a market sell fills at the bid and flattens the position"), async () => {
    await setQuote("101.00", "101.03");
    await b.broker.submitOrder(intent("contract-sell", { side: "sell" }));
    await tick();
    const filled = await eventually(
      "fill",
      b.broker,
      "contract-sell",
      (o) => o.status === "filled",
    );
    assert.equal(filled.filledAvgPrice, fromDecimal("101"));
    const positions = await b.broker.listPositions();
    assert.equal(
      positions.find((p) => p.symbol === SYMBOL && p.qty !== ZERO),
      undefined,
    );
  });

  test(name("a limit buy below the bid rests, is listed open, and cancels"), async () => {
    const order = await b.broker.submitOrder(
      intent("contract-rest", { type: "limit", limitPrice: fromDecimal("90") }),
    );
    await tick();
    await eventually("new", b.broker, "contract-rest", (o) => o.status === "new");
    assert.ok((await b.broker.listOpenOrders()).some((o) => o.id === order.id));
    await b.broker.cancelOrder(order.id);
    const canceled = await eventually(
      "cancel",
      b.broker,
      "contract-rest",
      (o) => o.status === "canceled",
    );
    assert.equal(canceled.filledQty, ZERO);
    assert.ok(!(await b.broker.listOpenOrders()).some((o) => o.id === order.id));
  });

  test(name("a marketable limit buy fills at the ask, not at its limit"), async () => {
    await setQuote("100.00", "100.02");
    await b.broker.submitOrder(
      intent("contract-mlimit", {
        type: "limit",
        limitPrice: fromDecimal("105"),
        qty: fromDecimal("1"),
      }),
    );
    const filled = await eventually(
      "fill",
      b.broker,
      "contract-mlimit",
      (o) => o.status === "filled",
    );
    assert.equal(filled.filledAvgPrice, fromDecimal("100.02"));
  });

  test(name("the same clientOrderId twice places one order"), async () => {
    const req = intent("contract-once", { type: "limit", limitPrice: fromDecimal("50") });
    const first = await b.broker.submitOrder(req);
    await tick();
    const second = await b.broker.submitOrder(req);
    assert.equal(second.id, first.id);
    const open = await b.broker.listOpenOrders();
    assert.equal(open.filter((o) => o.clientOrderId === "contract-once").length, 1);
    await b.broker.cancelOrder(first.id);
  });

  test(name("an unknown clientOrderId resolves to null"), async () => {
    assert.equal(await b.broker.getOrderByClientOrderId("contract-never-sent"), null);
  });

  test(name("an order beyond buying power is refused with a TradepipeError"), async () => {
    await assert.rejects(
      b.broker.submitOrder(intent("contract-too-big", { qty: fromDecimal("100000") })),
      (err: unknown) => isTradepipeError(err),
    );
    assert.equal(await b.broker.getOrderByClientOrderId("contract-too-big"), null);
  });
}
