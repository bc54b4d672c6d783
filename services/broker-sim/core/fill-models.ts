/**
 * fill-models: fill models for the backtester, plugged into the one matching engine
 * (broker.ts's `fillModel`), stricter than Alpaca paper's "everything fills at the quote".
 *
 * - Taking liquidity (market orders, and limits marketable when they arrive): fill at the touch
 *   up to the size the quote shows, each quote's size consumed once across all orders; the rest
 *   waits for the next quotes (partial fills). A limit never fills beyond its limit.
 * - Resting limits, `conservative` (default): fill only when the market goes through the limit:
 *   a print strictly through it (fill at the limit, up to the print's size), or a quote whose far
 *   side moved strictly through it (fill at the limit, up to the quote's size). Touching the limit
 *   is not enough.
 * - Resting limits, `queue` (L2 queue position): the order joins the back of its price level:
 *   the size shown there when it arrived is ahead of it: the L2 book's size at its limit when
 *   the model is fed books (`onBook`; any level, not only the touch), else the quote's size at
 *   the touch. Prints at the limit consume the queue ahead first, then fill the order; the
 *   level shrinking below the queue ahead (cancellations) moves the order up (never back);
 *   prints and quotes through the limit fill it as above.
 *
 * Prices are never improved (a fill is at the touch or at the limit). Quantities are exact Fixed;
 * market-data sizes are whole shares.
 */
import { type Fixed, ONE, ZERO } from "../../core/money.ts";
import type { Fill, FillModel } from "./matching.ts";
import { type Order, remainingQty } from "./orders.ts";
import type { Quote } from "./types.ts";

export type RestingLimitModel = "conservative" | "queue";

export interface FillModelOptions {
  restingLimits: RestingLimitModel;
  /**
   * quoteLotShares: shares per unit of a quote's size. Alpaca's stock quotes give sizes in round
   * lots (and so does the simulator), so the default is 100; data in shares uses 1. Trade sizes
   * are always shares.
   */
  quoteLotShares?: number;
}

interface QuoteLiquidity {
  quote: Quote | undefined;
  bidLeft: Fixed;
  askLeft: Fixed;
}

const shares = (n: number): Fixed => BigInt(Math.round(n)) * ONE;
const minFixed = (a: Fixed, b: Fixed): Fixed => (a < b ? a : b);

/** BookFillModel: a fill model that also reads L2 book changes (sizes in shares). */
export interface BookFillModel extends FillModel {
  /** onBook: one price level of one side changed to `size` (0: gone); `reset` clears the side first. */
  onBook(symbol: string, side: "bid" | "ask", price: Fixed, size: Fixed, reset: boolean): void;
}

interface Book {
  bids: Map<Fixed, Fixed>;
  asks: Map<Fixed, Fixed>;
}

/** createFillModel makes one model for one broker (it remembers consumed size and queues). */
export function createFillModel(options: FillModelOptions): BookFillModel {
  const liquidity = new Map<string, QuoteLiquidity>();
  /** queueAhead: shares ahead of a resting order at its limit (queue model only). */
  const queueAhead = new Map<string, Fixed>();
  /** resting: orders that arrived unmarketable, i.e. wait as resting limits. */
  const resting = new Set<string>();
  /** books: L2 levels per symbol (price → shares), when fed; queued: orders waiting in them. */
  const books = new Map<string, Book>();
  const queued = new Map<string, { symbol: string; side: "bid" | "ask"; price: Fixed }>();

  const lot = BigInt(options.quoteLotShares ?? 100);
  const quoteShares = (n: number): Fixed => shares(n) * lot;
  const liquidityOf = (q: Quote): QuoteLiquidity => {
    let l = liquidity.get(q.symbol);
    if (l === undefined) {
      l = { quote: undefined, bidLeft: ZERO, askLeft: ZERO };
      liquidity.set(q.symbol, l);
    }
    if (l.quote !== q) {
      l.quote = q;
      l.bidLeft = quoteShares(q.bidSize);
      l.askLeft = quoteShares(q.askSize);
    }
    return l;
  };

  const take = (o: Order, q: Quote, remaining: Fixed): Fill | undefined => {
    const buy = o.side === "buy";
    const price = buy ? q.askPrice : q.bidPrice;
    if (price <= ZERO) return undefined;
    if (o.limitPrice !== null && o.type === "limit") {
      if (buy ? price > o.limitPrice : price < o.limitPrice) return undefined;
    }
    const l = liquidityOf(q);
    const left = buy ? l.askLeft : l.bidLeft;
    const qty = minFixed(remaining, left);
    if (qty <= ZERO) return undefined;
    if (buy) l.askLeft -= qty;
    else l.bidLeft -= qty;
    return { price, qty };
  };

  return {
    onQuote(o, q, arriving) {
      const remaining = remainingQty(o) ?? ZERO;
      if (remaining <= ZERO) return undefined;
      if (o.type === "market") return take(o, q, remaining);
      if (o.type !== "limit" || o.limitPrice === null) return undefined;
      if (arriving) {
        const fill = take(o, q, remaining);
        if (fill !== undefined) return fill;
        resting.add(o.id);
        if (options.restingLimits === "queue") {
          const side = o.side === "buy" ? "bid" : "ask";
          const book = books.get(o.symbol);
          const atTouch =
            o.side === "buy" ? q.bidPrice === o.limitPrice : q.askPrice === o.limitPrice;
          const fromQuote = atTouch ? quoteShares(o.side === "buy" ? q.bidSize : q.askSize) : ZERO;
          queueAhead.set(
            o.id,
            book === undefined
              ? fromQuote
              : ((side === "bid" ? book.bids : book.asks).get(o.limitPrice) ?? ZERO),
          );
          queued.set(o.id, { symbol: o.symbol, side, price: o.limitPrice });
        }
        return undefined;
      }
      if (!resting.has(o.id)) return take(o, q, remaining);
      // A resting limit fills from quotes only when the far side moved strictly through it.
      const buy = o.side === "buy";
      const through = buy
        ? q.askPrice > ZERO && q.askPrice < o.limitPrice
        : q.bidPrice > o.limitPrice;
      if (!through) return undefined;
      const l = liquidityOf(q);
      const left = buy ? l.askLeft : l.bidLeft;
      const qty = minFixed(remaining, left);
      if (qty <= ZERO) return undefined;
      if (buy) l.askLeft -= qty;
      else l.bidLeft -= qty;
      queueAhead.delete(o.id);
      queued.delete(o.id);
      return { price: o.limitPrice, qty };
    },

    onBook(symbol, side, price, size, reset) {
      let book = books.get(symbol);
      if (book === undefined) {
        book = { bids: new Map(), asks: new Map() };
        books.set(symbol, book);
      }
      const levels = side === "bid" ? book.bids : book.asks;
      if (reset) levels.clear();
      if (size > ZERO) levels.set(price, size);
      else levels.delete(price);
      // Size leaving a level ahead of a queued order can only have been ahead of it (risk-averse:
      // the order moves up when the level shrinks below what is ahead, never back).
      for (const [id, at] of queued) {
        if (at.symbol !== symbol || at.side !== side || at.price !== price) continue;
        const ahead = queueAhead.get(id);
        if (ahead !== undefined && size < ahead) queueAhead.set(id, size);
      }
    },

    onTrade(o, t) {
      if (o.type !== "limit" || o.limitPrice === null || !resting.has(o.id)) return undefined;
      const remaining = remainingQty(o) ?? ZERO;
      if (remaining <= ZERO) return undefined;
      const buy = o.side === "buy";
      const size = shares(t.size);
      const through = buy ? t.price < o.limitPrice : t.price > o.limitPrice;
      if (through) {
        queueAhead.delete(o.id);
        queued.delete(o.id);
        return { price: o.limitPrice, qty: minFixed(remaining, size) };
      }
      if (options.restingLimits !== "queue" || t.price !== o.limitPrice) return undefined;
      const ahead = queueAhead.get(o.id) ?? ZERO;
      if (size <= ahead) {
        queueAhead.set(o.id, ahead - size);
        return undefined;
      }
      queueAhead.set(o.id, ZERO);
      return { price: o.limitPrice, qty: minFixed(remaining, size - ahead) };
    },
  };
}
