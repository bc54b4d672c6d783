/**
 * step is the risk-manager core's transition function: stepRisk(state, event) mutates `state`
 * in place and returns the commands for the shell, in order. It is deterministic: the same
 * events from the same state give the same commands (no clock, no randomness, no I/O).
 *
 * A proposal whose client_order_id was decided before gets that decision back, and nothing
 * moves (no second working order, no second reject count).
 *
 * Gates before the six checks, in order: kill switch (refuses every order), halt (all or one
 * symbol; a drawdown alert halts all; refuses orders that grow a position, reducing orders
 * pass), reconciliation gate (the tracker's canTrade), invalid orders, orders the broker would
 * refuse (opposite a working order; through zero), circuit breaker (refuses orders that grow a
 * position; reducing orders pass, as under a halt). Only failures and rejections AT THE BROKER
 * feed the breaker: the execution engine's own refusals (slippage, no price, kill switch) do
 * not, and neither do refusals by the six checks (a strategy that keeps signalling into a limit
 * is refused each time; opening the breaker on that would block the orders that reduce risk) or
 * by the gates (they would keep it open forever).
 */
import { type Fixed, toDecimal, ZERO } from "../../core/money.ts";
import { clientOrderIdFor } from "../../execution-engine/core/client-order-id.ts";
import {
  advanceBreaker,
  forgetBreakerTest,
  recordBreakerFailure,
  recordBreakerSuccess,
  startBreakerTest,
} from "./breaker.ts";
import { brokerRefusal, closable, type Rejection, runChecks, shapeOf } from "./checks.ts";
import { orderLimit } from "./limit-price.ts";
import {
  addPending,
  exportRiskState,
  movePending,
  type RiskState,
  rememberDecision,
  type SymbolExposure,
  symbolExposure,
} from "./state.ts";
import type {
  ControlReceived,
  OrderProposed,
  RejectReason,
  RiskCommand,
  RiskDecision,
  RiskEvent,
} from "./types.ts";
import { appendClose, createReturnSeries } from "./var.ts";

const NS_PER_DAY = 86_400_000_000_000n;

/** stepRisk applies one event and returns the commands it causes. */
export function stepRisk(state: RiskState, event: RiskEvent): RiskCommand[] {
  const out: RiskCommand[] = [];
  advanceTime(state, event.timeNs, out);
  switch (event.type) {
    case "OrderProposed":
      out.push({ type: "PublishDecision", decision: decide(state, event) });
      break;
    case "PositionChanged": {
      const s = symbolExposure(state, event.symbol);
      s.filledQty = event.qty;
      if (event.marketPrice > ZERO) s.price = event.marketPrice;
      break;
    }
    case "PortfolioChanged":
      state.equity = event.equity;
      state.totalPnl = event.realizedPnl + event.unrealizedPnl;
      state.pnlKnown = true;
      state.canTrade = event.canTrade;
      if (state.dayStartPnl === null) {
        state.dayStartPnl = state.totalPnl;
        persist(state, out, "day_baseline");
      }
      break;
    case "OrderProgressed":
      progress(state, event.clientOrderId, event.filledQty, event.terminal);
      // A test order that fills without a separate acknowledgement still proves the path works.
      if (event.filledQty > ZERO && recordBreakerSuccess(state.breaker, event.clientOrderId)) {
        persist(state, out, "breaker_closed");
      }
      break;
    case "OrderAccepted":
      if (recordBreakerSuccess(state.breaker, event.clientOrderId))
        persist(state, out, "breaker_closed");
      break;
    case "OrderFailed": {
      const p = state.pending.get(event.clientOrderId);
      if (p !== undefined) progress(state, event.clientOrderId, p.filledQty, true);
      if (event.origin === "broker") {
        if (recordBreakerFailure(state.breaker, state.limits, event.timeNs, event.clientOrderId))
          persist(state, out, "breaker_opened");
      } else {
        // Refused before the broker saw it: no verdict on the broker path. A test order so
        // refused is no test; the next order may be one.
        forgetBreakerTest(state.breaker, event.clientOrderId);
      }
      break;
    }
    case "DailyClosesRecorded": {
      const s = symbolExposure(state, event.symbol);
      if (s.returns === null || event.replace === true)
        s.returns = createReturnSeries(state.limits.varWindowDays);
      for (const c of event.closes) appendClose(s.returns, c.day, c.close);
      if (event.closes.length > 0 && s.price === ZERO)
        s.price = event.closes[event.closes.length - 1]!.close;
      break;
    }
    case "ControlReceived":
      control(state, event, out);
      break;
    case "TimeAdvanced":
      break;
  }
  return out;
}

function advanceTime(state: RiskState, nowNs: bigint, out: RiskCommand[]): void {
  if (nowNs > state.lastTimeNs) state.lastTimeNs = nowNs;
  if (nowNs >= state.nextDayNs) {
    const offset = state.limits.dayRollOffsetNs;
    const day = (nowNs - offset) / NS_PER_DAY;
    state.nextDayNs = (day + 1n) * NS_PER_DAY + offset;
    if (Number(day) > state.dayIndex) {
      const first = state.dayIndex === -1;
      state.dayIndex = Number(day);
      // On the very first event the baseline is the first P&L seen; on a roll, the current P&L.
      state.dayStartPnl = state.pnlKnown ? state.totalPnl : null;
      state.rejectsToday = 0;
      if (!first) persist(state, out, "day_rolled");
    }
  }
  if (state.breaker.status !== "closed" && advanceBreaker(state.breaker, state.limits, nowNs)) {
    persist(state, out, "breaker_half_open");
  }
}

function persist(state: RiskState, out: RiskCommand[], cause: string): void {
  out.push({ type: "PersistRiskState", state: exportRiskState(state), cause });
}

function progress(
  state: RiskState,
  clientOrderId: string,
  filledQty: bigint,
  terminal: boolean,
): void {
  const p = state.pending.get(clientOrderId);
  if (p === undefined) return;
  const s = symbolExposure(state, p.symbol);
  const filled = filledQty > p.qty ? p.qty : filledQty;
  if (filled > p.filledQty) {
    movePending(s, p.sign, -(filled - p.filledQty));
    p.filledQty = filled;
  }
  if (terminal) {
    movePending(s, p.sign, -(p.qty - p.filledQty));
    state.pending.delete(clientOrderId);
  }
}

function gate(state: RiskState, e: OrderProposed, grows: boolean): Rejection | null {
  if (state.killSwitch.engaged) {
    return {
      reason: "kill_switch",
      message: `kill switch engaged by ${state.killSwitch.requestedBy}: ${state.killSwitch.reason}`,
    };
  }
  if (grows && (state.halt.all || state.halt.symbols.has(e.symbol))) {
    const scope = state.halt.all ? "trading" : e.symbol;
    return {
      reason: "halted",
      message: `${scope} halted until resumed (only reducing orders pass): ${state.halt.reason}`,
    };
  }
  if (state.limits.requireReconciliation && !state.canTrade) {
    return {
      reason: "not_reconciled",
      message: "positions are not reconciled with the broker yet (or a break is open)",
    };
  }
  if (e.qty <= ZERO || e.referencePrice <= ZERO || e.signalId === "") {
    return {
      reason: "invalid_order",
      message: "quantity and reference price must be positive, signal id non-empty",
    };
  }
  if (e.limitPrice !== undefined && e.limitPrice !== null && e.limitPrice <= ZERO) {
    return { reason: "invalid_order", message: "a limit price must be positive" };
  }
  return null;
}

function decide(state: RiskState, e: OrderProposed): RiskDecision {
  const clientOrderId =
    e.signalId === "" ? "" : clientOrderIdFor(state.limits.pipelineName, e.signalId);
  const earlier = clientOrderId === "" ? undefined : state.decisions.get(clientOrderId);
  if (earlier !== undefined) {
    // A decision restored after a restart knows only the order; the proposal names its signal.
    return {
      ...earlier,
      signalId: earlier.signalId === "" ? e.signalId : earlier.signalId,
      correlationId: earlier.correlationId === "" ? e.correlationId : earlier.correlationId,
      referencePrice: earlier.referencePrice > ZERO ? earlier.referencePrice : e.referencePrice,
      repeated: true,
    };
  }
  const sym = symbolExposure(state, e.symbol);
  const qty = sizedQty(sym, e);
  const shape = shapeOf(sym, e.side === "buy" ? qty : -qty);
  let refusal = gate(state, e, shape.grows);
  if (refusal === null) refusal = brokerRefusal(sym, shape.signedQty);
  const b = state.breaker;
  // Reducing orders pass an open breaker, as they pass a halt: cutting exposure is always allowed.
  if (refusal === null && shape.grows && b.status === "open") {
    refusal = { reason: "circuit_open", message: "circuit breaker open after repeated failures" };
  } else if (
    refusal === null &&
    shape.grows &&
    b.status === "half_open" &&
    b.testClientOrderId !== null
  ) {
    refusal = {
      reason: "circuit_half_open",
      message: "circuit breaker half-open: waiting for the test order",
    };
  }
  if (refusal === null) {
    refusal = runChecks(state, sym, shape, e.referencePrice);
  }
  let breakerTest = false;
  if (refusal === null) {
    if (b.status === "half_open" && shape.grows) {
      startBreakerTest(b, clientOrderId, e.timeNs);
      breakerTest = true;
    }
    sym.price = e.referencePrice;
    addPending(state, clientOrderId, e.symbol, e.side, qty, ZERO);
    state.approvals++;
  } else {
    countReject(state, refusal.reason);
  }
  const decision: RiskDecision = {
    approved: refusal === null,
    reason: refusal === null ? "approved" : refusal.reason,
    message:
      refusal === null
        ? (breakerTest ? "approved as the breaker's test order" : "approved") +
          (qty === e.qty
            ? ""
            : ` (the standard lot of ${toDecimal(e.qty)} sized to the ${toDecimal(qty)} that close the position)`)
        : refusal.message,
    clientOrderId,
    signalId: e.signalId,
    correlationId: e.correlationId,
    symbol: e.symbol,
    side: e.side,
    qty,
    referencePrice: e.referencePrice,
    limitPrice:
      e.limitPrice === undefined || e.limitPrice === null || refusal !== null
        ? null
        : orderLimit(e.side, e.limitPrice, e.referencePrice, state.limits.maxSlippageBps),
    timeNs: e.timeNs,
    breakerTest,
    repeated: false,
  };
  rememberDecision(state, decision);
  return decision;
}

/**
 * sizedQty: the quantity to decide on. A standard lot that reduces a filled position but would
 * take it through zero is sized to the shares that close it (when any are left uncommitted), so
 * a fixed-lot strategy can always exit a position a partial fill left smaller than its lot; any
 * other order keeps its quantity (and brokerRefusal refuses one that goes through zero).
 */
function sizedQty(sym: SymbolExposure, e: OrderProposed): Fixed {
  if (e.standardLot !== true || e.qty <= ZERO) return e.qty;
  const available = closable(sym, e.side === "buy");
  return available !== null && available > ZERO && e.qty > available ? available : e.qty;
}

function countReject(state: RiskState, reason: RejectReason): void {
  state.rejectsByReason[reason] = (state.rejectsByReason[reason] ?? 0) + 1;
  state.rejectsToday++;
}

function control(state: RiskState, e: ControlReceived, out: RiskCommand[]): void {
  const symbol = e.symbol ?? "";
  switch (e.command) {
    case "kill_switch_on":
    case "kill_switch_off": {
      const engaged = e.command === "kill_switch_on";
      if (state.killSwitch.engaged === engaged) return;
      state.killSwitch = {
        engaged,
        requestedBy: e.requestedBy,
        reason: e.reason,
        sinceNs: e.timeNs,
      };
      persist(state, out, e.command);
      return;
    }
    case "halt":
    case "drawdown_alert":
      if (symbol === "" || e.command === "drawdown_alert") state.halt.all = true;
      else state.halt.symbols.add(symbol);
      state.halt.reason = e.command === "drawdown_alert" ? `drawdown alert: ${e.reason}` : e.reason;
      persist(state, out, e.command);
      return;
    case "resume":
      if (symbol === "") {
        state.halt.all = false;
        state.halt.symbols.clear();
        state.halt.reason = "";
      } else {
        state.halt.symbols.delete(symbol);
      }
      persist(state, out, "resume");
      return;
  }
}
