/**
 * A test strategy that asks for its own size and limit: every `every`-th price change it
 * alternates BUY and SELL of `qty` shares with a limit `offset` beyond the mid (a buy above, a
 * sell below), on 6 decimals so the risk-manager has to put it on the tick.
 */
import { defineStrategy, Type } from "../../signal-bridge/strategy/api.ts";

export default defineStrategy({
  name: "sized-limit",
  description: "Alternating BUY and SELL with a target quantity and a limit price (tests).",
  params: Type.Object(
    {
      every: Type.Integer({ default: 40, minimum: 1 }),
      qty: Type.Integer({ default: 7, minimum: 1 }),
      offset: Type.Number({ default: 0.123456 }),
    },
    { additionalProperties: false },
  ),
  create(p) {
    let changes = 0;
    let side: 1 | -1 = -1;
    return {
      onTick(tick, _f, out) {
        if (!tick.priceChanged || ++changes % p.every !== 0) return;
        side = side === 1 ? -1 : 1;
        out.direction = side;
        out.strength = 0.9;
        out.targetQty = p.qty;
        out.limitPrice = tick.mid + side * p.offset;
        out.reason = side > 0 ? "buy-turn" : "sell-turn";
      },
    };
  },
});
