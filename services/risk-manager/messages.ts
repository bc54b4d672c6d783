/**
 * messages maps between the bus and the risk-manager core: TradingSignal, OrderUpdate,
 * PositionUpdate, PortfolioUpdate and Control in; OrderIntent, RiskState and the kill-switch
 * Control out. Translation only; an unreadable number in a message makes that message invalid
 * (the caller counts and logs it), never a crash.
 */
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { Bus, Subscription } from "../core/bus/index.ts";
import { decodeMessage } from "../core/bus/typed.ts";
import {
  CircuitBreakerState,
  type Control,
  ControlCommand,
  ControlSchema,
  type Header,
  IntentDecision,
  newHeader,
  OrderEvent,
  type OrderIntent,
  OrderIntentSchema,
  OrderType,
  type OrderUpdate,
  type PortfolioUpdate,
  type PositionUpdate,
  type RiskState as RiskStateMessage,
  RiskStateSchema,
  Side,
  SignalAction,
  TimeInForce,
  type TradingSignal,
} from "../core/messages/index.ts";
import { type Fixed, fromDecimal, toDecimal, ZERO } from "../core/money.ts";
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

/**
 * proposalOf is the order a BUY or SELL signal proposes (null for HOLD). An unreadable
 * reference price becomes 0, which the core refuses as `invalid_order` (and says so on the bus).
 */
export function proposalOf(s: TradingSignal, orderQty: Fixed): OrderProposed | null {
  const action =
    s.action === SignalAction.BUY ? "buy" : s.action === SignalAction.SELL ? "sell" : "hold";
  return proposalFromSignal(
    {
      signalId: s.signalId,
      symbol: s.symbol,
      action,
      referencePrice: decimalOr(s.referencePrice, ZERO),
    },
    orderQty,
    s.header?.eventTimeNs ?? 0n,
    s.signalId,
  );
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
 * intentMessage is the OrderIntent of a decision. A refusal carries TP_ERR_RISK_DENIED and a
 * reason that starts with the stable reason code: "max_position_shares: …".
 */
export function intentMessage(d: RiskDecision, header: Header): OrderIntent {
  return create(OrderIntentSchema, {
    header,
    clientOrderId: d.clientOrderId,
    signalId: d.signalId,
    symbol: d.symbol,
    side: d.side === "buy" ? Side.BUY : Side.SELL,
    qty: toDecimal(d.qty),
    orderType: OrderType.MARKET,
    timeInForce: TimeInForce.DAY,
    decision: d.approved ? IntentDecision.APPROVED : IntentDecision.REJECTED,
    rejectCode: d.approved ? "" : "TP_ERR_RISK_DENIED",
    rejectReason: d.approved ? "" : `${d.reason}: ${d.message}`,
    decisionPrice: toDecimal(d.referencePrice),
    correlationId: d.correlationId,
  });
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

/**
 * subscribeDecoded is subscribeMessages for inputs from other processes: a frame that does not
 * decode goes to `onInvalid` (count and log it) instead of failing the delivery.
 */
export function subscribeDecoded<Desc extends DescMessage>(
  bus: Bus,
  filters: readonly string[],
  schema: Desc,
  handler: (message: MessageShape<Desc>) => void,
  onInvalid: (err: Error) => void,
): Subscription {
  return bus.subscribe(filters, (meta) => {
    let message: MessageShape<Desc>;
    try {
      message = decodeMessage(meta, schema);
    } catch (err) {
      onInvalid(err as Error);
      return;
    }
    handler(message);
  });
}
