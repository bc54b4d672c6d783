/** buyingPower is accountFigures' buying power, in every state an account passes through. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import { accountFigures, buyingPower } from "./account.ts";
import * as b from "./broker.ts";
import { orderRequest, quote, twoSymbolBroker } from "./test-support.ts";

const T0 = 1_772_460_000_000_000_000n;
const SESSION = { open: true, close: T0 + 10n ** 15n };

test("buyingPower equals accountFigures().buyingPower: flat, long, short, with open orders", () => {
  const s = twoSymbolBroker(T0, { seed: 3, cash: "50000" });
  const same = (when: string) => assert.equal(buyingPower(s), accountFigures(s).buyingPower, when);
  same("flat");
  let t = T0;
  const submit = (over: Parameters<typeof orderRequest>[1], qty: string) => {
    t += 1_000_000n;
    const r = b.submitOrder(s, orderRequest(qty, over), t, SESSION);
    assert.ok(
      r.ok,
      r.ok
        ? ""
        : `${qty} ${JSON.stringify(over, (_k, v) => (typeof v === "bigint" ? String(v) : v))}: ${JSON.stringify(r.error.body)}`,
    );
  };
  submit({ symbol: "AAPL", side: "buy" }, "100");
  same("long AAPL");
  submit({ symbol: "MSFT", side: "sell" }, "30");
  same("long AAPL, short MSFT");
  // Resting limits reserve buying power (buy below the ask, sell short above the bid).
  submit({ symbol: "AAPL", side: "buy", type: "limit", limitPrice: fromDecimal("90") }, "50");
  submit({ symbol: "MSFT", side: "buy", type: "limit", limitPrice: fromDecimal("350") }, "10");
  same("with open orders");
  // Marks move: the short loses, the long gains.
  t += 1_000_000n;
  quote(s, "MSFT", "450.00", "450.10", t);
  t += 1_000_000n;
  quote(s, "AAPL", "120.00", "120.02", t);
  same("after the marks moved");
  assert.ok(accountFigures(s).shortMarketValue < 0n, "a short position is held");
  // A short bigger than the cash can carry: buying power floors at zero on both.
  // (a limit sell: a market one would meet the resting buy, a potential wash trade)
  submit({ symbol: "AAPL", side: "sell", type: "limit", limitPrice: fromDecimal("95") }, "100");
  same("long closed");
  t += 1_000_000n;
  quote(s, "MSFT", "2000.00", "2000.10", t);
  same("short beyond the cash");
  assert.equal(buyingPower(s), 0n);
});
