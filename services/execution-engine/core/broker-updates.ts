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
import { audit, moveTo, type Out, publish } from "./emit.ts";
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
  const detail = {
    brokerStatus: snap.status,
    filledQty: toDecimal(o.filledQty),
    ...(figures.executionId !== "" ? { executionId: figures.executionId } : {}),
    ...(fillQty > 0n ? { fillQty: toDecimal(fillQty), fillPrice: toDecimal(fillPrice!) } : {}),
    // The broker execution itself, recorded as its own fill row even when it arrives late.
    ...(figures.executionId !== "" && figures.fillQty !== null && figures.fillPrice !== null
      ? { executionQty: toDecimal(figures.fillQty), executionPrice: toDecimal(figures.fillPrice) }
      : {}),
  };
  let moved = false;
  if (target !== from && !isStale(from, target)) {
    moved = moveTo(state, out, o, target, event, timeNs, detail);
  } else {
    const effect = fillQty > 0n ? "fill" : target === from ? "duplicate" : "stale";
    audit(state, out, o, event, from, from, timeNs, { ...detail, effect });
  }
  if (fillQty > 0n || moved) publish(out, o, event, timeNs, fillQty, fillPrice);
  return fillQty > 0n || moved;
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
