/**
 * matching: decides whether an order can execute against the current NBBO, at what price and
 * for how much. Alpaca's paper rules: buys fill at the ask, sells at the bid; a limit executes
 * only when marketable (no price improvement, no queue position, quote size not checked); a stop
 * is elected when the quote crosses it; some fills are partial at random.
 */
import { div, type Fixed, fromDecimal, mul, ONE, SCALE, ZERO } from "../../core/money.ts";
import type { Order } from "./orders.ts";
import type { Prng } from "./prng.ts";
import type { Quote, Trade } from "./types.ts";

/** Fill is what one order executes now: `qty` (> 0) at `price`. */
export interface Fill {
  price: Fixed;
  qty: Fixed;
}

/**
 * FillModel decides fills in place of paper's rules (executablePrice + fillQty). It sees every
 * quote for a live order (after stop election), `arriving` true when the order has just been
 * routed, and every print on the tape. It may keep state between calls (consumed liquidity,
 * queue positions), so one model serves one broker.
 */
export interface FillModel {
  onQuote(o: Order, q: Quote, arriving: boolean): Fill | undefined;
  onTrade(o: Order, t: Trade): Fill | undefined;
}

const PCT_100 = fromDecimal(100);

/** protectiveLimit is the limit Alpaca attaches to an elected buy stop (4% under $50, else 2.5%). */
export function protectiveLimit(stop: Fixed): Fixed {
  const bump = stop < fromDecimal(50) ? fromDecimal("1.04") : fromDecimal("1.025");
  return roundCent(mul(stop, bump));
}

export function roundCent(v: Fixed): Fixed {
  const cent = SCALE / 100n;
  return ((v + cent - 1n) / cent) * cent;
}

/** trailStop recomputes a trailing stop's water mark and stop price from the quote. */
export function updateTrail(o: Order, q: Quote): void {
  if (o.type !== "trailing_stop" || o.triggered) return;
  const ref = o.side === "sell" ? q.bidPrice : q.askPrice;
  if (o.hwm === null || (o.side === "sell" ? ref > o.hwm : ref < o.hwm)) o.hwm = ref;
  const offset =
    o.trailPrice !== null ? o.trailPrice : mul(o.hwm, div(o.trailPercent ?? ZERO, PCT_100));
  o.stopPrice = o.side === "sell" ? o.hwm - offset : o.hwm + offset;
}

/** elect marks a stop-type order triggered when the quote crosses its stop. */
export function elect(o: Order, q: Quote): void {
  if (o.triggered || o.stopPrice === null) return;
  if (o.type !== "stop" && o.type !== "stop_limit" && o.type !== "trailing_stop") return;
  const crossed = o.side === "buy" ? q.askPrice >= o.stopPrice : q.bidPrice <= o.stopPrice;
  if (crossed) o.triggered = true;
}

/** executablePrice returns the fill price if the order is marketable now, otherwise undefined. */
export function executablePrice(o: Order, q: Quote): Fixed | undefined {
  const price = o.side === "buy" ? q.askPrice : q.bidPrice;
  if (price <= ZERO) return undefined;
  let limit: Fixed | null = null;
  switch (o.type) {
    case "market":
      break;
    case "limit":
      limit = o.limitPrice;
      break;
    case "stop":
      if (!o.triggered) return undefined;
      if (o.side === "buy" && o.stopPrice !== null) limit = protectiveLimit(o.stopPrice);
      break;
    case "stop_limit":
      if (!o.triggered) return undefined;
      limit = o.limitPrice;
      break;
    case "trailing_stop":
      if (!o.triggered) return undefined;
      break;
  }
  if (limit !== null && (o.side === "buy" ? price > limit : price < limit)) return undefined;
  return price;
}

/** fillQty picks how much of the remaining quantity fills now (partial with probability p). */
export function fillQty(o: Order, price: Fixed, prng: Prng, partialProbability: number): Fixed {
  let remaining: Fixed;
  if (o.qty === null) {
    const notionalLeft = (o.notional ?? ZERO) - o.filledNotional;
    remaining = (notionalLeft * SCALE) / price; // truncate: never spend more than the notional
    return remaining;
  }
  remaining = o.qty - o.filledQty;
  if (o.timeInForce === "fok" || partialProbability <= 0) return remaining;
  if (prng.next() >= partialProbability) return remaining;
  const wholeShares = remaining / ONE;
  if (remaining % ONE === ZERO) {
    // Whole-share orders fill in whole shares; a single share cannot fill partly.
    return wholeShares >= 2n ? BigInt(prng.int(1, Number(wholeShares - 1n))) * ONE : remaining;
  }
  const part = (remaining * BigInt(Math.floor(prng.next() * 1e6))) / 1_000_000n;
  return part > ZERO && part < remaining ? part : remaining;
}
