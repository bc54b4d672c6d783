/** test-support builds broker states, assets, quotes and order requests for the unit tests. */
import { fromDecimal } from "../../core/money.ts";
import * as b from "./broker.ts";
import type { OrderRequest } from "./orders.ts";
import type { Nanos } from "./time.ts";

/** asset: a tradable, shortable, fractionable NASDAQ listing of `symbol`. */
const asset = (symbol: string): b.Asset => ({
  id: `id-${symbol}`,
  symbol,
  name: symbol,
  exchange: "NASDAQ",
  tradable: true,
  shortable: true,
  marginable: true,
  fractionable: true,
  easyToBorrow: true,
});

/** quote applies a one-share-each-side NBBO for `symbol` at `t` and returns the fills it caused. */
export function quote(
  s: b.BrokerState,
  symbol: string,
  bid: string,
  ask: string,
  t: Nanos,
  open = true,
): b.TradeUpdate[] {
  return b.onQuote(
    s,
    {
      symbol,
      t,
      bidPrice: fromDecimal(bid),
      bidSize: 1,
      bidExchange: "V",
      askPrice: fromDecimal(ask),
      askSize: 1,
      askExchange: "V",
      conditions: [],
      tape: "C",
    },
    t,
    open,
  );
}

/**
 * twoSymbolBroker: a broker created at `t0` trading AAPL (100.00 × 100.02) and MSFT
 * (400.00 × 400.10), shorting enabled.
 */
export function twoSymbolBroker(
  t0: Nanos,
  options: { seed: number; cash?: string; partialFillProbability?: number },
): b.BrokerState {
  const s = b.createBroker(
    {
      seed: options.seed,
      startingCash: fromDecimal(options.cash ?? "100000"),
      partialFillProbability: options.partialFillProbability ?? 0,
      shortingEnabled: true,
    },
    [asset("AAPL"), asset("MSFT")],
    t0,
  );
  quote(s, "AAPL", "100.00", "100.02", t0);
  quote(s, "MSFT", "400.00", "400.10", t0);
  return s;
}

/** orderRequest: a day market buy of `qty` AAPL, with `over` applied. */
export const orderRequest = (qty: string, over: Partial<OrderRequest>): OrderRequest => ({
  symbol: "AAPL",
  side: "buy",
  type: "market",
  timeInForce: "day",
  qty: fromDecimal(qty),
  notional: null,
  limitPrice: null,
  stopPrice: null,
  trailPrice: null,
  trailPercent: null,
  extendedHours: false,
  clientOrderId: null,
  ...over,
});
