/** test-support builds execution-engine states and events for the unit tests (not product code). */
import { type Fixed, fromDecimal } from "../../core/money.ts";
import { createExecutionState, type ExecutionState } from "./state.ts";
import { stepExecution } from "./step.ts";
import type {
  BrokerOrderSnapshot,
  ExecutionCommand,
  ExecutionParams,
  OrderApproved,
  OrderUpdateOut,
  Side,
  TradeUpdated,
} from "./types.ts";

export const SECOND = 1_000_000_000n;
export const T0 = 1_772_461_800n * SECOND;

export const SPEC_EXECUTION: ExecutionParams = {
  pipelineName: "demo",
  maxOrdersPerMinute: 180,
  maxSlippageBps: 50,
  retries: { maxAttempts: 3, backoffSeconds: [1, 2, 4] },
};

export const d = (s: string | number): Fixed => fromDecimal(s);

/** engine: spec parameters, a last trade of XOM at 100. */
export function engine(overrides: Partial<ExecutionParams> = {}): ExecutionState {
  const s = createExecutionState({ ...SPEC_EXECUTION, ...overrides });
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: d(100) });
  return s;
}

export function approval(
  signalId: string,
  qty: string | number = 10,
  price: string | number = 100,
  side: Side = "buy",
  timeNs = T0,
): OrderApproved {
  return {
    type: "OrderApproved",
    timeNs,
    correlationId: `corr-${signalId}`,
    signalId,
    symbol: "XOM",
    side,
    qty: d(qty),
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: d(price),
  };
}

export function snapshot(
  status: string,
  filledQty: string | number = 0,
  avg: string | number | null = null,
): BrokerOrderSnapshot {
  return {
    brokerOrderId: "b-1",
    status,
    filledQty: d(filledQty),
    filledAvgPrice: avg === null ? null : d(avg),
  };
}

export function tradeUpdate(
  clientOrderId: string,
  event: string,
  status: string,
  filledQty: string | number = 0,
  avg: string | number | null = null,
  timeNs = T0,
): TradeUpdated {
  return {
    type: "TradeUpdated",
    timeNs,
    clientOrderId,
    event,
    order: snapshot(status, filledQty, avg),
    executionId: `${event}-${filledQty}`,
    fillQty: null,
    fillPrice: null,
  };
}

export function ofType<T extends ExecutionCommand["type"]>(cmds: ExecutionCommand[], type: T) {
  return cmds.filter((c): c is Extract<ExecutionCommand, { type: T }> => c.type === type);
}

export function updates(cmds: ExecutionCommand[]): OrderUpdateOut[] {
  return ofType(cmds, "PublishOrderUpdate").map((c) => c.update);
}

/** sentOrder approves and acknowledges one order; returns its client_order_id. */
export function sentOrder(s: ExecutionState, signalId: string, qty: string | number = 10): string {
  const cmds = stepExecution(s, approval(signalId, qty));
  const send = ofType(cmds, "SendOrder")[0];
  if (send === undefined) throw new Error(`order ${signalId} was not sent`);
  const id = send.request.clientOrderId;
  stepExecution(s, {
    type: "SendSucceeded",
    timeNs: T0,
    clientOrderId: id,
    order: snapshot("accepted"),
  });
  return id;
}
