/**
 * transitions is the order state machine's table. A move not listed is refused; the caller
 * reports it and keeps the order as it was. Staying in the same state is not a transition.
 */
import type { OrderStatus } from "./types.ts";

const ALLOWED: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  Created: ["Submitted", "Rejected", "Cancelled"],
  Submitted: ["New", "PartiallyFilled", "Filled", "Cancelled", "Rejected", "Expired"],
  New: ["PartiallyFilled", "Filled", "Cancelled", "Rejected", "Expired", "Replaced"],
  PartiallyFilled: ["Filled", "Cancelled", "Expired", "Replaced"],
  Filled: [],
  Cancelled: [],
  Rejected: [],
  Expired: [],
  Replaced: [],
};

const TERMINAL = new Set<OrderStatus>(["Filled", "Cancelled", "Rejected", "Expired", "Replaced"]);

/** PROGRESS ranks the live states, to tell a late (reordered) update from a wrong one. */
const PROGRESS: Readonly<Partial<Record<OrderStatus, number>>> = {
  Created: 0,
  Submitted: 1,
  New: 2,
  PartiallyFilled: 3,
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isTerminal(s: OrderStatus): boolean {
  return TERMINAL.has(s);
}

/** isStale: `to` is a live state the order has already passed (a reordered update). */
export function isStale(from: OrderStatus, to: OrderStatus): boolean {
  const t = PROGRESS[to];
  if (t === undefined) return false;
  if (isTerminal(from)) return true;
  const f = PROGRESS[from];
  return f !== undefined && t < f;
}

/**
 * statusFromBroker maps Alpaca's order status (and the cumulative fill) to ours. Interim broker
 * states (accepted, pending_new, pending_cancel, done_for_day, ...) count as New, or
 * PartiallyFilled once something filled.
 */
export function statusFromBroker(status: string, anyFilled: boolean): OrderStatus {
  switch (status) {
    case "filled":
      return "Filled";
    case "partially_filled":
      return "PartiallyFilled";
    case "canceled":
      return "Cancelled";
    case "expired":
      return "Expired";
    case "rejected":
      return "Rejected";
    case "replaced":
      return "Replaced";
    default:
      return anyFilled ? "PartiallyFilled" : "New";
  }
}
