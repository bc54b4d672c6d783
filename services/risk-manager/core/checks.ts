/**
 * checks are the six pre-trade checks. Each compares the state after the proposed order (filled
 * position + working orders + this order) with its limit and returns null when it passes.
 *
 * Shared rules (IMPORTANT, the tests pin them):
 * - a value AT a limit passes, above it fails (the spec's limits are "largest allowed" values);
 *   the daily loss is the exception: the spec names the loss "at which trading halts", so a loss
 *   equal to maxDailyLoss already refuses new risk;
 * - an order is never refused by a check whose measure it does not worsen, so an order that
 *   reduces a position always gets through even when limits were tightened under it.
 */
import { abs, type Fixed, max, mul, toDecimal, ZERO } from "../../core/money.ts";
import type { RiskState, SymbolExposure } from "./state.ts";
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

/** runChecks runs the six checks in order and returns the first refusal, or null. */
export function runChecks(
  state: RiskState,
  sym: SymbolExposure,
  signedQty: Fixed,
  price: Fixed,
): Rejection | null {
  const L = state.limits;
  const pre = sym.filledQty + sym.pendingQty;
  const post = pre + signedQty;
  const absPre = abs(pre);
  const absPost = abs(post);
  const grows = absPost > absPre;

  // 1. position size
  if (grows && absPost > L.maxPositionShares) {
    return reject(
      "max_position_shares",
      `${sym.symbol} position would be ${toDecimal(post)} shares, beyond the limit of ${toDecimal(L.maxPositionShares)}`,
    );
  }

  // 2. notional per symbol
  if (grows) {
    const notional = mul(absPost, price);
    if (notional > L.maxNotionalPerSymbol) {
      return reject(
        "max_notional_per_symbol",
        `${sym.symbol} position would be worth ${money(notional)} USD, beyond the limit of ${money(L.maxNotionalPerSymbol)}`,
      );
    }
  }

  // 3. open positions
  if (pre === ZERO && post !== ZERO) {
    let open = 0;
    for (const s of state.symbols.values()) if (s.filledQty + s.pendingQty !== ZERO) open++;
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
  const v = var99PrePost(state.symbols, sym, price, signedQty, L);
  if (v.post > v.pre) {
    const varPost = dollarsToCentsFixed(v.post);
    if (varPost > L.maxVar99) {
      return reject(
        "max_var99",
        `99% one-day VaR would be ${money(varPost)} USD, beyond the limit of ${money(L.maxVar99)}`,
      );
    }
  }

  // 6. sector concentration
  return checkSector(state, sym, pre, post, price);
}

function checkSector(
  state: RiskState,
  sym: SymbolExposure,
  pre: Fixed,
  post: Fixed,
  price: Fixed,
): Rejection | null {
  const L = state.limits;
  let grossOthers = ZERO;
  let sectorOthers = ZERO;
  for (const s of state.symbols.values()) {
    if (s === sym) continue;
    const q = s.filledQty + s.pendingQty;
    if (q === ZERO) continue;
    const e = abs(mul(q, s.price));
    grossOthers += e;
    if (s.sector === sym.sector) sectorOthers += e;
  }
  const sectorPre = sectorOthers + abs(mul(pre, price));
  const ePost = abs(mul(post, price));
  const sectorPost = sectorOthers + ePost;
  if (sectorPost <= sectorPre) return null;
  const grossPost = grossOthers + ePost;
  // The base is the larger of gross exposure and equity: measured against gross alone, the
  // first position would always be 100% of the book.
  const equity = state.equity ?? ZERO;
  const base = max(grossPost, equity);
  const allowed = mul(L.maxSectorConcentration, base);
  if (sectorPost > allowed) {
    return reject(
      "max_sector_concentration",
      `sector ${sym.sector} would hold ${money(sectorPost)} USD, beyond ${toDecimal(L.maxSectorConcentration)} of ${money(base)}`,
    );
  }
  return null;
}
