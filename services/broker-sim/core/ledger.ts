/**
 * ledger: cash, positions and realized P&L of the simulated account, exact to the nano-unit.
 * Positions use average cost: adding to a position moves its average, reducing it realizes
 * (price − average) × qty. A fill never crosses zero (the broker refuses such orders), which keeps
 * the bookkeeping to those two cases.
 */
import { abs, div, type Fixed, min, mul, ZERO } from "../../core/money.ts";
import type { Side } from "./orders.ts";

export interface Position {
  symbol: string;
  assetId: string;
  /** qty is signed: negative for a short position. */
  qty: Fixed;
  /** costBasis is signed like qty: qty × average entry price. */
  costBasis: Fixed;
}

export interface Ledger {
  cash: Fixed;
  realizedPl: Fixed;
  positions: Map<string, Position>;
}

export function createLedger(cash: Fixed): Ledger {
  return { cash, realizedPl: ZERO, positions: new Map() };
}

export function avgEntryPrice(p: Position): Fixed {
  return p.qty === ZERO ? ZERO : div(p.costBasis, p.qty);
}

/** applyFill books one execution and returns the position quantity after it. */
export function applyFill(
  ledger: Ledger,
  symbol: string,
  assetId: string,
  side: Side,
  qty: Fixed,
  price: Fixed,
): Fixed {
  const signed = side === "buy" ? qty : -qty;
  const value = mul(qty, price);
  ledger.cash += side === "buy" ? -value : value;
  const pos = ledger.positions.get(symbol) ?? { symbol, assetId, qty: ZERO, costBasis: ZERO };
  const sameDirection = pos.qty === ZERO || pos.qty > ZERO === signed > ZERO;
  if (sameDirection) {
    pos.qty += signed;
    pos.costBasis += side === "buy" ? value : -value;
  } else {
    const avg = avgEntryPrice(pos);
    const closing = min(abs(signed), abs(pos.qty));
    const pnlPerShare = pos.qty > ZERO ? price - avg : avg - price;
    ledger.realizedPl += mul(closing, pnlPerShare);
    const remaining = pos.qty + signed;
    pos.costBasis = remaining === ZERO ? ZERO : mul(remaining, avg);
    pos.qty = remaining;
  }
  if (pos.qty === ZERO) ledger.positions.delete(symbol);
  else ledger.positions.set(symbol, pos);
  return pos.qty;
}

/** marketValues sums long and short market value at the given marks (short value is negative). */
export function marketValues(
  ledger: Ledger,
  mark: (symbol: string) => Fixed | undefined,
): { long: Fixed; short: Fixed } {
  let long = ZERO;
  let short = ZERO;
  for (const p of ledger.positions.values()) {
    const price = mark(p.symbol) ?? avgEntryPrice(p);
    const mv = mul(p.qty, price);
    if (mv >= ZERO) long += mv;
    else short += mv;
  }
  return { long, short };
}
