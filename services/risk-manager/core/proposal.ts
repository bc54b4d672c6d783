/**
 * proposal turns a signal-bridge signal into the order the risk-manager checks: BUY and SELL of
 * `orderQty` shares at the signal's reference price; HOLD proposes nothing.
 */
import type { Fixed } from "../../core/money.ts";
import type { OrderProposed } from "./types.ts";

export interface SignalForRisk {
  signalId: string;
  symbol: string;
  action: "buy" | "sell" | "hold";
  referencePrice: Fixed;
}

export function proposalFromSignal(
  signal: SignalForRisk,
  orderQty: Fixed,
  timeNs: bigint,
  correlationId: string,
): OrderProposed | null {
  if (signal.action === "hold") return null;
  return {
    type: "OrderProposed",
    timeNs,
    correlationId,
    signalId: signal.signalId,
    symbol: signal.symbol,
    side: signal.action,
    qty: orderQty,
    referencePrice: signal.referencePrice,
  };
}
