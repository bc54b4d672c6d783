/**
 * position applies fills to one symbol's position with average-cost accounting, exactly.
 *
 * A position keeps its signed quantity and its signed cost (Σ signed qty × price of the open
 * lot: positive when long, negative when short). A fill that grows the position adds to the
 * cost; one that reduces it removes the closed share of the cost (cost × closed / |qty|) and
 * books the difference as realized P&L; one that crosses zero closes the whole lot and opens the
 * remainder at the fill price.
 *
 * IMPORTANT (conservation, tested): realized − cost changes by exactly −(fill qty × price) on
 * every fill, so realized + unrealized always equals the cash flows plus the marked value, with
 * no rounding residue, whatever the order of fills.
 */
import { abs, div, divRound, type Fixed, mul, ZERO } from "../../core/money.ts";

export interface Position {
  symbol: string;
  qty: Fixed;
  cost: Fixed;
  realized: Fixed;
  mark: Fixed;
  /** marketValue and unrealized are cached from qty, cost and mark. */
  marketValue: Fixed;
  unrealized: Fixed;
}

export function createPosition(symbol: string): Position {
  return {
    symbol,
    qty: ZERO,
    cost: ZERO,
    realized: ZERO,
    mark: ZERO,
    marketValue: ZERO,
    unrealized: ZERO,
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
  const notional = mul(signedQty, price);
  let realized = ZERO;
  const q = p.qty;
  if (q === ZERO || q > ZERO === signedQty > ZERO) {
    p.cost += notional;
    p.qty = q + signedQty;
  } else {
    const closing = abs(signedQty) < abs(q) ? signedQty : -q;
    const closingNotional = closing === signedQty ? notional : mul(closing, price);
    const removed = closing === -q ? p.cost : divRound(p.cost * abs(closing), abs(q));
    realized = -closingNotional - removed;
    p.cost -= removed;
    p.qty = q + closing;
    const rest = signedQty - closing;
    if (rest !== ZERO) {
      p.cost += notional - closingNotional;
      p.qty += rest;
    }
    p.realized += realized;
  }
  p.mark = price;
  remark(p);
  return { realized, cashFlow: -notional };
}

/** markTo sets the mark price and refreshes the cached market value and unrealized P&L. */
export function markTo(p: Position, price: Fixed): void {
  p.mark = price;
  remark(p);
}

function remark(p: Position): void {
  p.marketValue = mul(p.qty, p.mark);
  p.unrealized = p.marketValue - p.cost;
}

/** averageCost is the open lot's average price (0 when flat). */
export function averageCost(p: Position): Fixed {
  return p.qty === ZERO ? ZERO : div(abs(p.cost), abs(p.qty));
}
