/**
 * emit holds the helpers every handler uses to write audit records, move an order through the
 * state machine (refusing and reporting moves the table does not allow) and publish updates.
 */
import { div, type Fixed } from "../../core/money.ts";
import { type ExecutionState, rememberFinished } from "./state.ts";
import { canTransition, isTerminal } from "./transitions.ts";
import type { ExecutionCommand, Order, OrderStatus } from "./types.ts";

export type Out = ExecutionCommand[];

export const NO_DETAIL: Readonly<Record<string, string>> = Object.freeze({});

export function audit(
  state: ExecutionState,
  out: Out,
  o: Order,
  event: string,
  fromStatus: OrderStatus | null,
  toStatus: OrderStatus | null,
  timeNs: bigint,
  detail: Readonly<Record<string, string>> = NO_DETAIL,
): void {
  if (!state.config.auditTrail) {
    state.auditSeq++;
    return;
  }
  out.push({
    type: "WriteAudit",
    record: {
      seq: ++state.auditSeq,
      clientOrderId: o.clientOrderId,
      correlationId: o.correlationId,
      event,
      fromStatus,
      toStatus,
      attempt: o.attempts,
      detail,
      timeNs,
    },
  });
}

/**
 * moveTo applies one transition and audits it; a move the table refuses is audited as
 * `transition_refused` and reported, and the order keeps its status. Returns true on a move.
 */
export function moveTo(
  state: ExecutionState,
  out: Out,
  o: Order,
  to: OrderStatus,
  event: string,
  timeNs: bigint,
  detail?: Readonly<Record<string, string>>,
): boolean {
  const from = o.status;
  if (from === to) return false;
  if (!canTransition(from, to)) {
    audit(state, out, o, "transition_refused", from, to, timeNs, { cause: event });
    out.push({
      type: "ReportAnomaly",
      kind: "transition_refused",
      clientOrderId: o.clientOrderId,
      message: `order ${o.clientOrderId}: ${from} → ${to} is not allowed (on ${event}); kept ${from}`,
    });
    return false;
  }
  o.status = to;
  o.updatedNs = timeNs;
  audit(state, out, o, event, from, to, timeNs, detail);
  if (isTerminal(to)) rememberFinished(state, o);
  return true;
}

export function publish(
  out: Out,
  o: Order,
  event: string,
  timeNs: bigint,
  fillQty: Fixed = 0n,
  fillPrice: Fixed | null = null,
  reason = "",
): void {
  out.push({
    type: "PublishOrderUpdate",
    update: {
      clientOrderId: o.clientOrderId,
      signalId: o.signalId,
      correlationId: o.correlationId,
      symbol: o.symbol,
      side: o.side,
      status: o.status,
      event,
      fillQty,
      fillPrice,
      filledQty: o.filledQty,
      filledAvgPrice: o.filledQty > 0n ? div(o.filledNotional, o.filledQty) : null,
      qty: o.qty,
      terminal: isTerminal(o.status),
      reason,
      timeNs,
    },
  });
}
