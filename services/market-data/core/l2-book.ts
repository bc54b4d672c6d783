/**
 * L2Book is one symbol's order book: two BookSides, the feed's book version, and a status that
 * says whether the book may be published.
 *
 * Status machine:
 *   awaiting-snapshot --snapshot--> live --gap | crossed | locked--> resync --snapshot--> live
 *   awaiting-snapshot --delta--> resync ("no-snapshot")
 * While not live, deltas are dropped: publishing a book built on a missed update would be worse
 * than publishing nothing. A locked book (best bid == best ask) is as impossible on one venue's
 * book as a crossed one, so both mean the book is wrong.
 */
import type { Fixed } from "../../core/money.ts";
import { BookSide } from "./book-side.ts";
import type { BookEvent, PriceLevel, ResyncReason } from "./events.ts";

export type BookStatus = "awaiting-snapshot" | "live" | "resync";

/** BookApplyOutcome is what one event did to the book. */
export type BookApplyOutcome = "updated" | "dropped" | "duplicate" | ResyncReason;

export class L2Book {
  readonly symbol: string;
  readonly bids: BookSide;
  readonly asks: BookSide;
  status: BookStatus = "awaiting-snapshot";
  /** seq is the book version of the last applied event, or undefined when the feed has none. */
  seq: number | undefined = undefined;
  /** timeNs is the event time of the last applied event. */
  timeNs = 0n;
  /** topChanged says whether the last applied event changed the best bid or ask (price or size). */
  topChanged = false;
  /** For the last gap: the version that was expected and the one that arrived. */
  gapExpected = -1;
  gapReceived = -1;

  constructor(symbol: string, depth: number) {
    this.symbol = symbol;
    this.bids = new BookSide("bid", depth);
    this.asks = new BookSide("ask", depth);
  }

  bestBid(): Fixed {
    return this.bids.bestPrice();
  }

  bestAsk(): Fixed {
    return this.asks.bestPrice();
  }

  /** apply applies a snapshot or delta and reports the outcome; see the status machine above. */
  apply(ev: BookEvent): BookApplyOutcome {
    if (ev.reset) {
      this.bids.clear();
      this.asks.clear();
      this.status = "live";
    } else if (this.status !== "live") {
      if (this.status === "resync") return "dropped";
      this.status = "resync";
      return "no-snapshot";
    } else if (ev.seq !== undefined && this.seq !== undefined) {
      const expected = this.seq + 1;
      if (ev.seq < expected) return "duplicate";
      if (ev.seq > expected) {
        this.status = "resync";
        this.gapExpected = expected;
        this.gapReceived = ev.seq;
        return "gap";
      }
    }
    const bb = this.bids.bestPrice();
    const bs = this.bids.bestSize();
    const ba = this.asks.bestPrice();
    const as = this.asks.bestSize();
    applyLevels(this.bids, ev.bids);
    applyLevels(this.asks, ev.asks);
    this.seq = ev.seq;
    this.timeNs = ev.timeNs;
    const nb = this.bids.bestPrice();
    const na = this.asks.bestPrice();
    this.topChanged =
      ev.reset ||
      nb !== bb ||
      na !== ba ||
      this.bids.bestSize() !== bs ||
      this.asks.bestSize() !== as;
    if (this.bids.count > 0 && this.asks.count > 0 && nb >= na) {
      this.status = "resync";
      return nb > na ? "crossed" : "locked";
    }
    return "updated";
  }
}

function applyLevels(side: BookSide, levels: readonly PriceLevel[]): void {
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    side.set(l.price, l.size);
  }
}
