/**
 * state holds the execution-engine core's state: live orders, recently finished ones, last
 * prices, the broker-call window and the kill switch. createExecutionState builds it from params;
 * restoreExecutionState rebuilds it after a restart from the orders the database holds.
 */
import { TradepipeError } from "../../core/errors.ts";
import { type Fixed, fromDecimal } from "../../core/money.ts";
import { type CallWindow, createCallWindow } from "./rate-limit.ts";
import { isTerminal } from "./transitions.ts";
import { DEFAULT_EXECUTION_EXTRAS, type ExecutionParams, type Order } from "./types.ts";

export interface ExecutionConfig {
  pipelineName: string;
  maxSlippageBps: Fixed;
  maxAttempts: number;
  backoffNs: readonly bigint[];
  terminalRetention: number;
  oppositeWaitNs: bigint;
  /** auditTrail: WriteAudit commands are emitted (ExecutionParams.auditTrail). */
  auditTrail: boolean;
}

export interface ExecutionState {
  config: ExecutionConfig;
  /** orders: every order not yet finished, by client_order_id. */
  orders: Map<string, Order>;
  /** finished: the most recent finished orders (insertion order = finishing order). */
  finished: Map<string, Order>;
  /** lastPrices: the latest trade or quote mid per symbol (stands in for a missing decision price). */
  lastPrices: Map<string, Fixed>;
  /** quotes: the latest bid and ask per symbol (0 when that side is empty). */
  quotes: Map<string, { bid: Fixed; ask: Fixed }>;
  /** trades: the latest trade price per symbol. */
  trades: Map<string, Fixed>;
  /** calls: every broker call of the last 60 s (orders, lookups, cancels). */
  calls: CallWindow;
  killSwitch: boolean;
  auditSeq: number;
  /** finishedSeq counts orders finished so far (a held order is re-examined when it moves). */
  finishedSeq: number;
  /** sides: per symbol, live orders that are not held, by side (finds an opposite in O(1)). */
  sides: Map<string, { buy: number; sell: number }>;
  /** held: orders held behind an opposite working order. */
  held: number;
}

export function compileExecutionConfig(p: ExecutionParams): ExecutionConfig {
  const { maxAttempts, backoffSeconds } = p.retries;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 0) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `execution.retries.maxAttempts: must be a non-negative integer, got ${maxAttempts}`,
    );
  }
  if (backoffSeconds.length !== maxAttempts) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `execution.retries.backoffSeconds: needs exactly maxAttempts (${maxAttempts}) entries, got ${backoffSeconds.length}`,
    );
  }
  if (!Number.isInteger(p.maxSlippageBps) || p.maxSlippageBps < 0) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `execution.maxSlippageBps: must be a non-negative integer, got ${p.maxSlippageBps}`,
    );
  }
  return {
    pipelineName: p.pipelineName,
    maxSlippageBps: fromDecimal(p.maxSlippageBps),
    maxAttempts,
    backoffNs: backoffSeconds.map((s) => BigInt(s) * 1_000_000_000n),
    terminalRetention: p.terminalRetention ?? DEFAULT_EXECUTION_EXTRAS.terminalRetention,
    oppositeWaitNs: BigInt(
      positiveSeconds(
        "oppositeOrderWaitSeconds",
        p.oppositeOrderWaitSeconds ?? DEFAULT_EXECUTION_EXTRAS.oppositeOrderWaitSeconds,
      ) * 1_000_000_000,
    ),
    auditTrail: p.auditTrail !== false,
  };
}

function positiveSeconds(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `execution.${name}: must be a positive integer, got ${v}`,
    );
  return v;
}

export function createExecutionState(params: ExecutionParams): ExecutionState {
  return {
    config: compileExecutionConfig(params),
    orders: new Map(),
    finished: new Map(),
    lastPrices: new Map(),
    quotes: new Map(),
    trades: new Map(),
    calls: createCallWindow(params.maxOrdersPerMinute),
    killSwitch: false,
    auditSeq: 0,
    finishedSeq: 0,
    sides: new Map(),
    held: 0,
  };
}

/**
 * restoreExecutionState rebuilds the state from persisted orders (the latest row per order, as
 * rebuilt from order_audit_trail) and the kill switch. In-flight waits are unknown after a
 * crash, so every unfinished order is marked as waiting for resolution: the Started event then
 * asks the shell to resolve each one with the broker before anything else happens to it.
 */
export function restoreExecutionState(
  params: ExecutionParams,
  orders: readonly Order[],
  killSwitch: boolean,
  auditSeq = 0,
): ExecutionState {
  const state = createExecutionState(params);
  state.killSwitch = killSwitch;
  state.auditSeq = auditSeq;
  for (const o of orders) {
    const copy = { ...o };
    if (isTerminal(copy.status)) {
      rememberFinished(state, copy);
    } else {
      copy.awaiting = "resolve";
      state.orders.set(copy.clientOrderId, copy);
      countLive(state, copy, 1);
    }
  }
  return state;
}

/** findOrder looks an order up among live and recently finished ones. */
export function findOrder(state: ExecutionState, clientOrderId: string): Order | undefined {
  return state.orders.get(clientOrderId) ?? state.finished.get(clientOrderId);
}

/** countLive adds `delta` to the live, not held, orders of the order's symbol and side. */
export function countLive(state: ExecutionState, o: Order, delta: 1 | -1): void {
  let c = state.sides.get(o.symbol);
  if (c === undefined) {
    c = { buy: 0, sell: 0 };
    state.sides.set(o.symbol, c);
  }
  c[o.side] += delta;
}

/** rememberFinished moves an order to the bounded finished set. */
export function rememberFinished(state: ExecutionState, order: Order): void {
  if (state.orders.has(order.clientOrderId)) {
    if (order.awaiting === "opposite") state.held--;
    else countLive(state, order, -1);
  }
  state.orders.delete(order.clientOrderId);
  state.finished.set(order.clientOrderId, order);
  state.finishedSeq++;
  if (state.finished.size > state.config.terminalRetention) {
    const oldest = state.finished.keys().next().value;
    if (oldest !== undefined) state.finished.delete(oldest);
  }
}
