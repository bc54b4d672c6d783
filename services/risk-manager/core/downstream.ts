/**
 * downstream turns an approved decision into the execution engine's OrderApproved (market,
 * day order at the decision's reference price); a refusal produces nothing downstream.
 */
import type { OrderApproved } from "../../execution-engine/core/types.ts";
import type { RiskDecision } from "./types.ts";

export function approvalForExecution(d: RiskDecision): OrderApproved | null {
  if (!d.approved) return null;
  return {
    type: "OrderApproved",
    timeNs: d.timeNs,
    correlationId: d.correlationId,
    signalId: d.signalId,
    symbol: d.symbol,
    side: d.side,
    qty: d.qty,
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: d.referencePrice,
  };
}
