/**
 * MarketDataCore is the market-data stage's functional core: it keeps an L1 quote and an L2 book
 * per symbol and, for each feed event, says what to publish and which commands to carry out.
 * It does no I/O and reads no clock, so the live shell, the fused pipeline and the backtester
 * drive it identically.
 *
 * IMPORTANT: to keep the hot path allocation-free, `apply` returns a reused array of reused
 * output objects that reference the core's live state (the L2Book, the L1Quote). They are valid
 * only until the next `apply`; the shell must encode what it publishes before calling again.
 */
import type { BookEvent, MarketDataEvent, ResyncNeeded } from "./events.ts";
import { isStale } from "./heartbeat.ts";
import { L1Quote } from "./l1-quote.ts";
import { L2Book } from "./l2-book.ts";

/** BookUpdated asks the shell to publish the book (top `depth` levels) of `symbol`. */
export interface BookUpdated {
  type: "book";
  symbol: string;
  book: L2Book;
  /** Whether the best bid or ask changed: a consumer of the top of book can skip others. */
  topChanged: boolean;
  /** True for a snapshot that (re)started the book: publish it as a snapshot, not a delta. */
  snapshot: boolean;
}

/** QuoteUpdated asks the shell to publish the symbol's new best bid and offer. */
export interface QuoteUpdated {
  type: "quote";
  symbol: string;
  quote: L1Quote;
}

/** TradeReported asks the shell to publish the symbol's last trade (in `quote.last*`). */
export interface TradeReported {
  type: "trade";
  symbol: string;
  quote: L1Quote;
}

/** QuoteRejected reports a crossed quote that was not applied (for logs and a counter). */
export interface QuoteRejected {
  type: "quote-rejected";
  symbol: string;
  reason: "crossed";
}

export type MarketDataOutput =
  | BookUpdated
  | QuoteUpdated
  | TradeReported
  | QuoteRejected
  | ResyncNeeded;

/** MarketDataCounters are monotonically increasing counts the shell exports as metrics. */
export interface MarketDataCounters {
  bookEvents: number;
  deltasDropped: number;
  duplicates: number;
  resyncs: number;
  quotesRejected: number;
}

export interface MarketDataCoreOptions {
  /** Levels kept per book side (the published depth is up to the shell). Default 50. */
  depth?: number;
}

class SymbolState {
  readonly book: L2Book;
  readonly quote: L1Quote;
  readonly bookOut: BookUpdated;
  readonly quoteOut: QuoteUpdated;
  readonly tradeOut: TradeReported;
  readonly rejectOut: QuoteRejected;
  readonly resyncOut: ResyncNeeded;
  /** The one-output answers of quotes and trades, as constant arrays (nothing to reset). */
  readonly quoteOuts: readonly MarketDataOutput[];
  readonly tradeOuts: readonly MarketDataOutput[];
  readonly rejectOuts: readonly MarketDataOutput[];
  lastEventNs = 0n;

  constructor(symbol: string, depth: number) {
    this.book = new L2Book(symbol, depth);
    this.quote = new L1Quote(symbol);
    this.bookOut = { type: "book", symbol, book: this.book, topChanged: false, snapshot: false };
    this.quoteOut = { type: "quote", symbol, quote: this.quote };
    this.tradeOut = { type: "trade", symbol, quote: this.quote };
    this.rejectOut = { type: "quote-rejected", symbol, reason: "crossed" };
    this.resyncOut = {
      type: "resync-needed",
      symbol,
      reason: "gap",
      expectedSeq: -1,
      receivedSeq: -1,
    };
    this.quoteOuts = [this.quoteOut];
    this.tradeOuts = [this.tradeOut];
    this.rejectOuts = [this.rejectOut];
  }
}

export class MarketDataCore {
  readonly depth: number;
  readonly counters: MarketDataCounters = {
    bookEvents: 0,
    deltasDropped: 0,
    duplicates: 0,
    resyncs: 0,
    quotesRejected: 0,
  };
  private readonly symbols = new Map<string, SymbolState>();
  private readonly out: MarketDataOutput[] = [];

  constructor(options: MarketDataCoreOptions = {}) {
    this.depth = options.depth ?? 50;
  }

  /** book returns the symbol's L2 book, or undefined before its first event. */
  book(symbol: string): L2Book | undefined {
    return this.symbols.get(symbol)?.book;
  }

  /** quote returns the symbol's L1 quote, or undefined before its first event. */
  quote(symbol: string): L1Quote | undefined {
    return this.symbols.get(symbol)?.quote;
  }

  /** symbolsNeedingResync lists books that wait for a snapshot (for /ready and for retries). */
  symbolsNeedingResync(): string[] {
    const list: string[] = [];
    for (const [symbol, s] of this.symbols) if (s.book.status === "resync") list.push(symbol);
    return list;
  }

  /**
   * staleSymbols lists symbols whose last event (by event time) is older than `maxAgeNs` at
   * `nowNs`, e.g. to flag a feed that went quiet for some symbols while the socket is alive.
   */
  staleSymbols(nowNs: bigint, maxAgeNs: bigint): string[] {
    const list: string[] = [];
    for (const [symbol, s] of this.symbols) {
      if (isStale(s.lastEventNs, nowNs, maxAgeNs)) list.push(symbol);
    }
    return list;
  }

  /** apply feeds one event; see the IMPORTANT note above about the returned outputs. */
  apply(ev: MarketDataEvent): readonly MarketDataOutput[] {
    const s = this.state(ev.symbol);
    if (ev.timeNs > s.lastEventNs) s.lastEventNs = ev.timeNs;
    // Quotes and trades (the hot path) answer with one constant array each: emptying and
    // refilling a shared array would reallocate its storage on every event.
    switch (ev.type) {
      case "quote":
        if (s.quote.applyQuote(ev)) return s.quoteOuts;
        this.counters.quotesRejected++;
        return s.rejectOuts;
      case "trade":
        s.quote.applyTrade(ev);
        return s.tradeOuts;
    }
    const out = this.out;
    out.length = 0;
    if (ev.type === "book") this.applyBook(s, ev, out);
    return out;
  }

  private applyBook(s: SymbolState, ev: BookEvent, out: MarketDataOutput[]): void {
    this.counters.bookEvents++;
    const outcome = s.book.apply(ev);
    switch (outcome) {
      case "updated":
        s.bookOut.topChanged = s.book.topChanged;
        s.bookOut.snapshot = ev.reset;
        out.push(s.bookOut);
        return;
      case "dropped":
        this.counters.deltasDropped++;
        return;
      case "duplicate":
        this.counters.duplicates++;
        return;
      default: {
        this.counters.resyncs++;
        if (outcome === "no-snapshot" || outcome === "gap") this.counters.deltasDropped++;
        const r = s.resyncOut;
        r.reason = outcome;
        r.expectedSeq = outcome === "gap" ? s.book.gapExpected : -1;
        r.receivedSeq = outcome === "gap" ? s.book.gapReceived : -1;
        out.push(r);
      }
    }
  }

  private state(symbol: string): SymbolState {
    let s = this.symbols.get(symbol);
    if (s === undefined) {
      s = new SymbolState(symbol, this.depth);
      this.symbols.set(symbol, s);
    }
    return s;
  }
}
