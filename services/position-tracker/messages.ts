/**
 * messages maps between the bus and the position-tracker core: OrderUpdate fills and quotes in,
 * PositionUpdate, PortfolioUpdate and the drawdown-alert Control out. No logic beyond the
 * translation; a malformed number in a message becomes a TradepipeError naming the field.
 */
import { create } from "@bufbuild/protobuf";
import { TradepipeError } from "../core/errors.ts";
import {
  type Control,
  ControlCommand,
  ControlSchema,
  type Header,
  headerFrom,
  newHeader,
  type OrderUpdate,
  type PortfolioUpdate,
  PortfolioUpdateSchema,
  type PositionUpdate,
  PositionUpdateSchema,
  Side,
} from "../core/messages/index.ts";
import { type Fixed, fromDecimal, toDecimal, ZERO } from "../core/money.ts";
import type {
  FillReceived,
  PortfolioView,
  PositionView,
  PublishDrawdownAlert,
  ReconciliationBreak,
} from "./core/index.ts";

export const SOURCE = "position-tracker";

/** decimalField parses a decimal string field, naming the message and field when it is bad. */
export function decimalField(value: string, what: string): Fixed {
  try {
    return fromDecimal(value);
  } catch (err) {
    throw new TradepipeError("TP_ERR_INVALID_MESSAGE", `${what}: not a decimal: "${value}"`, {
      cause: err,
    });
  }
}

/** fillFromOrderUpdate is the core's FillReceived for an update that carries a fill, else null. */
export function fillFromOrderUpdate(u: OrderUpdate): FillReceived | null {
  if (u.fillQty === "" || u.fillPrice === "") return null;
  const fillQty = decimalField(u.fillQty, `OrderUpdate ${u.clientOrderId} fill_qty`);
  if (fillQty <= ZERO) return null;
  if (u.side !== Side.BUY && u.side !== Side.SELL) {
    throw new TradepipeError(
      "TP_ERR_INVALID_MESSAGE",
      `OrderUpdate ${u.clientOrderId}: fill without a side`,
    );
  }
  return {
    type: "FillReceived",
    timeNs: u.header?.eventTimeNs ?? 0n,
    clientOrderId: u.clientOrderId,
    symbol: u.symbol,
    side: u.side === Side.BUY ? "buy" : "sell",
    fillQty,
    fillPrice: decimalField(u.fillPrice, `OrderUpdate ${u.clientOrderId} fill_price`),
    // A producer that leaves the cumulative figure out gets per-event idempotency only.
    filledQty:
      u.filledQty === ""
        ? fillQty
        : decimalField(u.filledQty, `OrderUpdate ${u.clientOrderId} filled_qty`),
    // The cumulative average prices the cumulative quantity, whatever order fills arrive in.
    ...(u.filledAvgPrice === ""
      ? {}
      : {
          filledAvgPrice: decimalField(
            u.filledAvgPrice,
            `OrderUpdate ${u.clientOrderId} filled_avg_price`,
          ),
        }),
  };
}

export function positionMessage(p: PositionView, header: Header): PositionUpdate {
  return create(PositionUpdateSchema, {
    header,
    symbol: p.symbol,
    qty: toDecimal(p.qty),
    avgCost: toDecimal(p.avgCost),
    marketPrice: toDecimal(p.marketPrice),
    marketValue: toDecimal(p.marketValue),
    realizedPnl: toDecimal(p.realizedPnl),
    unrealizedPnl: toDecimal(p.unrealizedPnl),
    sector: p.sector,
  });
}

const opt = (v: Fixed | null) => (v === null ? "" : toDecimal(v));

/** breaksDetail describes reconciliation breaks in one short line ("AAPL ours 0 broker 5"). */
export function breaksDetail(breaks: readonly ReconciliationBreak[]): string {
  return breaks
    .map((b) => `${b.symbol} ours ${toDecimal(b.ours)} broker ${toDecimal(b.theirs)}`)
    .join("; ");
}

export function portfolioMessage(
  v: PortfolioView,
  breaks: readonly ReconciliationBreak[],
  header: Header,
): PortfolioUpdate {
  return create(PortfolioUpdateSchema, {
    header,
    equity: opt(v.equity),
    cash: opt(v.cash),
    realizedPnl: toDecimal(v.realizedPnl),
    unrealizedPnl: toDecimal(v.unrealizedPnl),
    marketValue: toDecimal(v.marketValue),
    peakEquity: opt(v.peakEquity),
    drawdown: toDecimal(v.drawdown),
    reconciled: v.reconciled,
    canTrade: v.canTrade,
    reconciliationBreaks: breaks.length,
    reconciliationDetail: breaksDetail(breaks),
  });
}

/** drawdownControl is the Control that tells the risk-manager to stop adding risk. */
export function drawdownControl(a: PublishDrawdownAlert): Control {
  return create(ControlSchema, {
    header: newHeader(SOURCE, a.timeNs),
    command: ControlCommand.DRAWDOWN_ALERT,
    requestedBy: SOURCE,
    reason: `drawdown ${toDecimal(a.drawdown)} from peak equity ${toDecimal(a.peakEquity, 2)} (equity ${toDecimal(a.equity, 2)})`,
    drawdown: toDecimal(a.drawdown),
  });
}

export { headerFrom, newHeader };
