/**
 * checks are the six pre-trade checks. Each compares the state after the proposed order with its
 * limit and returns null when it passes. Exposure is the WORST CASE PER SIDE: working buys and
 * working sells are never netted (either may fill without the other), so a symbol's position can
 * reach anywhere from `shortEnd` (filled − working sells) to `longEnd` (filled + working buys).
 *
 * Shared rules (IMPORTANT, the tests pin them):
 * - a value AT a limit passes, above it fails (the spec's limits are "largest allowed" values);
 *   the daily loss is the exception: the spec names the loss "at which trading halts", so a loss
 *   equal to maxDailyLoss already refuses new risk;
 * - an order is never refused by a check whose measure it does not worsen, so an order that
 *   reduces a position always gets through even when limits were tightened under it.
 */
import { abs, type Fixed, max, mul, toDecimal, ZERO } from "../../core/money.ts";
import {
  isExposed,
  longEnd,
  type RiskState,
  type SymbolExposure,
  shortEnd,
  worstShares,
} from "./state.ts";
import type { RejectReason } from "./types.ts";
import { dollarsToCentsFixed, var99PrePost } from "./var.ts";

export interface Rejection {
  reason: RejectReason;
  message: string;
}

function reject(reason: RejectReason, message: string): Rejection {
  return { reason, message };
}

const money = (v: Fixed) => toDecimal(v, 2);

/** OrderShape: the worst-case extents of the order's symbol before and after the order. */
export interface OrderShape {
  /** signedQty: + for a buy (extends the long end), − for a sell (extends the short end). */
  signedQty: Fixed;
  worstPre: Fixed;
  worstPost: Fixed;
  /** grows: the order raises the largest |position| the symbol can reach. */
  grows: boolean;
}

/** shapeOf measures what an order does to its symbol's worst-case position. */
export function shapeOf(sym: SymbolExposure, signedQty: Fixed): OrderShape {
  const worstPre = worstShares(sym);
  const long = longEnd(sym) + (signedQty > ZERO ? signedQty : ZERO);
  const short = shortEnd(sym) + (signedQty < ZERO ? signedQty : ZERO);
  const worstPost = max(abs(long), abs(short));
  return { signedQty, worstPre, worstPost, grows: worstPost > worstPre };
}

/**
 * brokerRefusal: an order Alpaca refuses whatever the limits, so sending it would only earn a
 * broker reject (and a breaker failure): one that would take a position through zero in one go,
 * i.e. sell more than is held and not already committed to working sells (403 "insufficient qty
 * available for order"), and the same for buys against a short. It is refused, not split: send
 * the closing order, then the opening one once the close has filled. The pipeline's standard
 * lot is the exception (OrderProposed.standardLot): the core sizes it to `closable` shares, so
 * a strategy's exit closes a position an earlier partial fill left smaller than a lot. (An
 * order opposite a working one, which Alpaca refuses as a potential wash trade, is approved
 * here at its per-side worst case; the execution engine holds it until the working order ends.)
 */
export function brokerRefusal(sym: SymbolExposure, signedQty: Fixed): Rejection | null {
  const buying = signedQty > ZERO;
  const available = closable(sym, buying);
  if (available !== null && abs(signedQty) > available) {
    return reject(
      "crosses_zero",
      `${buying ? "buying" : "selling"} ${toDecimal(abs(signedQty))} ${sym.symbol} would go through zero from ${toDecimal(sym.filledQty)} (available to close: ${toDecimal(available)}); close first, then open`,
    );
  }
  return null;
}

/**
 * closable: the shares an order on this side can take off the filled position without going
 * through zero (held on the other side, less what working orders of this side already commit);
 * null when the order would not reduce a filled position at all.
 */
export function closable(sym: SymbolExposure, buying: boolean): Fixed | null {
  const held = sym.filledQty;
  if (buying ? held >= ZERO : held <= ZERO) return null;
  return buying ? -held - sym.pendingBuy : held - sym.pendingSell;
}

/** runChecks runs the six checks in order and returns the first refusal, or null. */
export function runChecks(
  state: RiskState,
  sym: SymbolExposure,
  shape: OrderShape,
  price: Fixed,
): Rejection | null {
  const L = state.limits;
  const { grows, worstPost } = shape;

  // 1. position size
  if (grows && worstPost > L.maxPositionShares) {
    return reject(
      "max_position_shares",
      `${sym.symbol} position could reach ${toDecimal(worstPost)} shares, beyond the limit of ${toDecimal(L.maxPositionShares)}`,
    );
  }

  // 2. notional per symbol
  if (grows) {
    const notional = mul(worstPost, price);
    if (notional > L.maxNotionalPerSymbol) {
      return reject(
        "max_notional_per_symbol",
        `${sym.symbol} position could be worth ${money(notional)} USD, beyond the limit of ${money(L.maxNotionalPerSymbol)}`,
      );
    }
  }

  // 3. open positions
  if (!isExposed(sym)) {
    let open = 0;
    for (const s of state.symbols.values()) if (isExposed(s)) open++;
    if (open + 1 > L.maxOpenPositions) {
      return reject(
        "max_open_positions",
        `opening ${sym.symbol} would make ${open + 1} open positions, beyond the limit of ${L.maxOpenPositions}`,
      );
    }
  }

  // 4. daily loss
  if (grows && state.dayStartPnl !== null && state.pnlKnown) {
    const loss = state.dayStartPnl - state.totalPnl;
    if (loss >= L.maxDailyLoss) {
      return reject(
        "max_daily_loss",
        `today's loss is ${money(loss)} USD, at or beyond the limit of ${money(L.maxDailyLoss)}: only reducing orders pass`,
      );
    }
  }

  // 5. 99% one-day VaR
  const v = var99PrePost(state.symbols, sym, price, shape.signedQty, L);
  if (v.post > v.pre) {
    const varPost = dollarsToCentsFixed(v.post);
    if (varPost > L.maxVar99) {
      const basis = v.thin
        ? ` (only ${v.scenarios} days of history: the worst day or 2.326σ, not a measured 99% quantile)`
        : "";
      return reject(
        "max_var99",
        `99% one-day VaR would be ${money(varPost)} USD${basis}, beyond the limit of ${money(L.maxVar99)}`,
      );
    }
  }

  // 6. sector concentration
  return checkSector(state, sym, shape, price);
}

function checkSector(
  state: RiskState,
  sym: SymbolExposure,
  shape: OrderShape,
  price: Fixed,
): Rejection | null {
  const L = state.limits;
  let grossOthers = ZERO;
  let sectorOthers = ZERO;
  for (const s of state.symbols.values()) {
    if (s === sym || !isExposed(s)) continue;
    const e = mul(worstShares(s), s.price);
    grossOthers += e;
    if (s.sector === sym.sector) sectorOthers += e;
  }
  const sectorPre = sectorOthers + mul(shape.worstPre, price);
  const ePost = mul(shape.worstPost, price);
  const sectorPost = sectorOthers + ePost;
  if (sectorPost <= sectorPre) return null;
  if (state.equity === null) {
    // Measured against gross exposure alone, every first position would be 100% of the book.
    return reject(
      "equity_unknown",
      "equity is not known yet (the position tracker has no account figures): sector concentration cannot be measured, only reducing orders pass",
    );
  }
  const grossPost = grossOthers + ePost;
  // The base is the larger of gross exposure and equity: measured against gross alone, the
  // first position would always be 100% of the book.
  const base = max(grossPost, state.equity);
  const allowed = mul(L.maxSectorConcentration, base);
  if (sectorPost > allowed) {
    return reject(
      "max_sector_concentration",
      `sector ${sym.sector} would hold ${money(sectorPost)} USD, beyond ${toDecimal(L.maxSectorConcentration)} of ${money(base)}`,
    );
  }
  return null;
}
