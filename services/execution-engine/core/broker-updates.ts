/**
 * broker-updates applies what the broker says about an order (a POST reply, a lookup by
 * client_order_id, a trade_updates event) idempotently.
 *
 * IMPORTANT: fills are counted from the broker's CUMULATIVE filled_qty, never by adding each
 * event's qty: a duplicate or reordered event whose cumulative quantity is not above what is
 * known adds nothing. A fill is a fact and is applied even when the status move it comes with
 * is refused (e.g. a late partial_fill after a cancel).
 */
import { abs, bpsDiff, div, type Fixed, mul, toDecimal } from "../../core/money.ts";
import { audit, moveTo, NO_DETAIL, type Out, publish } from "./emit.ts";
import type { ExecutionState } from "./state.ts";
import { isStale, statusFromBroker } from "./transitions.ts";
import type { BrokerOrderSnapshot, Order } from "./types.ts";

export interface ExecutionFigures {
  executionId: string;
  fillQty: Fixed | null;
  fillPrice: Fixed | null;
}

const NO_FIGURES: ExecutionFigures = { executionId: "", fillQty: null, fillPrice: null };

/** applySnapshot folds a broker view of the order into it; returns true if anything changed. */
export function applySnapshot(
  state: ExecutionState,
  out: Out,
  o: Order,
  snap: BrokerOrderSnapshot,
  event: string,
  timeNs: bigint,
  figures: ExecutionFigures = NO_FIGURES,
): boolean {
  if (snap.brokerOrderId !== "") o.brokerOrderId = snap.brokerOrderId;
  let fillQty = 0n;
  let fillPrice: Fixed | null = null;
  if (snap.filledQty > o.filledQty) {
    fillQty = snap.filledQty - o.filledQty;
    let notional: Fixed;
    if (figures.fillPrice !== null && figures.fillQty === fillQty) {
      notional = o.filledNotional + mul(fillQty, figures.fillPrice);
    } else if (snap.filledAvgPrice !== null) {
      notional = mul(snap.filledQty, snap.filledAvgPrice);
    } else {
      notional = o.filledNotional + mul(fillQty, figures.fillPrice ?? o.decisionPrice);
    }
    fillPrice = div(notional - o.filledNotional, fillQty);
    o.filledQty = snap.filledQty;
    o.filledNotional = notional;
    o.updatedNs = timeNs;
    if (o.filledQty > o.qty) {
      out.push({
        type: "ReportAnomaly",
        kind: "overfill",
        clientOrderId: o.clientOrderId,
        message: `order ${o.clientOrderId} filled ${toDecimal(o.filledQty)} of ${toDecimal(o.qty)}`,
      });
    }
    checkFillSlippage(state, out, o, fillPrice);
  }
  const target = statusFromBroker(snap.status, o.filledQty > 0n);
  const from = o.status;
  let moved = false;
  if (target !== from && !isStale(from, target)) {
    moved = moveTo(
      state,
      out,
      o,
      target,
      event,
      timeNs,
      auditDetail(state, o, snap, figures, fillQty, fillPrice),
    );
  } else {
    const detail = auditDetail(state, o, snap, figures, fillQty, fillPrice);
    if (detail !== NO_DETAIL)
      (detail as Record<string, string>)["effect"] =
        fillQty > 0n ? "fill" : target === from ? "duplicate" : "stale";
    audit(state, out, o, event, from, from, timeNs, detail);
  }
  if (fillQty > 0n || moved) publish(out, o, event, timeNs, fillQty, fillPrice);
  return fillQty > 0n || moved;
}

/**
 * auditDetail: what an audit row of a broker update says (NO_DETAIL when no trail is kept).
 * Built key by key in a fixed order (the audit row's JSON keeps it).
 */
function auditDetail(
  state: ExecutionState,
  o: Order,
  snap: BrokerOrderSnapshot,
  figures: ExecutionFigures,
  fillQty: Fixed,
  fillPrice: Fixed | null,
): Readonly<Record<string, string>> {
  if (!state.config.auditTrail) return NO_DETAIL;
  const detail: Record<string, string> = {
    brokerStatus: snap.status,
    filledQty: toDecimal(o.filledQty),
  };
  if (figures.executionId !== "") detail["executionId"] = figures.executionId;
  if (fillQty > 0n) {
    detail["fillQty"] = toDecimal(fillQty);
    detail["fillPrice"] = toDecimal(fillPrice!);
  }
  // The broker execution itself, recorded as its own fill row even when it arrives late.
  if (figures.executionId !== "" && figures.fillQty !== null && figures.fillPrice !== null) {
    detail["executionQty"] =
      fillQty > 0n && figures.fillQty === fillQty ? detail["fillQty"]! : toDecimal(figures.fillQty);
    detail["executionPrice"] =
      figures.fillPrice === fillPrice ? detail["fillPrice"]! : toDecimal(figures.fillPrice);
  }
  return detail;
}

/** checkFillSlippage reports a fill priced worse than the decision price by more than the limit. */
function checkFillSlippage(state: ExecutionState, out: Out, o: Order, price: Fixed): void {
  const adverse = o.side === "buy" ? price > o.decisionPrice : price < o.decisionPrice;
  if (!adverse || o.decisionPrice <= 0n) return;
  const bps = bpsDiff(price, o.decisionPrice);
  if (bps > state.config.maxSlippageBps) {
    out.push({
      type: "ReportAnomaly",
      kind: "fill_slippage",
      clientOrderId: o.clientOrderId,
      message: `${o.symbol} ${o.side} filled at ${toDecimal(price)}, ${toDecimal(abs(bps))} bps from the decision price ${toDecimal(o.decisionPrice)}`,
    });
  }
}
