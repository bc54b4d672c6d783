/**
 * step is the position-tracker core's transition function: stepPositions(state, event) mutates
 * `state` in place and returns the commands for the shell. Deterministic: no clock, no
 * randomness, no I/O. Quotes are the hot path: one position re-marked, running totals adjusted,
 * no allocation unless a command is due.
 */
import { fillFees } from "../../core/fees.ts";
import { type Fixed, fromWide, mul, mulWide, ZERO } from "../../core/money.ts";
import { drawdownOf, observeEquity } from "./drawdown.ts";
import { applyExecution, createPosition, markTo, type Position } from "./position.ts";
import { findBreaks } from "./reconcile.ts";
import { equityOf, type PositionState, portfolioView, positionView, snapshotOf } from "./state.ts";
import type { BrokerPosition, FillReceived, PositionCommand, PositionEvent } from "./types.ts";

/** stepPositions applies one event and returns the commands it causes, in order. */
export function stepPositions(state: PositionState, event: PositionEvent): PositionCommand[] {
  const out: PositionCommand[] = [];
  switch (event.type) {
    case "QuoteReceived": {
      const p = state.positions.get(event.symbol);
      if (p === undefined) break;
      const { bid, ask } = event;
      const mid = bid > ZERO && ask > ZERO ? (bid + ask) / 2n : bid > ZERO ? bid : ask;
      if (mid > ZERO) remarkAndWatch(state, p, mid, event.timeNs, out);
      break;
    }
    case "TradeReceived": {
      const p = state.positions.get(event.symbol);
      if (p !== undefined && event.price > ZERO)
        remarkAndWatch(state, p, event.price, event.timeNs, out);
      break;
    }
    case "FillReceived":
      bookFill(state, event, out);
      break;
    case "BrokerPositionsReceived": {
      const breaks = findBreaks(state.positions, event.positions, state.config.ownSymbols);
      state.breaks = breaks;
      state.reconciled = breaks.length === 0;
      // IMPORTANT: the broker's cash only together with positions that match ours; otherwise
      // it may hold a fill we have not booked (or lack one we have) and equity would be wrong.
      // A shared account's cash is never this pipeline's.
      if (state.reconciled && event.cash !== undefined && !state.config.sharedAccount) {
        state.cash = event.cash;
      }
      out.push({
        type: "PublishReconciliation",
        ok: state.reconciled,
        breaks,
        timeNs: event.timeNs,
      });
      watchEquity(state, event.timeNs, out, true);
      break;
    }
    case "BrokerPositionsAdopted":
      adopt(state, event.positions);
      for (const p of state.positions.values())
        out.push({ type: "PublishPosition", position: positionView(state, p) });
      state.breaks = [];
      state.reconciled = true;
      out.push({ type: "PublishReconciliation", ok: true, breaks: [], timeNs: event.timeNs });
      watchEquity(state, event.timeNs, out, true);
      break;
    case "TimeAdvanced":
      break;
  }
  snapshotIfDue(state, event.timeNs, out);
  return out;
}

type Out = PositionCommand[];

/**
 * bookFill books what an order filled beyond what it already booked: the quantity above the
 * booked cumulative quantity, for the cumulative notional (filledQty × filledAvgPrice) minus the
 * booked notional when the average is given, and the order's fees on top.
 */
function bookFill(state: PositionState, event: FillReceived, out: Out): void {
  const done = state.applied.get(event.clientOrderId);
  const doneQty = done?.qty ?? ZERO;
  if (event.filledQty <= doneQty || event.fillQty <= ZERO) return;
  const qty = event.filledQty - doneQty;
  const booked = done?.notional ?? 0n;
  let cumulative = booked + mulWide(qty, event.fillPrice);
  if (event.filledAvgPrice !== undefined && event.filledAvgPrice > ZERO) {
    // A rounded average could leave nothing (or less than nothing) for the new quantity: then
    // the fill's own price is the better figure.
    const byAverage = mulWide(event.filledQty, event.filledAvgPrice);
    if (byAverage > booked) cumulative = byAverage;
  }
  const wide = cumulative - booked;
  state.applied.set(event.clientOrderId, { qty: event.filledQty, notional: cumulative });
  let p = state.positions.get(event.symbol);
  if (p === undefined) {
    p = createPosition(event.symbol);
    state.positions.set(event.symbol, p);
  }
  const before = { mv: p.marketValue, unrl: p.unrealized };
  const buy = event.side === "buy";
  const effect = applyExecution(p, buy ? qty : -qty, buy ? wide : -wide, event.fillPrice);
  const fee = fillFees(state.config.fees, event.side, doneQty, event.filledQty, fromWide(wide));
  p.realized -= fee.total;
  state.fees += fee.total;
  state.realized += effect.realized - fee.total;
  if (state.cash !== null) state.cash += effect.cashFlow - fee.total;
  state.marketValue += p.marketValue - before.mv;
  state.unrealized += p.unrealized - before.unrl;
  out.push({ type: "PublishPosition", position: positionView(state, p) });
  watchEquity(state, event.timeNs, out, true);
}

function remarkAndWatch(
  state: PositionState,
  p: Position,
  price: Fixed,
  timeNs: bigint,
  out: Out,
): void {
  // Most quotes leave the mark where it was (a size change, or the same mid): nothing to redo.
  if (price !== p.mark) {
    const mv = p.marketValue;
    const unrl = p.unrealized;
    markTo(p, price);
    state.marketValue += p.marketValue - mv;
    state.unrealized += p.unrealized - unrl;
  }
  watchEquity(state, timeNs, out, false);
}

/**
 * watchEquity checks drawdown on every change; publishes the portfolio now or when due.
 * IMPORTANT: while a reconciliation break is open our books disagree with the broker's, so the
 * equity is not trusted: the peak does not move and no alert or recovery fires (the trading gate
 * is closed meanwhile); the watch resumes with the reconciliation that passes.
 */
function watchEquity(state: PositionState, timeNs: bigint, out: Out, force: boolean): void {
  const equity = equityOf(state);
  if (equity !== null && state.breaks.length === 0) {
    const signal = observeEquity(state.drawdown, equity);
    if (signal === "alert") {
      out.push({
        type: "PublishDrawdownAlert",
        drawdown: drawdownOf(state.drawdown, equity),
        peakEquity: state.drawdown.peak!,
        equity,
        timeNs,
      });
      force = true;
    } else if (signal === "recovered") {
      out.push({
        type: "PublishDrawdownRecovered",
        drawdown: drawdownOf(state.drawdown, equity),
        timeNs,
      });
      force = true;
    }
  }
  if (force || timeNs >= state.lastPortfolioNs + state.config.publishIntervalNs) {
    state.lastPortfolioNs = timeNs;
    out.push({
      type: "PublishPortfolio",
      portfolio: portfolioView(state, timeNs, drawdownOf(state.drawdown, equity)),
    });
  }
}

function adopt(state: PositionState, theirs: readonly BrokerPosition[]): void {
  const bySymbol = new Map(theirs.map((b) => [b.symbol, b]));
  for (const [symbol, p] of state.positions) if (!bySymbol.has(symbol)) setLot(p, ZERO, ZERO);
  for (const b of theirs) {
    let p = state.positions.get(b.symbol);
    if (p === undefined) {
      p = createPosition(b.symbol);
      state.positions.set(b.symbol, p);
    }
    setLot(p, b.qty, b.avgEntryPrice);
  }
  state.marketValue = ZERO;
  state.unrealized = ZERO;
  for (const p of state.positions.values()) {
    state.marketValue += p.marketValue;
    state.unrealized += p.unrealized;
  }
}

function setLot(p: Position, qty: Fixed, avg: Fixed): void {
  p.qty = qty;
  p.basis = mulWide(qty, avg);
  p.cost = mul(qty, avg);
  markTo(p, p.mark > ZERO ? p.mark : avg);
}

function snapshotIfDue(state: PositionState, timeNs: bigint, out: Out): void {
  const interval = state.config.snapshotIntervalNs;
  if (state.nextSnapshotNs === null) {
    state.nextSnapshotNs = (timeNs / interval + 1n) * interval;
    return;
  }
  if (timeNs < state.nextSnapshotNs) return;
  state.nextSnapshotNs = (timeNs / interval + 1n) * interval;
  out.push({ type: "WriteSnapshot", snapshot: snapshotOf(state, timeNs) });
}
