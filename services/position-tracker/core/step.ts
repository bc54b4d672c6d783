/**
 * step is the position-tracker core's transition function: stepPositions(state, event) mutates
 * `state` in place and returns the commands for the shell. Deterministic: no clock, no
 * randomness, no I/O. Quotes are the hot path: one position re-marked, running totals adjusted,
 * no allocation unless a command is due.
 */
import { type Fixed, mul, ZERO } from "../../core/money.ts";
import { drawdownOf, observeEquity } from "./drawdown.ts";
import { applyFill, createPosition, markTo, type Position } from "./position.ts";
import { findBreaks } from "./reconcile.ts";
import { equityOf, type PositionState, portfolioView, positionView, snapshotOf } from "./state.ts";
import type { BrokerPosition, PositionCommand, PositionEvent } from "./types.ts";

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
    case "FillReceived": {
      const done = state.applied.get(event.clientOrderId) ?? ZERO;
      if (event.filledQty <= done || event.fillQty <= ZERO) break;
      // A fill the cumulative figure says is larger than this event's qty means an earlier one
      // was missed: book the whole difference at this price.
      const qty = event.filledQty - done;
      state.applied.set(event.clientOrderId, event.filledQty);
      let p = state.positions.get(event.symbol);
      if (p === undefined) {
        p = createPosition(event.symbol);
        state.positions.set(event.symbol, p);
      }
      const before = { mv: p.marketValue, unrl: p.unrealized };
      const effect = applyFill(p, event.side === "buy" ? qty : -qty, event.fillPrice);
      state.realized += effect.realized;
      if (state.cash !== null) state.cash += effect.cashFlow;
      state.marketValue += p.marketValue - before.mv;
      state.unrealized += p.unrealized - before.unrl;
      out.push({ type: "PublishPosition", position: positionView(state, p) });
      watchEquity(state, event.timeNs, out, true);
      break;
    }
    case "AccountReceived":
      state.cash = event.cash;
      watchEquity(state, event.timeNs, out, true);
      break;
    case "BrokerPositionsReceived": {
      const breaks = findBreaks(state.positions, event.positions);
      state.breaks = breaks;
      state.reconciled = breaks.length === 0;
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

function remarkAndWatch(
  state: PositionState,
  p: Position,
  price: Fixed,
  timeNs: bigint,
  out: Out,
): void {
  const mv = p.marketValue;
  const unrl = p.unrealized;
  markTo(p, price);
  state.marketValue += p.marketValue - mv;
  state.unrealized += p.unrealized - unrl;
  watchEquity(state, timeNs, out, false);
}

/** watchEquity checks drawdown on every change; publishes the portfolio now or when due. */
function watchEquity(state: PositionState, timeNs: bigint, out: Out, force: boolean): void {
  const equity = equityOf(state);
  if (equity !== null) {
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
