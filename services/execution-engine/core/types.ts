/**
 * Types of the execution-engine core: parameters (the spec's `execution` block), the order
 * record and its states, the events the core consumes and the commands it emits.
 *
 * Time: every event carries `timeNs`, nanoseconds since the Unix epoch as a bigint (the bus
 * header's event time); ScheduleRetry carries an absolute `atNs` on the same clock.
 */
import type { Fixed } from "../../core/money.ts";

export type Side = "buy" | "sell";
export type OrderType = "market" | "limit";
export type TimeInForce = "day" | "gtc" | "ioc" | "fok";

/** ExecutionParams mirror spec.execution, plus the pipeline name and two stage knobs. */
export interface ExecutionParams {
  pipelineName: string;
  maxOrdersPerMinute: number;
  maxSlippageBps: number;
  retries: { maxAttempts: number; backoffSeconds: readonly number[] };
  /** terminalRetention: finished orders kept in memory to answer duplicates (oldest dropped). */
  terminalRetention?: number;
  /**
   * oppositeOrderWaitSeconds: how long an order waits for a working order of the other side of
   * its symbol to end before it is refused (`opposite_working_order`).
   */
  oppositeOrderWaitSeconds?: number;
  /**
   * auditTrail: emit WriteAudit commands (default true). False only where nothing keeps the
   * trail: a backtest without an audit observer skips building the records and their decimal
   * strings, the largest part of an order's CPU time in the core. Every other command is the
   * same either way (tested).
   */
  auditTrail?: boolean;
}

export const DEFAULT_EXECUTION_EXTRAS = {
  terminalRetention: 10_000,
  oppositeOrderWaitSeconds: 60,
} as const;

/**
 * ENGINE_REFUSAL_REASONS: the reasons with which the engine refuses an order itself, before the
 * broker sees it (published as a Rejected update with that reason). They say nothing about the
 * broker path, so the risk-manager's circuit breaker does not count them.
 */
export const ENGINE_REFUSAL_REASONS: ReadonlySet<string> = new Set([
  "kill_switch",
  "no_last_price",
  "slippage",
  "rate_limited",
  "opposite_working_order",
  // IMPORTANT: counted as a broker failure, a database outage of a few seconds opened the
  // circuit breaker (5 intents refused in a minute) and held every order for its 300 s cooldown.
  "leadership_deadline",
  // The journal-ahead order path's bound: the audit rows not yet in Postgres are too many or too
  // old, so new orders wait until the write-behind drains it.
  "audit_backlog",
]);

/** rejectOrigin tells who refused an order from its published reason. */
export function rejectOrigin(reason: string): "broker" | "engine" {
  return ENGINE_REFUSAL_REASONS.has(reason) ? "engine" : "broker";
}

/** OrderStatus: Created → Submitted → New → PartiallyFilled → Filled | Cancelled | Rejected | Expired | Replaced. */
export type OrderStatus =
  | "Created"
  | "Submitted"
  | "New"
  | "PartiallyFilled"
  | "Filled"
  | "Cancelled"
  | "Rejected"
  | "Expired"
  | "Replaced";

/**
 * Awaiting: what the order waits for, so late or repeated answers are ignored; "opposite": held
 * (never sent) until the working order of the other side of its symbol ends.
 */
export type Awaiting = "none" | "send" | "retry" | "resolve" | "opposite";

export interface Order {
  clientOrderId: string;
  signalId: string;
  correlationId: string;
  symbol: string;
  side: Side;
  qty: Fixed;
  orderType: OrderType;
  limitPrice: Fixed | null;
  timeInForce: TimeInForce;
  /** decisionPrice: the price the decision was made at; the slippage guard's reference. */
  decisionPrice: Fixed;
  status: OrderStatus;
  brokerOrderId: string | null;
  filledQty: Fixed;
  /** filledNotional: Σ fill qty × price, so each fill's price follows from cumulative figures. */
  filledNotional: Fixed;
  attempts: number;
  awaiting: Awaiting;
  cancelRequested: boolean;
  createdNs: bigint;
  updatedNs: bigint;
}

/** BrokerOrderSnapshot: the broker's view of an order (POST reply, GET, or a trade update). */
export interface BrokerOrderSnapshot {
  brokerOrderId: string;
  /** status: Alpaca's order status string (new, accepted, partially_filled, filled, canceled...). */
  status: string;
  /** filledQty: cumulative filled quantity, the idempotency key for fills. */
  filledQty: Fixed;
  filledAvgPrice: Fixed | null;
}

// ---- events ---------------------------------------------------------------------------------

export interface OrderApproved {
  type: "OrderApproved";
  timeNs: bigint;
  correlationId: string;
  signalId: string;
  symbol: string;
  side: Side;
  qty: Fixed;
  orderType: OrderType;
  limitPrice: Fixed | null;
  timeInForce: TimeInForce;
  decisionPrice: Fixed;
}

export interface QuoteReceived {
  type: "QuoteReceived";
  timeNs: bigint;
  symbol: string;
  bid: Fixed;
  ask: Fixed;
}

export interface TradeReceived {
  type: "TradeReceived";
  timeNs: bigint;
  symbol: string;
  price: Fixed;
}

/** SendSucceeded: POST /v2/orders answered 200 with the order. */
export interface SendSucceeded {
  type: "SendSucceeded";
  timeNs: bigint;
  clientOrderId: string;
  order: BrokerOrderSnapshot;
}

/**
 * SendFailure classifies a failed POST:
 * - rejected: a definite refusal (403, 422 other than a duplicate id, other 4xx);
 * - duplicate: 422 "client_order_id must be unique": the order exists, resolve it;
 * - retryable: surely not received (429, connection refused before the request was written);
 * - ambiguous: may have been received (timeout, reset, 5xx): resolve before any re-send;
 * - not_sent: never written to the broker — the shell's own gate refused it (this instance's
 *   leadership deadline passed: its database is away). `message` is the refusal reason, one of
 *   ENGINE_REFUSAL_REASONS: it says nothing about the broker path.
 */
export type SendFailure = "rejected" | "duplicate" | "retryable" | "ambiguous" | "not_sent";

export interface SendFailed {
  type: "SendFailed";
  timeNs: bigint;
  clientOrderId: string;
  failure: SendFailure;
  httpStatus: number | null;
  message: string;
}

export interface RetryDue {
  type: "RetryDue";
  timeNs: bigint;
  clientOrderId: string;
}

/** OrderResolved: GET /v2/orders:by_client_order_id answered (null: 404, not at the broker). */
export interface OrderResolved {
  type: "OrderResolved";
  timeNs: bigint;
  clientOrderId: string;
  order: BrokerOrderSnapshot | null;
}

/** TradeUpdated: one trade_updates event (new, partial_fill, fill, canceled, expired, ...). */
export interface TradeUpdated {
  type: "TradeUpdated";
  timeNs: bigint;
  clientOrderId: string;
  event: string;
  order: BrokerOrderSnapshot;
  /** executionId: the broker's id of this event, kept in the audit trail. */
  executionId: string;
  /** fillQty/fillPrice: this execution's own figures on fill events (null otherwise). */
  fillQty: Fixed | null;
  fillPrice: Fixed | null;
}

export interface CancelFailed {
  type: "CancelFailed";
  timeNs: bigint;
  clientOrderId: string;
  message: string;
}

export interface KillSwitchChanged {
  type: "KillSwitchChanged";
  timeNs: bigint;
  engaged: boolean;
}

/** CancelAllRequested: an operator asked to cancel every open order; trading goes on. */
export interface CancelAllRequested {
  type: "CancelAllRequested";
  timeNs: bigint;
}

/**
 * BrokerCallsMade: calls the shell made on the account outside the core's commands (listing
 * open orders at start, lookups tried again, lookups after a stream reconnect). They count
 * against the same per-minute window as the core's own calls.
 */
export interface BrokerCallsMade {
  type: "BrokerCallsMade";
  timeNs: bigint;
  count: number;
}

/** Started: the shell restored state after a (re)start; every unfinished order is resolved. */
export interface Started {
  type: "Started";
  timeNs: bigint;
}

export type ExecutionEvent =
  | OrderApproved
  | QuoteReceived
  | TradeReceived
  | SendSucceeded
  | SendFailed
  | RetryDue
  | OrderResolved
  | TradeUpdated
  | CancelFailed
  | KillSwitchChanged
  | CancelAllRequested
  | BrokerCallsMade
  | Started;

// ---- commands -------------------------------------------------------------------------------

/** AuditRecord: one row of order_audit_trail. `seq` orders the core's records. */
export interface AuditRecord {
  seq: number;
  clientOrderId: string;
  correlationId: string;
  event: string;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus | null;
  attempt: number;
  detail: Readonly<Record<string, string>>;
  timeNs: bigint;
}

/**
 * WriteAudit: append a record to the audit trail.
 * IMPORTANT: the shell runs commands in order and must have the record appended to its journal
 * before it runs a later SendOrder: the intent is recorded before the order is on the wire
 * (Postgres gets it behind the send).
 */
export interface WriteAudit {
  type: "WriteAudit";
  record: AuditRecord;
}

export interface OrderRequest {
  clientOrderId: string;
  symbol: string;
  side: Side;
  qty: Fixed;
  orderType: OrderType;
  limitPrice: Fixed | null;
  timeInForce: TimeInForce;
}

/** SendOrder: POST /v2/orders, then deliver SendSucceeded or SendFailed. */
export interface SendOrder {
  type: "SendOrder";
  request: OrderRequest;
  attempt: number;
}

/** ScheduleRetry: deliver RetryDue for this order at `atNs` (event time). */
export interface ScheduleRetry {
  type: "ScheduleRetry";
  clientOrderId: string;
  atNs: bigint;
  attempt: number;
}

/** ResolveOrder: GET /v2/orders:by_client_order_id, then deliver OrderResolved. */
export interface ResolveOrder {
  type: "ResolveOrder";
  clientOrderId: string;
}

/** CancelOrder: DELETE the order (by broker id, or found by client id when that is null). */
export interface CancelOrder {
  type: "CancelOrder";
  clientOrderId: string;
  brokerOrderId: string | null;
}

/** OrderUpdateOut: what the engine publishes for the tracker and the risk-manager. */
export interface OrderUpdateOut {
  clientOrderId: string;
  signalId: string;
  correlationId: string;
  symbol: string;
  side: Side;
  status: OrderStatus;
  /** event: new, partial_fill, fill, canceled, expired, rejected, replaced, accepted. */
  event: string;
  fillQty: Fixed;
  fillPrice: Fixed | null;
  filledQty: Fixed;
  filledAvgPrice: Fixed | null;
  qty: Fixed;
  terminal: boolean;
  reason: string;
  timeNs: bigint;
}

export interface PublishOrderUpdate {
  type: "PublishOrderUpdate";
  update: OrderUpdateOut;
}

export type AnomalyKind =
  | "transition_refused"
  | "unknown_order"
  | "fill_slippage"
  | "overfill"
  | "cancel_failed"
  | "invalid_intent";

/** ReportAnomaly: something to log and count; the core has already refused or absorbed it. */
export interface ReportAnomaly {
  type: "ReportAnomaly";
  kind: AnomalyKind;
  clientOrderId: string;
  message: string;
}

export type ExecutionCommand =
  | WriteAudit
  | SendOrder
  | ScheduleRetry
  | ResolveOrder
  | CancelOrder
  | PublishOrderUpdate
  | ReportAnomaly;
