/**
 * downstream turns an approved decision into the execution engine's OrderApproved: a day
 * order, limit when the decision carries a limit price (else market), with the decision's
 * reference price as the slippage guard's reference; a refusal produces nothing downstream.
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
    orderType: d.limitPrice === null ? "market" : "limit",
    limitPrice: d.limitPrice,
    timeInForce: "day",
    decisionPrice: d.referencePrice,
  };
}
