/**
 * Transaction costs of one execution: a commission (per share and per order, Alpaca: zero) and
 * the US regulatory fees on sales: the SEC Section 31 fee (a rate times the sale's notional) and
 * FINRA's Trading Activity Fee (per share sold, capped per execution). Rates change (the SEC sets
 * its rate each fiscal year), so they are configuration; the defaults are the published rates of
 * 2025 ($27.80 per million, TAF $0.000166 per share up to $8.30).
 *
 * Pure and exact: Fixed in, Fixed out; each fee is rounded up to the cent as brokers charge it.
 */
import { type Fixed, fromDecimal, min, mul, SCALE, ZERO } from "../core/money.ts";

export interface FeeSchedule {
  commissionPerShare: Fixed;
  commissionPerOrder: Fixed;
  /** secFeeRate: the fraction of a sale's notional charged (27.80 per million = 0.0000278). */
  secFeeRate: Fixed;
  finraTafPerShare: Fixed;
  finraTafMax: Fixed;
}

export const DEFAULT_FEES: FeeSchedule = {
  commissionPerShare: ZERO,
  commissionPerOrder: ZERO,
  secFeeRate: fromDecimal("0.0000278"),
  finraTafPerShare: fromDecimal("0.000166"),
  finraTafMax: fromDecimal("8.30"),
};

export interface ExecutionFees {
  commission: Fixed;
  secFee: Fixed;
  finraTaf: Fixed;
  total: Fixed;
}

const CENT = SCALE / 100n;

/** ceilCent rounds a non-negative amount up to the next cent. */
export function ceilCent(v: Fixed): Fixed {
  return v <= ZERO ? ZERO : ((v + CENT - 1n) / CENT) * CENT;
}

/**
 * feesFor prices one execution of `qty` shares at `price`; `firstOfOrder` charges the per-order
 * commission once per order.
 */
export function feesFor(
  schedule: FeeSchedule,
  side: "buy" | "sell",
  qty: Fixed,
  price: Fixed,
  firstOfOrder: boolean,
): ExecutionFees {
  const commission = ceilCent(
    mul(qty, schedule.commissionPerShare) + (firstOfOrder ? schedule.commissionPerOrder : ZERO),
  );
  let secFee = ZERO;
  let finraTaf = ZERO;
  if (side === "sell") {
    secFee = ceilCent(mul(mul(qty, price), schedule.secFeeRate));
    const taf = ceilCent(mul(qty, schedule.finraTafPerShare));
    finraTaf = min(taf, schedule.finraTafMax);
  }
  return { commission, secFee, finraTaf, total: commission + secFee + finraTaf };
}
