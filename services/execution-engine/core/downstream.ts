/**
 * downstream translates the engine's published order updates into the events the other two
 * cores consume, so every wiring (multi-process shells, the fused pipeline, the backtester) maps
 * them the same way:
 * - position-tracker: a fill becomes FillReceived;
 * - risk-manager: New becomes OrderAccepted, Rejected becomes OrderFailed (origin "engine" for
 *   the engine's own refusals, which the breaker does not count), fills and other ends
 *   become OrderProgressed (cumulative quantity, terminal flag).
 */
import type { FillReceived } from "../../position-tracker/core/types.ts";
import type { RiskEvent } from "../../risk-manager/core/types.ts";
import { type OrderUpdateOut, rejectOrigin } from "./types.ts";

/** fillForTracker is the tracker's event for an update that carries a fill, else null. */
export function fillForTracker(u: OrderUpdateOut): FillReceived | null {
  if (u.fillQty <= 0n || u.fillPrice === null) return null;
  // Literals, not spreads: this runs on every fill (a spread builds the object key by key).
  if (u.filledAvgPrice === null) {
    return {
      type: "FillReceived",
      timeNs: u.timeNs,
      clientOrderId: u.clientOrderId,
      symbol: u.symbol,
      side: u.side,
      fillQty: u.fillQty,
      fillPrice: u.fillPrice,
      filledQty: u.filledQty,
    };
  }
  return {
    type: "FillReceived",
    timeNs: u.timeNs,
    clientOrderId: u.clientOrderId,
    symbol: u.symbol,
    side: u.side,
    fillQty: u.fillQty,
    fillPrice: u.fillPrice,
    filledQty: u.filledQty,
    filledAvgPrice: u.filledAvgPrice,
  };
}

/** eventsForRisk are the risk-manager's events for one update (zero, one or two). */
export function eventsForRisk(u: OrderUpdateOut): RiskEvent[] {
  const out: RiskEvent[] = [];
  const { timeNs, clientOrderId } = u;
  if (u.status === "New") out.push({ type: "OrderAccepted", timeNs, clientOrderId });
  if (u.status === "Rejected") {
    out.push({
      type: "OrderFailed",
      timeNs,
      clientOrderId,
      reason: u.reason === "" ? "rejected" : u.reason,
      origin: rejectOrigin(u.reason),
    });
  } else if (u.fillQty > 0n || u.terminal) {
    out.push({
      type: "OrderProgressed",
      timeNs,
      clientOrderId,
      filledQty: u.filledQty,
      terminal: u.terminal,
    });
  }
  return out;
}
