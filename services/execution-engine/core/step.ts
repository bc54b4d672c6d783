/**
 * step is the execution-engine core's transition function: stepExecution(state, event) mutates
 * `state` in place and returns the commands for the shell, which must run them IN ORDER (a
 * WriteAudit is committed before any later SendOrder runs). Deterministic: no clock, no
 * randomness, no I/O; the same events from the same state give the same commands.
 */
import { bpsDiff, type Fixed, mul, SCALE, toDecimal } from "../../core/money.ts";
import { applySnapshot } from "./broker-updates.ts";
import { clientOrderIdFor } from "./client-order-id.ts";
import { audit, moveTo, NO_DETAIL, type Out, publish } from "./emit.ts";
import { nextTokenAtNs, record, tryTake } from "./rate-limit.ts";
import { countLive, type ExecutionState, findOrder } from "./state.ts";

import type {
  ExecutionCommand,
  ExecutionEvent,
  Order,
  OrderApproved,
  SendFailed,
} from "./types.ts";

/** stepExecution applies one event and returns the commands it causes, in execution order. */
export function stepExecution(state: ExecutionState, event: ExecutionEvent): ExecutionCommand[] {
  const out: Out = [];
  const finishedBefore = state.finishedSeq;
  switch (event.type) {
    case "QuoteReceived": {
      const { bid, ask } = event;
      const price = bid > 0n && ask > 0n ? (bid + ask) / 2n : bid > 0n ? bid : ask;
      if (price > 0n) {
        state.lastPrices.set(event.symbol, price);
        // Quotes are the hot path: the symbol's entry is updated in place (read only here).
        const q = state.quotes.get(event.symbol);
        if (q === undefined) {
          state.quotes.set(event.symbol, { bid: bid > 0n ? bid : 0n, ask: ask > 0n ? ask : 0n });
        } else {
          q.bid = bid > 0n ? bid : 0n;
          q.ask = ask > 0n ? ask : 0n;
        }
      }
      break;
    }
    case "TradeReceived":
      if (event.price > 0n) {
        state.lastPrices.set(event.symbol, event.price);
        state.trades.set(event.symbol, event.price);
      }
      break;
    case "BrokerCallsMade":
      if (event.count > 0) record(state.calls, event.timeNs, event.count);
      break;
    case "OrderApproved":
      intake(state, out, event);
      break;
    case "SendSucceeded": {
      const o = known(state, out, event.clientOrderId, "send_succeeded");
      if (o === undefined) break;
      if (o.awaiting === "send") o.awaiting = "none";
      applySnapshot(state, out, o, event.order, "accepted", event.timeNs);
      if (state.killSwitch && state.orders.has(o.clientOrderId)) {
        // A cancel sent while the POST was in flight may have found nothing: cancel again.
        o.cancelRequested = false;
        requestCancel(state, out, o, event.timeNs);
      }
      break;
    }
    case "SendFailed":
      sendFailed(state, out, event);
      break;
    case "OrderResolved": {
      const o = known(state, out, event.clientOrderId, "resolved");
      if (o === undefined) break;
      const waited = o.awaiting === "resolve";
      if (waited) o.awaiting = "none";
      if (event.order !== null) {
        applySnapshot(state, out, o, event.order, "resolved", event.timeNs);
        if (state.killSwitch && o.status !== "Submitted")
          requestCancel(state, out, o, event.timeNs);
      } else if (waited) {
        notAtBroker(state, out, o, event.timeNs);
      }
      break;
    }
    case "RetryDue": {
      const o = state.orders.get(event.clientOrderId);
      if (o === undefined) break;
      if (o.awaiting === "opposite") {
        const blocker = oppositeLive(state, o);
        if (blocker !== undefined) {
          unhold(state, o);
          rejectLocally(
            state,
            out,
            o,
            "opposite_working_order",
            `order ${blocker.clientOrderId} on the other side of ${o.symbol} is still working`,
            event.timeNs,
          );
          break;
        }
        unhold(state, o);
      } else if (o.awaiting !== "retry") {
        break;
      }
      if (state.killSwitch) cancelLocally(state, out, o, event.timeNs);
      else dispatch(state, out, o, event.timeNs);
      break;
    }
    case "TradeUpdated": {
      const o = known(state, out, event.clientOrderId, event.event);
      if (o === undefined) break;
      applySnapshot(state, out, o, event.order, event.event, event.timeNs, event);
      break;
    }
    case "CancelFailed": {
      const o = known(state, out, event.clientOrderId, "cancel_failed");
      if (o === undefined) break;
      audit(state, out, o, "cancel_failed", o.status, o.status, event.timeNs, {
        message: event.message,
      });
      out.push({
        type: "ReportAnomaly",
        kind: "cancel_failed",
        clientOrderId: o.clientOrderId,
        message: event.message,
      });
      break;
    }
    case "KillSwitchChanged":
      state.killSwitch = event.engaged;
      if (event.engaged)
        for (const o of [...state.orders.values()]) requestCancel(state, out, o, event.timeNs);
      break;
    case "CancelAllRequested":
      for (const o of [...state.orders.values()])
        requestCancel(state, out, o, event.timeNs, "cancel_all");
      break;
    case "Started":
      for (const o of [...state.orders.values()]) restart(state, out, o, event.timeNs);
      break;
  }
  if (state.finishedSeq !== finishedBefore) releaseHeld(state, out, event.timeNs);
  return out;
}

/** known finds the order an answer is about; an unknown id is audited and reported. */
function known(
  state: ExecutionState,
  out: Out,
  clientOrderId: string,
  event: string,
): Order | undefined {
  const o = findOrder(state, clientOrderId);
  if (o === undefined) {
    out.push({
      type: "ReportAnomaly",
      kind: "unknown_order",
      clientOrderId,
      message: `${event} for an order this engine does not know: ${clientOrderId}`,
    });
  }
  return o;
}

function intake(state: ExecutionState, out: Out, e: OrderApproved): void {
  if (e.signalId === "" || e.qty <= 0n) {
    out.push({
      type: "ReportAnomaly",
      kind: "invalid_intent",
      clientOrderId: "",
      message: `intent dropped: ${e.signalId === "" ? "empty signal id" : "quantity not positive"} (correlation ${e.correlationId})`,
    });
    return;
  }
  const id = clientOrderIdFor(state.config.pipelineName, e.signalId);
  const existing = findOrder(state, id);
  if (existing !== undefined) {
    audit(state, out, existing, "duplicate_intent", existing.status, existing.status, e.timeNs, {
      correlationId: e.correlationId,
    });
    return;
  }
  const o: Order = {
    clientOrderId: id,
    signalId: e.signalId,
    correlationId: e.correlationId,
    symbol: e.symbol,
    side: e.side,
    qty: e.qty,
    orderType: e.orderType,
    limitPrice: e.limitPrice,
    timeInForce: e.timeInForce,
    decisionPrice: e.decisionPrice,
    status: "Created",
    brokerOrderId: null,
    filledQty: 0n,
    filledNotional: 0n,
    attempts: 0,
    awaiting: "none",
    cancelRequested: false,
    createdNs: e.timeNs,
    updatedNs: e.timeNs,
  };
  state.orders.set(id, o);
  countLive(state, o, 1);
  // Details only for a trail that is kept: their decimal strings are most of an order's cost.
  const kept = state.config.auditTrail;
  audit(
    state,
    out,
    o,
    "intent",
    null,
    "Created",
    e.timeNs,
    kept
      ? {
          signalId: o.signalId,
          symbol: o.symbol,
          side: o.side,
          qty: toDecimal(o.qty),
          orderType: o.orderType,
          limitPrice: o.limitPrice === null ? "" : toDecimal(o.limitPrice),
          timeInForce: o.timeInForce,
          decisionPrice: toDecimal(o.decisionPrice),
        }
      : NO_DETAIL,
  );
  const refusal = refuse(state, o);
  if (refusal !== null) {
    rejectLocally(state, out, o, refusal[0], refusal[1], e.timeNs);
    return;
  }
  if (o.orderType === "market" && o.decisionPrice > 0n) {
    // A market order could fill anywhere: send it as a marketable limit at the decision price
    // ± the allowed slippage, so the fill can never be worse than the guard allows.
    o.orderType = "limit";
    o.limitPrice = marketableLimit(o.side, o.decisionPrice, state.config.maxSlippageBps);
    audit(
      state,
      out,
      o,
      "marketable_limit",
      o.status,
      o.status,
      e.timeNs,
      kept
        ? {
            limitPrice: toDecimal(o.limitPrice),
            maxSlippageBps: toDecimal(state.config.maxSlippageBps),
          }
        : NO_DETAIL,
    );
  }
  admit(state, out, o, e.timeNs);
}

/** oppositeLive: a live order of the other side of `o`'s symbol that is not itself held. */
function oppositeLive(state: ExecutionState, o: Order): Order | undefined {
  const c = state.sides.get(o.symbol);
  if (c === undefined || (o.side === "buy" ? c.sell : c.buy) === 0) return undefined;
  for (const x of state.orders.values()) {
    if (x !== o && x.symbol === o.symbol && x.side !== o.side && x.awaiting !== "opposite")
      return x;
  }
  return undefined;
}

/**
 * admit sends an order unless an order of the other side of its symbol is live: the broker
 * would refuse it as a potential wash trade (Alpaca: 422 "potential wash trade detected"), so it
 * is HELD (never sent alongside) until that order ends, and refused with
 * `opposite_working_order` if it has not ended within oppositeOrderWaitSeconds.
 */
function admit(state: ExecutionState, out: Out, o: Order, nowNs: bigint): void {
  const blocker = oppositeLive(state, o);
  if (blocker === undefined) {
    dispatch(state, out, o, nowNs);
    return;
  }
  o.awaiting = "opposite";
  state.held++;
  countLive(state, o, -1);
  const atNs = nowNs + state.config.oppositeWaitNs;
  audit(state, out, o, "held_for_opposite", o.status, o.status, nowNs, {
    blockedBy: blocker.clientOrderId,
    untilNs: atNs.toString(),
  });
  out.push({
    type: "ScheduleRetry",
    clientOrderId: o.clientOrderId,
    atNs,
    attempt: o.attempts + 1,
  });
}

/** unhold: a held order is live again (about to be sent, refused or cancelled). */
function unhold(state: ExecutionState, o: Order): void {
  if (o.awaiting !== "opposite") return;
  o.awaiting = "none";
  state.held--;
  countLive(state, o, 1);
}

/** releaseHeld sends the held orders whose opposite orders have all ended. */
function releaseHeld(state: ExecutionState, out: Out, nowNs: bigint): void {
  if (state.held === 0) return;
  for (const o of [...state.orders.values()]) {
    if (o.awaiting !== "opposite" || oppositeLive(state, o) !== undefined) continue;
    unhold(state, o);
    audit(state, out, o, "released", o.status, o.status, nowNs);
    if (state.killSwitch) cancelLocally(state, out, o, nowNs);
    else dispatch(state, out, o, nowNs);
  }
}

/**
 * dispatch sends the order when the per-minute window has room; otherwise the order waits
 * (Created or Submitted, awaiting a retry) until the window next has room. A rate-limited order
 * is queued, never refused.
 */
function dispatch(state: ExecutionState, out: Out, o: Order, nowNs: bigint): void {
  if (tryTake(state.calls, nowNs)) {
    send(state, out, o, nowNs);
    return;
  }
  scheduleAt(state, out, o, nextTokenAtNs(state.calls, nowNs), nowNs, "rate_limited");
}

/** sameSideQuote: what the order would trade at now (a buy lifts the ask, a sell hits the bid). */
function sameSideQuote(state: ExecutionState, o: Order): Fixed | undefined {
  const q = state.quotes.get(o.symbol);
  const quoted = q === undefined ? 0n : o.side === "buy" ? q.ask : q.bid;
  return quoted > 0n ? quoted : state.trades.get(o.symbol);
}

/**
 * refuse runs the local guards in order: kill switch, then slippage: the price the order would
 * trade at now (the ask for a buy, the bid for a sell; the last trade when that side is not
 * quoted) must not be worse than the decision price by more than maxSlippageBps.
 */
function refuse(state: ExecutionState, o: Order): [string, string] | null {
  if (state.killSwitch) return ["kill_switch", "kill switch engaged: no new orders"];
  const now = sameSideQuote(state, o);
  if (now === undefined) return ["no_last_price", `no quote or trade seen for ${o.symbol} yet`];
  // No price to measure slippage from (the shell passes 0 only when it has no last price).
  if (o.decisionPrice <= 0n) return ["no_last_price", `no decision price for ${o.symbol}`];
  const adverse = o.side === "buy" ? now > o.decisionPrice : now < o.decisionPrice;
  const bps = bpsDiff(now, o.decisionPrice);
  if (adverse && bps > state.config.maxSlippageBps) {
    return [
      "slippage",
      `${o.side === "buy" ? "ask" : "bid"} ${toDecimal(now)} is ${toDecimal(bps)} bps worse than the decision price ${toDecimal(o.decisionPrice)} (limit ${toDecimal(state.config.maxSlippageBps)})`,
    ];
  }
  return null;
}

const CENT = SCALE / 100n;
const TEN_THOUSANDTH = SCALE / 10_000n;
const BPS = 10_000n * SCALE;

/**
 * marketableLimit: the decision price moved by `bps` against the order (up for a buy, down for
 * a sell), rounded inward to the price increment US equities accept (a cent at $1 and above,
 * $0.0001 below), so the limit never allows more than `bps`.
 */
export function marketableLimit(side: "buy" | "sell", decision: Fixed, bps: Fixed): Fixed {
  const factor = side === "buy" ? SCALE + (bps * SCALE) / BPS : SCALE - (bps * SCALE) / BPS;
  const raw = mul(decision, factor);
  const tick = raw >= SCALE ? CENT : TEN_THOUSANDTH;
  const down = raw - (raw % tick);
  if (side === "buy") return down > 0n ? down : tick;
  return down === raw ? raw : down + tick;
}

function rejectLocally(
  state: ExecutionState,
  out: Out,
  o: Order,
  reason: string,
  message: string,
  nowNs: bigint,
): void {
  moveTo(state, out, o, "Rejected", "rejected_locally", nowNs, { reason, message });
  publish(out, o, "rejected", nowNs, 0n, null, reason);
}

function cancelLocally(
  state: ExecutionState,
  out: Out,
  o: Order,
  nowNs: bigint,
  reason: CancelReason = "kill_switch",
): void {
  unhold(state, o);
  o.awaiting = "none";
  moveTo(state, out, o, "Cancelled", "cancelled_locally", nowNs, { reason });
  publish(out, o, "canceled", nowNs, 0n, null, reason);
}

/** send audits the attempt, then emits SendOrder (IMPORTANT: the audit comes first). */
function send(state: ExecutionState, out: Out, o: Order, nowNs: bigint): void {
  o.attempts++;
  o.awaiting = "send";
  const detail = state.config.auditTrail ? { attempt: String(o.attempts) } : NO_DETAIL;
  if (o.status === "Created") moveTo(state, out, o, "Submitted", "send", nowNs, detail);
  else audit(state, out, o, "resend", o.status, o.status, nowNs, detail);
  out.push({
    type: "SendOrder",
    attempt: o.attempts,
    request: {
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      qty: o.qty,
      orderType: o.orderType,
      limitPrice: o.limitPrice,
      timeInForce: o.timeInForce,
    },
  });
}

function scheduleAt(
  state: ExecutionState,
  out: Out,
  o: Order,
  atNs: bigint,
  nowNs: bigint,
  cause: string,
): void {
  o.awaiting = "retry";
  audit(state, out, o, "retry_scheduled", o.status, o.status, nowNs, {
    cause,
    atNs: atNs.toString(),
    nextAttempt: String(o.attempts + 1),
  });
  out.push({
    type: "ScheduleRetry",
    clientOrderId: o.clientOrderId,
    atNs,
    attempt: o.attempts + 1,
  });
}

/** retryOrGiveUp: after a failure known not to have reached the broker. */
function retryOrGiveUp(
  state: ExecutionState,
  out: Out,
  o: Order,
  nowNs: bigint,
  cause: string,
): void {
  if (state.killSwitch) {
    cancelLocally(state, out, o, nowNs);
    return;
  }
  const retriesUsed = o.attempts - 1;
  if (retriesUsed < state.config.maxAttempts) {
    scheduleAt(state, out, o, nowNs + state.config.backoffNs[retriesUsed]!, nowNs, cause);
    return;
  }
  rejectLocally(
    state,
    out,
    o,
    "retries_exhausted",
    `gave up after ${o.attempts} attempts: ${cause}`,
    nowNs,
  );
}

function sendFailed(state: ExecutionState, out: Out, e: SendFailed): void {
  const o = known(state, out, e.clientOrderId, "send_failed");
  if (o === undefined) return;
  const detail = { failure: e.failure, httpStatus: String(e.httpStatus ?? ""), message: e.message };
  if (o.awaiting !== "send" || o.status !== "Submitted") {
    // The broker already told us about this order (e.g. the stream beat the HTTP reply).
    audit(state, out, o, "send_failure_ignored", o.status, o.status, e.timeNs, detail);
    return;
  }
  o.awaiting = "none";
  switch (e.failure) {
    case "rejected":
      moveTo(state, out, o, "Rejected", "broker_rejected", e.timeNs, detail);
      publish(out, o, "rejected", e.timeNs, 0n, null, e.message);
      return;
    case "not_sent":
      moveTo(state, out, o, "Rejected", "engine_refused", e.timeNs, detail);
      publish(out, o, "rejected", e.timeNs, 0n, null, e.message);
      return;
    case "duplicate":
    case "ambiguous":
      o.awaiting = "resolve";
      audit(state, out, o, `send_${e.failure}`, o.status, o.status, e.timeNs, detail);
      resolveAtBroker(state, out, o, e.timeNs);
      return;
    case "retryable":
      audit(state, out, o, "send_failed", o.status, o.status, e.timeNs, detail);
      retryOrGiveUp(state, out, o, e.timeNs, e.message);
      return;
  }
}

/** notAtBroker: a lookup found no such order, so the last attempt never arrived. */
function notAtBroker(state: ExecutionState, out: Out, o: Order, nowNs: bigint): void {
  audit(state, out, o, "not_at_broker", o.status, o.status, nowNs);
  if (o.status === "Created" && o.attempts === 0) {
    if (state.killSwitch) cancelLocally(state, out, o, nowNs);
    else admit(state, out, o, nowNs);
  } else if (o.status === "Submitted") {
    retryOrGiveUp(state, out, o, nowNs, "order not found at the broker");
  } else {
    out.push({
      type: "ReportAnomaly",
      kind: "unknown_order",
      clientOrderId: o.clientOrderId,
      message: `order ${o.clientOrderId} is ${o.status} here but the broker does not know it`,
    });
  }
}

/** Why the engine cancels an order itself: the kill switch, or an operator's cancel-all. */
type CancelReason = "kill_switch" | "cancel_all";

/**
 * requestCancel: kill switch or cancel-all. Never-acknowledged orders end here; live ones are
 * cancelled at the broker.
 */
function requestCancel(
  state: ExecutionState,
  out: Out,
  o: Order,
  nowNs: bigint,
  reason: CancelReason = "kill_switch",
): void {
  if (o.status === "Created" || (o.status === "Submitted" && o.awaiting === "retry")) {
    cancelLocally(state, out, o, nowNs, reason);
    return;
  }
  if (o.cancelRequested) return;
  o.cancelRequested = true;
  audit(state, out, o, "cancel_requested", o.status, o.status, nowNs, { reason });
  // A cancel without the broker's id is two calls: the lookup, then the DELETE.
  record(state.calls, nowNs, o.brokerOrderId === null ? 2 : 1);
  out.push({ type: "CancelOrder", clientOrderId: o.clientOrderId, brokerOrderId: o.brokerOrderId });
}

/** resolveAtBroker asks for the order by client id; the lookup counts against the window. */
function resolveAtBroker(state: ExecutionState, out: Out, o: Order, nowNs: bigint): void {
  record(state.calls, nowNs, 1);
  out.push({ type: "ResolveOrder", clientOrderId: o.clientOrderId });
}

/** restart: after restoreExecutionState every unfinished order is resolved before it moves on. */
function restart(state: ExecutionState, out: Out, o: Order, nowNs: bigint): void {
  o.awaiting = "resolve";
  audit(state, out, o, "resolve_after_restart", o.status, o.status, nowNs);
  resolveAtBroker(state, out, o, nowNs);
}
