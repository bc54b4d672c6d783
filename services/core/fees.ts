/**
 * fees is the regulatory fee schedule of US equity trades through Alpaca, as a pure function:
 * the position-tracker books it into realized P&L (and so into the risk-manager's daily loss),
 * and a backtester imports the same `fillFees` so simulated and live P&L carry the same costs.
 *
 * Charges (Alpaca passes them on; no commission on equities):
 * - SEC transaction fee (Section 31): sells only, `secPerMillion` dollars per $1,000,000 of the
 *   sale's principal;
 * - FINRA Trading Activity Fee: sells only, `tafPerShare` per share, at most `tafMaxPerTrade`
 *   per trade (one order);
 * - Consolidated Audit Trail fee: buys and sells, `catPerShare` per executed share, the shares
 *   rounded up to a whole share.
 *
 * Rates are configuration (`spec.fees`), because the SEC resets its rate every fiscal year and
 * the CAT fee changes with each cost-recovery period. The defaults (`DEFAULT_FEE_RATES`) are the
 * values Alpaca published when this was written; the README of the position-tracker cites them.
 *
 * Each fee is exact to the nano-dollar, rounded up. The broker rounds the day's total of each fee
 * up to a cent, so a day's booked fees may be lower than the charge by less than a cent per fee.
 *
 * IMPORTANT: the TAF cap and the CAT whole-share rounding apply per order, so `fillFees` takes
 * the order's cumulative quantity before and after the fill, not the fill alone: any split of an
 * order into fills then costs the same as the order filled at once.
 */
import { TradepipeError } from "./errors.ts";
import { type Fixed, fromDecimal, min, mulCeil, SCALE, ZERO } from "./money.ts";

/** FeeRates are decimal strings, as in the spec (`spec.fees`). */
export interface FeeRates {
  secPerMillion: string;
  tafPerShare: string;
  tafMaxPerTrade: string;
  catPerShare: string;
}

/** DEFAULT_FEE_RATES: Alpaca's published equity rates (see the position-tracker README). */
export const DEFAULT_FEE_RATES: Readonly<FeeRates> = {
  secPerMillion: "0",
  tafPerShare: "0.000166",
  tafMaxPerTrade: "8.3",
  catPerShare: "0.0000265",
};

/** FeeSchedule: the rates as exact values; `secPerDollar` is secPerMillion / 1,000,000. */
export interface FeeSchedule {
  secPerDollar: Fixed;
  tafPerShare: Fixed;
  tafMaxPerTrade: Fixed;
  catPerShare: Fixed;
}

/** NO_FEES charges nothing (a venue or a test without fees). */
export const NO_FEES: Readonly<FeeSchedule> = {
  secPerDollar: ZERO,
  tafPerShare: ZERO,
  tafMaxPerTrade: ZERO,
  catPerShare: ZERO,
};

function rate(rates: FeeRates, field: keyof FeeRates): Fixed {
  let v: Fixed;
  try {
    v = fromDecimal(rates[field]);
  } catch (err) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `fees.${field}: not a decimal: ${JSON.stringify(rates[field])}`,
      { cause: err },
    );
  }
  if (v < ZERO) {
    throw new TradepipeError("TP_ERR_CONFIG", `fees.${field}: must not be negative, got ${v}`);
  }
  return v;
}

/** feeSchedule parses the configured rates; a bad one is TP_ERR_CONFIG naming the field. */
export function feeSchedule(rates: FeeRates = DEFAULT_FEE_RATES): FeeSchedule {
  const perMillion = rate(rates, "secPerMillion");
  return {
    // Kept at nine places: every published rate has at most three decimals per million.
    secPerDollar: perMillion / 1_000_000n,
    tafPerShare: rate(rates, "tafPerShare"),
    tafMaxPerTrade: rate(rates, "tafMaxPerTrade"),
    catPerShare: rate(rates, "catPerShare"),
  };
}

export interface FillFees {
  sec: Fixed;
  taf: Fixed;
  cat: Fixed;
  total: Fixed;
}

/** wholeSharesUp rounds a quantity up to a whole share (CAT counts executed shares so). */
function wholeSharesUp(qty: Fixed): Fixed {
  const whole = (qty / SCALE) * SCALE;
  return whole === qty ? qty : whole + SCALE;
}

/**
 * fillFees is what one fill of an order costs: `side`, the order's cumulative filled quantity
 * before (`filledBefore`) and after (`filledAfter`) this fill, and the fill's principal
 * (`notional`, positive). Pure and exact.
 */
export function fillFees(
  s: FeeSchedule,
  side: "buy" | "sell",
  filledBefore: Fixed,
  filledAfter: Fixed,
  notional: Fixed,
): FillFees {
  const cat =
    mulCeil(wholeSharesUp(filledAfter), s.catPerShare) -
    mulCeil(wholeSharesUp(filledBefore), s.catPerShare);
  let sec = ZERO;
  let taf = ZERO;
  if (side === "sell") {
    sec = mulCeil(notional, s.secPerDollar);
    const capped = (q: Fixed) => min(mulCeil(q, s.tafPerShare), s.tafMaxPerTrade);
    taf = capped(filledAfter) - capped(filledBefore);
  }
  return { sec, taf, cat, total: sec + taf + cat };
}
