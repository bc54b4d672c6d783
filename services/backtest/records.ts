/**
 * MarketRecord: one market-data event as the backtest replays it, with both timestamps: when
 * the venue stamped it (`exchangeNs`) and when we received it (`receivedNs`, -1n when the data
 * does not say; the latency model's feed latency is then added). Prices and sizes are exact.
 * One shape for quotes and trades (fields of the other kind are zero) keeps the hot loop
 * monomorphic.
 */
import type { Fixed } from "../core/money.ts";

export type MarketKind = "quote" | "trade";

export interface MarketRecord {
  kind: MarketKind;
  symbol: string;
  exchangeNs: bigint;
  receivedNs: bigint;
  bidPrice: Fixed;
  bidSize: Fixed;
  askPrice: Fixed;
  askSize: Fixed;
  price: Fixed;
  size: Fixed;
  tradeId: number;
}

export function quoteRecord(
  symbol: string,
  exchangeNs: bigint,
  bidPrice: Fixed,
  bidSize: Fixed,
  askPrice: Fixed,
  askSize: Fixed,
  receivedNs = -1n,
): MarketRecord {
  return {
    kind: "quote",
    symbol,
    exchangeNs,
    receivedNs,
    bidPrice,
    bidSize,
    askPrice,
    askSize,
    price: 0n,
    size: 0n,
    tradeId: 0,
  };
}

export function tradeRecord(
  symbol: string,
  exchangeNs: bigint,
  price: Fixed,
  size: Fixed,
  tradeId: number,
  receivedNs = -1n,
): MarketRecord {
  return {
    kind: "trade",
    symbol,
    exchangeNs,
    receivedNs,
    bidPrice: 0n,
    bidSize: 0n,
    askPrice: 0n,
    askSize: 0n,
    price,
    size,
    tradeId,
  };
}

/** MarketSource: batches of records in exchange-time order (a batch is read before the next). */
export type MarketSource = AsyncIterable<readonly MarketRecord[]>;
