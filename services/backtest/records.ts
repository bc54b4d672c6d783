/**
 * MarketRecord: one market-data event as the backtest replays it, with both timestamps: when
 * the venue stamped it (`exchangeNs`) and when we received it (`receivedNs`, -1n when the data
 * does not say; the latency model's feed latency is then added). Prices and sizes are exact.
 * One shape for quotes, trades and L2 book rows (fields of the other kinds are zero) keeps the
 * hot loop monomorphic. A book row is one price level of one side: a bid level in
 * `bidPrice`/`bidSize`, an ask level in `askPrice`/`askSize` (sizes in shares, 0: the level is
 * gone), `tradeId` 1 on the first row of a side's snapshot (the side's levels are cleared first).
 */
import type { Fixed } from "../core/money.ts";
import type { QuoteEvent, TradeEvent } from "../market-data/core/events.ts";

export type MarketKind = "quote" | "trade" | "book";

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

/** bookRecord: one L2 level change (see above). */
export function bookRecord(
  symbol: string,
  exchangeNs: bigint,
  side: "bid" | "ask",
  price: Fixed,
  size: Fixed,
  reset: boolean,
  receivedNs = -1n,
): MarketRecord {
  const bid = side === "bid";
  return {
    kind: "book",
    symbol,
    exchangeNs,
    receivedNs,
    bidPrice: bid ? price : 0n,
    bidSize: bid ? size : 0n,
    askPrice: bid ? 0n : price,
    askSize: bid ? 0n : size,
    price: 0n,
    size: 0n,
    tradeId: reset ? 1 : 0,
  };
}

/** MarketSource: batches of records in exchange-time order (a batch is read before the next). */
export type MarketSource = AsyncIterable<readonly MarketRecord[]>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * FeedEvents hands records to a market-data core as its events, through one reused quote event
 * and one reused trade event (the core reads them and keeps nothing): valid until the next call.
 */
export class FeedEvents {
  private readonly quote: Mutable<QuoteEvent> = {
    type: "quote",
    symbol: "",
    timeNs: 0n,
    bidPrice: 0n,
    bidSize: 0n,
    askPrice: 0n,
    askSize: 0n,
  };
  private readonly trade: Mutable<TradeEvent> = {
    type: "trade",
    symbol: "",
    timeNs: 0n,
    price: 0n,
    size: 0n,
    tradeId: 0,
  };

  /** quoteOf: the quote event of a quote record, at its exchange time. */
  quoteOf(r: MarketRecord): QuoteEvent {
    const e = this.quote;
    e.symbol = r.symbol;
    e.timeNs = r.exchangeNs;
    e.bidPrice = r.bidPrice;
    e.bidSize = r.bidSize;
    e.askPrice = r.askPrice;
    e.askSize = r.askSize;
    return e;
  }

  /** tradeOf: the trade event of a trade record, at its exchange time. */
  tradeOf(r: MarketRecord): TradeEvent {
    const e = this.trade;
    e.symbol = r.symbol;
    e.timeNs = r.exchangeNs;
    e.price = r.price;
    e.size = r.size;
    e.tradeId = r.tradeId;
    return e;
  }
}
