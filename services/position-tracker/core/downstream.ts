/**
 * downstream turns the tracker's published commands into the risk-manager's events: positions
 * and portfolio feed its exposure, daily loss and trading gate; a drawdown alert becomes the
 * `drawdown_alert` control that halts new risk until resumed.
 */
import { toDecimal } from "../../core/money.ts";
import type { RiskEvent } from "../../risk-manager/core/types.ts";
import type { PositionCommand } from "./types.ts";

export function eventForRisk(c: PositionCommand, timeNs: bigint): RiskEvent | null {
  switch (c.type) {
    case "PublishPosition":
      return {
        type: "PositionChanged",
        timeNs,
        symbol: c.position.symbol,
        qty: c.position.qty,
        marketPrice: c.position.marketPrice,
      };
    case "PublishPortfolio":
      return {
        type: "PortfolioChanged",
        timeNs: c.portfolio.timeNs,
        equity: c.portfolio.equity,
        realizedPnl: c.portfolio.realizedPnl,
        unrealizedPnl: c.portfolio.unrealizedPnl,
        canTrade: c.portfolio.canTrade,
      };
    case "PublishDrawdownAlert":
      return {
        type: "ControlReceived",
        timeNs: c.timeNs,
        command: "drawdown_alert",
        requestedBy: "position-tracker",
        reason: `drawdown ${toDecimal(c.drawdown)} from peak equity ${toDecimal(c.peakEquity, 2)}`,
      };
    default:
      return null;
  }
}
