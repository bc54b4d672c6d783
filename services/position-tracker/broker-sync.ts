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
  /** cash: null when the account moved while it was read (see readBrokerHoldings). */
  cash: Fixed | null;
  /** buyingPower: the account's buying power as read (shown on the dashboard, never traded on). */
  buyingPower: Fixed;
  positions: BrokerPosition[];
}

const sameHoldings = (a: readonly BrokerPosition[], b: readonly BrokerPosition[]) => {
  const key = (ps: readonly BrokerPosition[]) =>
    ps
      .map((p) => `${p.symbol}:${p.qty}`)
      .sort()
      .join(",");
  return key(a) === key(b);
};

/**
 * readBrokerHoldings reads the positions, then the account, then the positions again. Two reads
 * are never one atomic view: a fill between them would pair cash that includes it with
 * positions that do not. Only when both position reads agree is the cash returned with them;
 * otherwise the cash is null and only the positions (the later read) are reconciled.
 */
export async function readBrokerHoldings(trading: AlpacaTradingClient): Promise<BrokerHoldings> {
  const first = (await trading.listPositions()).map(brokerPositionOf);
  const account = await trading.getAccount();
  const positions = (await trading.listPositions()).map(brokerPositionOf);
  return {
    cash: sameHoldings(first, positions) ? fromDecimal(account.cash) : null,
    buyingPower: fromDecimal(account.buying_power),
    positions,
  };
}
