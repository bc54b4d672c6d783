/**
 * broker-sync reads what the broker says the account holds (GET /v2/account and
 * GET /v2/positions) in the core's terms, for reconciliation.
 */
import type { AlpacaTradingClient, WirePosition } from "../alpaca-client/index.ts";
import { abs, type Fixed, fromDecimal } from "../core/money.ts";
import type { BrokerPosition } from "./core/index.ts";

/** brokerPositionOf makes the quantity signed: Alpaca reports shorts with side "short". */
export function brokerPositionOf(w: WirePosition): BrokerPosition {
  const qty = abs(fromDecimal(w.qty));
  return {
    symbol: w.symbol,
    qty: w.side === "short" ? -qty : qty,
    avgEntryPrice: fromDecimal(w.avg_entry_price),
  };
}

export interface BrokerHoldings {
  cash: Fixed;
  positions: BrokerPosition[];
}

/** readBrokerHoldings fetches the account's cash and positions together. */
export async function readBrokerHoldings(trading: AlpacaTradingClient): Promise<BrokerHoldings> {
  const [account, positions] = await Promise.all([trading.getAccount(), trading.listPositions()]);
  return { cash: fromDecimal(account.cash), positions: positions.map(brokerPositionOf) };
}
