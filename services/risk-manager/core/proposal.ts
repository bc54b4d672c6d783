/**
 * proposal turns a signal-bridge signal into the order the risk-manager checks: BUY and SELL at
 * the signal's reference price, of the quantity the signal asks for (its `quantity`, else the
 * pipeline's `orderQty`), as a limit order when the signal names a limit price (else market);
 * HOLD proposes nothing. The quantity asked for passes every check as the default one does: a
 * limit it would break refuses the order. A proposal of the default quantity is marked
 * `standardLot`: if it reduces a position and would take it through zero, the core sizes it to
 * the shares that close the position (a quantity the strategy named is never changed). A
 * quantity or limit price that is not a positive decimal proposes 0, which the core refuses as
 * `invalid_order`.
 */
import { type Fixed, fromDecimal, ZERO } from "../../core/money.ts";
import type { OrderProposed } from "./types.ts";

export interface SignalForRisk {
  signalId: string;
  symbol: string;
  action: "buy" | "sell" | "hold";
  referencePrice: Fixed;
  /** quantity: shares asked for, decimal; "" or absent for the pipeline's order quantity. */
  quantity?: string;
  /** limitPrice: decimal; "" or absent for a market order. */
  limitPrice?: string;
}

function decimalOrZero(v: string): Fixed {
  try {
    return fromDecimal(v);
  } catch {
    return ZERO;
  }
}

export function proposalFromSignal(
  signal: SignalForRisk,
  orderQty: Fixed,
  timeNs: bigint,
  correlationId: string,
): OrderProposed | null {
  if (signal.action === "hold") return null;
  const quantity = signal.quantity ?? "";
  const limit = signal.limitPrice ?? "";
  return {
    type: "OrderProposed",
    timeNs,
    correlationId,
    signalId: signal.signalId,
    symbol: signal.symbol,
    side: signal.action,
    qty: quantity === "" ? orderQty : decimalOrZero(quantity),
    referencePrice: signal.referencePrice,
    limitPrice: limit === "" ? null : decimalOrZero(limit),
    ...(quantity === "" ? { standardLot: true } : {}),
  };
}
