/**
 * Costs of the backtest's executions. Regulatory fees (SEC fee, FINRA TAF, CAT) are the
 * project's one fee schedule (services/core/fees.ts, the spec's `positions.fees`): the venue's
 * ledger charges them as Alpaca does and the position tracker books them, exactly as live.
 * A commission (Alpaca charges none on equities) is the backtest's own option, to price another
 * broker: per share and per order, rounded up to the cent, taken off the backtest's equity.
 */
import { type Fixed, fromDecimal, mul, SCALE, ZERO } from "../core/money.ts";

export interface Commission {
  perShare: Fixed;
  perOrder: Fixed;
}

export const NO_COMMISSION: Commission = { perShare: ZERO, perOrder: ZERO };

const CENT = SCALE / 100n;

/** ceilCent rounds a non-negative amount up to the next cent. */
export function ceilCent(v: Fixed): Fixed {
  return v <= ZERO ? ZERO : ((v + CENT - 1n) / CENT) * CENT;
}

/** commissionFor prices one execution of `qty` shares; `firstOfOrder` adds the per-order part. */
export function commissionFor(c: Commission, qty: Fixed, firstOfOrder: boolean): Fixed {
  return ceilCent(mul(qty, c.perShare) + (firstOfOrder ? c.perOrder : ZERO));
}

/** parseCommission reads "0.005" (per share) or "0.005/1" (per share / per order). */
export function parseCommission(text: string): Commission {
  const [perShare = "0", perOrder = "0"] = text.split("/");
  return { perShare: fromDecimal(perShare), perOrder: fromDecimal(perOrder) };
}
