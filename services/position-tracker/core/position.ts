/**
 * position applies fills to one symbol's position with average-cost accounting, exactly.
 *
 * A position keeps its signed quantity and its signed cost (Σ signed qty × price of the open
 * lot: positive when long, negative when short). A fill that grows the position adds to the
 * cost; one that reduces it removes the closed share of the cost (cost × closed / |qty|) and
 * books the difference as realized P&L; one that crosses zero closes the whole lot and opens the
 * remainder at the fill price.
 *
 * IMPORTANT (conservation, tested): realized − cost changes by exactly −(the fill's notional,
 * rounded to nine places) on every fill, so realized + unrealized always equals the cash flows
 * plus the marked value, with no rounding residue, whatever the order of fills.
 *
 * Beside the cost (rounded to nine places, what P&L is booked from) the position keeps `basis`,
 * the same open-lot notional unrounded (a `Wide`, scale 10^18): the average cost is basis / qty,
 * so one fill's average is its price exactly, not a rounded notional divided back.
 */
import {
  abs,
  divRound,
  divWide,
  type Fixed,
  fromWide,
  mul,
  mulWide,
  SCALE,
  type Wide,
  ZERO,
} from "../../core/money.ts";

export interface Position {
  symbol: string;
  qty: Fixed;
  cost: Fixed;
  /** basis: the open lot's signed notional, unrounded (scale 10^18), for the average cost. */
  basis: Wide;
  realized: Fixed;
  mark: Fixed;
  /** marketValue and unrealized are cached from qty, cost and mark. */
  marketValue: Fixed;
  unrealized: Fixed;
  /**
   * wholeOf, whole, isWhole: qty in whole shares (`whole`, when `isWhole`), remembered for the
   * qty `wholeOf`: re-marking a whole-share position is then one product (quotes re-mark often).
   */
  wholeOf: Fixed;
  whole: bigint;
  isWhole: boolean;
}

export function createPosition(symbol: string): Position {
  return {
    symbol,
    qty: ZERO,
    cost: ZERO,
    basis: 0n,
    realized: ZERO,
    mark: ZERO,
    marketValue: ZERO,
    unrealized: ZERO,
    wholeOf: ZERO,
    whole: 0n,
    isWhole: true,
  };
}

/** FillEffect: how one fill changed the totals (for the portfolio's running sums). */
export interface FillEffect {
  realized: Fixed;
  cashFlow: Fixed;
}

/**
 * applyFill books a fill of `signedQty` (buy > 0, sell < 0) at `price` and marks the position
 * at the fill price (the latest trade). Returns the realized P&L and cash flow it caused.
 */
export function applyFill(p: Position, signedQty: Fixed, price: Fixed): FillEffect {
  return applyExecution(p, signedQty, mulWide(signedQty, price), price);
}

/**
 * applyExecution books `signedQty` (buy > 0, sell < 0) for the signed notional `wide` (qty ×
 * price unrounded; for several executions booked at once, their sum) and marks the position at
 * `mark`. Returns the realized P&L and cash flow it caused.
 */
export function applyExecution(p: Position, signedQty: Fixed, wide: Wide, mark: Fixed): FillEffect {
  const notional = fromWide(wide);
  let realized = ZERO;
  const q = p.qty;
  if (q === ZERO || q > ZERO === signedQty > ZERO) {
    p.cost += notional;
    p.basis += wide;
    p.qty = q + signedQty;
  } else {
    const closing = abs(signedQty) < abs(q) ? signedQty : -q;
    const closingWide = closing === signedQty ? wide : divRound(wide * closing, signedQty);
    const closingNotional = fromWide(closingWide);
    const whole = closing === -q;
    const removed = whole ? p.cost : divRound(p.cost * abs(closing), abs(q));
    realized = -closingNotional - removed;
    p.cost -= removed;
    p.basis = whole ? 0n : p.basis - divRound(p.basis * abs(closing), abs(q));
    p.qty = q + closing;
    const rest = signedQty - closing;
    if (rest !== ZERO) {
      p.cost += notional - closingNotional;
      p.basis = wide - closingWide;
      p.qty += rest;
    }
    p.realized += realized;
  }
  p.mark = mark;
  remark(p);
  return { realized, cashFlow: -notional };
}

/** markTo sets the mark price and refreshes the cached market value and unrealized P&L. */
export function markTo(p: Position, price: Fixed): void {
  p.mark = price;
  remark(p);
}

function remark(p: Position): void {
  const q = p.qty;
  if (q === ZERO) {
    // Flat is the common case between round trips: no product to round.
    p.marketValue = ZERO;
  } else {
    if (p.wholeOf !== q) {
      p.wholeOf = q;
      p.isWhole = q % SCALE === ZERO;
      p.whole = p.isWhole ? q / SCALE : 0n;
    }
    // k whole shares × mark is exactly what mul(q, mark) rounds to.
    p.marketValue = p.isWhole ? p.whole * p.mark : mul(q, p.mark);
  }
  p.unrealized = p.marketValue - p.cost;
}

/** averageCost is the open lot's average price (0 when flat), from the unrounded basis. */
export function averageCost(p: Position): Fixed {
  return p.qty === ZERO ? ZERO : divWide(abs(p.basis), abs(p.qty));
}
