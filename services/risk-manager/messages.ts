/**
 * messages maps between the bus and the risk-manager core: signals (read by wire.ts),
 * OrderUpdate, PositionUpdate, PortfolioUpdate and Control in; OrderIntent fields (written by
 * wire.ts), RiskState and the kill-switch Control out. Translation only; an unreadable number in a message makes that message invalid
 * (the caller counts and logs it), never a crash.
 */
import { create } from "@bufbuild/protobuf";
import {
  CircuitBreakerState,
  type Control,
  ControlCommand,
  ControlSchema,
  IntentDecision,
  newHeader,
  OrderEvent,
  OrderType,
  type OrderUpdate,
  type PortfolioUpdate,
  type PositionUpdate,
  type RiskState as RiskStateMessage,
  RiskStateSchema,
  Side,
  SignalAction,
  TimeInForce,
} from "../core/messages/index.ts";
import { type Fixed, fromDecimal, toDecimal, ZERO } from "../core/money.ts";
import { rejectOrigin } from "../execution-engine/core/types.ts";
import {
  type ControlCommandName,
  type ControlReceived,
  type OrderProposed,
  type PortfolioChanged,
  type PositionChanged,
  proposalFromSignal,
  type RiskDecision,
  type RiskEvent,
  type RiskStatus,
} from "./core/index.ts";
import type { IntentFields, SignalFields } from "./wire.ts";

export const SOURCE = "risk-manager";

/** decimalOr parses a decimal string, or gives `fallback` when it is empty or unreadable. */
function decimalOr(value: string, fallback: Fixed): Fixed {
  if (value === "") return fallback;
  try {
    return fromDecimal(value);
  } catch {
    return fallback;
  }
}

const TERMINAL_EVENTS: ReadonlySet<OrderEvent> = new Set([
  OrderEvent.CANCELED,
  OrderEvent.EXPIRED,
  OrderEvent.DONE_FOR_DAY,
  OrderEvent.REPLACED,
]);

/**
 * riskEventsOf are the core's events for one order update: an acknowledgement (breaker
 * success), a failure (breaker failure, working exposure released), or progress (cumulative
 * fill, terminal once the order can fill no more).
 */
export function riskEventsOf(u: OrderUpdate): RiskEvent[] {
  const timeNs = u.header?.eventTimeNs ?? 0n;
  const clientOrderId = u.clientOrderId;
  switch (u.event) {
    case OrderEvent.NEW:
      return [{ type: "OrderAccepted", timeNs, clientOrderId }];
    case OrderEvent.REJECTED:
      return [
        {
          type: "OrderFailed",
          timeNs,
          clientOrderId,
          reason: u.reason === "" ? "rejected" : u.reason,
          origin: rejectOrigin(u.reason),
        },
      ];
    case OrderEvent.FILL:
    case OrderEvent.PARTIAL_FILL: {
      const filledQty = decimalOr(u.filledQty, ZERO);
      const qty = decimalOr(u.qty, ZERO);
      const terminal = u.event === OrderEvent.FILL || (qty > ZERO && filledQty >= qty);
      return [{ type: "OrderProgressed", timeNs, clientOrderId, filledQty, terminal }];
    }
    default:
      if (!TERMINAL_EVENTS.has(u.event)) return [];
      return [
        {
          type: "OrderProgressed",
          timeNs,
          clientOrderId,
          filledQty: decimalOr(u.filledQty, ZERO),
          terminal: true,
        },
      ];
  }
}

export function positionChangedOf(p: PositionUpdate): PositionChanged {
  return {
    type: "PositionChanged",
    timeNs: p.header?.eventTimeNs ?? 0n,
    symbol: p.symbol,
    qty: decimalOr(p.qty, ZERO),
    marketPrice: decimalOr(p.marketPrice, ZERO),
  };
}

export function portfolioChangedOf(p: PortfolioUpdate): PortfolioChanged {
  return {
    type: "PortfolioChanged",
    timeNs: p.header?.eventTimeNs ?? 0n,
    equity: p.equity === "" ? null : decimalOr(p.equity, ZERO),
    realizedPnl: decimalOr(p.realizedPnl, ZERO),
    unrealizedPnl: decimalOr(p.unrealizedPnl, ZERO),
    canTrade: p.canTrade,
  };
}

const CONTROL_NAMES: Partial<Record<ControlCommand, ControlCommandName>> = {
  [ControlCommand.KILL_SWITCH_ON]: "kill_switch_on",
  [ControlCommand.KILL_SWITCH_OFF]: "kill_switch_off",
  [ControlCommand.HALT]: "halt",
  [ControlCommand.RESUME]: "resume",
  [ControlCommand.DRAWDOWN_ALERT]: "drawdown_alert",
};

/** controlOf is the core's ControlReceived for a Control message, or null when unknown. */
export function controlOf(c: Control, timeNs: bigint): ControlReceived | null {
  const command = CONTROL_NAMES[c.command];
  if (command === undefined) return null;
  return {
    type: "ControlReceived",
    timeNs: c.header?.eventTimeNs || timeNs,
    command,
    requestedBy: c.requestedBy || c.header?.source || "unknown",
    reason: c.reason,
    ...(c.symbol ? { symbol: c.symbol } : {}),
  };
}

/**
 * intentFieldsOf fills `out` with the OrderIntent of a decision (for wire.ts's encodeIntent).
 * A refusal carries TP_ERR_RISK_DENIED and a reason that starts with the stable reason code:
 * "max_position_shares: …". `originTimeNs` is the causing signal's header origin_time_ns.
 */
export function intentFieldsOf(
  d: RiskDecision,
  traceparent: string,
  originTimeNs: bigint,
  out: IntentFields,
): IntentFields {
  out.source = SOURCE;
  out.eventTimeNs = d.timeNs;
  out.traceparent = traceparent;
  out.originTimeNs = originTimeNs;
  out.clientOrderId = d.clientOrderId;
  out.signalId = d.signalId;
  out.symbol = d.symbol;
  out.side = d.side === "buy" ? Side.BUY : Side.SELL;
  out.qty = toDecimal(d.qty);
  out.orderType = d.limitPrice === null ? OrderType.MARKET : OrderType.LIMIT;
  out.limitPrice = d.limitPrice === null ? "" : toDecimal(d.limitPrice);
  out.stopPrice = "";
  out.timeInForce = TimeInForce.DAY;
  out.decision = d.approved ? IntentDecision.APPROVED : IntentDecision.REJECTED;
  out.rejectCode = d.approved ? "" : "TP_ERR_RISK_DENIED";
  out.rejectReason = d.approved ? "" : `${d.reason}: ${d.message}`;
  out.decisionPrice = toDecimal(d.referencePrice);
  out.correlationId = d.correlationId;
  return out;
}

/**
 * proposalOfFields is the order a BUY or SELL signal proposes (null for HOLD), from the fields
 * wire.ts's decodeSignal read (its quantity and limit price as proposal.ts reads them). An unreadable reference price becomes 0, which the core refuses
 * as `invalid_order` (and says so on the bus).
 */
export function proposalOfFields(s: SignalFields, orderQty: Fixed): OrderProposed | null {
  const action =
    s.action === SignalAction.BUY ? "buy" : s.action === SignalAction.SELL ? "sell" : "hold";
  return proposalFromSignal(
    {
      signalId: s.signalId,
      symbol: s.symbol,
      action,
      referencePrice: decimalOr(s.referencePrice, ZERO),
      quantity: s.quantity,
      limitPrice: s.limitPrice,
    },
    orderQty,
    s.eventTimeNs,
    s.signalId,
  );
}

const BREAKER_STATES = {
  closed: CircuitBreakerState.CLOSED,
  open: CircuitBreakerState.OPEN,
  half_open: CircuitBreakerState.HALF_OPEN,
} as const;

export function riskStateMessage(
  s: RiskStatus,
  failuresInWindow: number,
  timeNs: bigint,
): RiskStateMessage {
  return create(RiskStateSchema, {
    header: newHeader(SOURCE, timeNs),
    circuitBreaker: BREAKER_STATES[s.breaker],
    killSwitch: s.killSwitch,
    halted: s.halted || s.haltedSymbols.length > 0,
    dailyPnl: toDecimal(s.dailyPnl),
    valueAtRisk: toDecimal(s.valueAtRisk),
    openPositions: s.openPositions,
    rejectsToday: BigInt(s.rejectsToday),
    consecutiveRejects: failuresInWindow,
    breakerCooldownUntilNs: s.breakerCooldownUntilNs,
  });
}

/** killSwitchControl tells the execution engine to stop (and cancel open orders) or resume. */
export function killSwitchControl(
  engaged: boolean,
  requestedBy: string,
  reason: string,
  timeNs: bigint,
): Control {
  return create(ControlSchema, {
    header: newHeader(SOURCE, timeNs),
    command: engaged ? ControlCommand.KILL_SWITCH_ON : ControlCommand.KILL_SWITCH_OFF,
    requestedBy,
    reason,
  });
}
