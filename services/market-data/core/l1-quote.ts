/**
 * L1Quote is one symbol's top of market: the best bid and offer from the quote stream and the
 * last trade from the trade stream. A quote with bid > ask is refused (the previous quote stays);
 * a locked quote (bid == ask) is accepted because an NBBO spanning venues can lock for a moment.
 */
import type { Fixed } from "../../core/money.ts";
import type { QuoteEvent, TradeEvent } from "./events.ts";

export class L1Quote {
  readonly symbol: string;
  bidPrice: Fixed = 0n;
  bidSize: Fixed = 0n;
  askPrice: Fixed = 0n;
  askSize: Fixed = 0n;
  quoteTimeNs = 0n;
  hasQuote = false;
  lastPrice: Fixed = 0n;
  lastSize: Fixed = 0n;
  lastTradeId = 0;
  lastTradeTimeNs = 0n;
  hasTrade = false;

  constructor(symbol: string) {
    this.symbol = symbol;
  }

  /** applyQuote stores a quote and returns false (leaving the old one) when it is crossed. */
  applyQuote(ev: QuoteEvent): boolean {
    if (ev.bidPrice > 0n && ev.askPrice > 0n && ev.bidPrice > ev.askPrice) return false;
    this.bidPrice = ev.bidPrice;
    this.bidSize = ev.bidSize;
    this.askPrice = ev.askPrice;
    this.askSize = ev.askSize;
    this.quoteTimeNs = ev.timeNs;
    this.hasQuote = true;
    return true;
  }

  applyTrade(ev: TradeEvent): void {
    this.lastPrice = ev.price;
    this.lastSize = ev.size;
    this.lastTradeId = ev.tradeId;
    this.lastTradeTimeNs = ev.timeNs;
    this.hasTrade = true;
  }
}
