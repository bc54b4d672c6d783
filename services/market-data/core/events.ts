/**
 * Events the market-data core consumes and the outputs it returns.
 *
 * Prices and sizes are exact `Fixed` values (services/core/money.ts); times are nanoseconds since
 * the Unix epoch as bigint, as in the bus header. The core never reads a clock: every time it
 * knows arrives in one of these events.
 */
import type { Fixed } from "../../core/money.ts";

/** PriceLevel is one level of a book side as the feed sends it; size 0 deletes the level. */
export interface PriceLevel {
  readonly price: Fixed;
  readonly size: Fixed;
}

/**
 * BookEvent is an L2 book message: a snapshot when `reset` is true (it replaces the book), else a
 * delta. `seq` is the feed's book version: a delta must carry the previous version + 1. Feeds
 * without versions (Alpaca's crypto `o` messages) pass `undefined`, which disables gap detection.
 */
export interface BookEvent {
  readonly type: "book";
  readonly symbol: string;
  readonly seq: number | undefined;
  readonly timeNs: bigint;
  readonly reset: boolean;
  readonly bids: readonly PriceLevel[];
  readonly asks: readonly PriceLevel[];
}

/** QuoteEvent is a best bid and offer (an NBBO for equities). */
export interface QuoteEvent {
  readonly type: "quote";
  readonly symbol: string;
  readonly timeNs: bigint;
  readonly bidPrice: Fixed;
  readonly bidSize: Fixed;
  readonly askPrice: Fixed;
  readonly askSize: Fixed;
}

/** TradeEvent is one print on the tape. */
export interface TradeEvent {
  readonly type: "trade";
  readonly symbol: string;
  readonly timeNs: bigint;
  readonly price: Fixed;
  readonly size: Fixed;
  readonly tradeId: number;
}

export type MarketDataEvent = BookEvent | QuoteEvent | TradeEvent;

/** ResyncReason says why a book stopped publishing until the next snapshot. */
export type ResyncReason = "gap" | "crossed" | "locked" | "no-snapshot";

/**
 * ResyncNeeded is a command to the shell: fetch or request a fresh snapshot for `symbol`
 * (re-subscribe). It is returned once per episode; deltas are dropped until a snapshot arrives.
 */
export interface ResyncNeeded {
  type: "resync-needed";
  symbol: string;
  reason: ResyncReason;
  /** For a gap: the version the book expected and the one that arrived; else -1. */
  expectedSeq: number;
  receivedSeq: number;
}
