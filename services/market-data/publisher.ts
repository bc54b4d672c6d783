/**
 * MarketDataPublisher turns the market-data core's outputs into bus messages: `md.quote/<SYM>`,
 * `md.trade/<SYM>`, `md.book_snapshot/<SYM>` and `md.book_delta/<SYM>`. Each message carries the
 * feed's event time in its header, the wall-clock time the stage read the feed frame
 * (`origin_time_ns`: downstream stages carry it to the order, which measures tick → order from
 * it) and, when tracing is on, a new traceparent (a market event is where a trace starts).
 *
 * Message objects are kept per symbol and refilled, so a tick costs the encoding and the decimal
 * strings but no new message trees; quotes, the message of every tick, go through the
 * hand-written codec in quote-wire.ts (same bytes, a fraction of the reflective codec's time),
 * and a price or size equal to the last quote's reuses its decimal string. Book versions are the publisher's own per-symbol counter: a
 * snapshot carries version v and each delta v+1, v+2, … so a consumer can check it missed nothing.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { publishFields } from "../core/bus/fields.ts";
import type { Bus } from "../core/bus/index.ts";
import { Topics, topic } from "../core/bus/topics.ts";
import {
  type BookDelta,
  BookDeltaSchema,
  type BookLevelChange,
  BookLevelChangeSchema,
  BookLevelSchema,
  BookSide,
  type BookSnapshot,
  BookSnapshotSchema,
  HeaderSchema,
  type Trade,
  TradeSchema,
} from "../core/messages/index.ts";
import { newTraceparent } from "../core/messages/trace.ts";
import { toDecimal } from "../core/money.ts";
import type { BookEvent, PriceLevel } from "./core/events.ts";
import type { L1Quote } from "./core/l1-quote.ts";
import type { L2Book } from "./core/l2-book.ts";
import { copyQuote, emptyQuoteFields, encodeQuote, type QuoteFields } from "./quote-wire.ts";

export const SOURCE = "market-data";

/** PublishedKind labels the messages-out counter. */
export type PublishedKind = "quote" | "trade" | "book_snapshot" | "book_delta";

class SymbolTopics {
  readonly quoteTopic: string;
  readonly tradeTopic: string;
  readonly snapshotTopic: string;
  readonly deltaTopic: string;
  readonly quote: QuoteFields;
  readonly trade: Trade;
  readonly snapshot: BookSnapshot;
  readonly delta: BookDelta;
  bookVersion = 0n;
  /** The last quote's values and their decimal strings: most quotes repeat some of them. */
  readonly lastFixed: bigint[] = [-1n, -1n, -1n, -1n];

  constructor(symbol: string) {
    this.quoteTopic = topic(Topics.quote, symbol);
    this.tradeTopic = topic(Topics.trade, symbol);
    this.snapshotTopic = topic(Topics.bookSnapshot, symbol);
    this.deltaTopic = topic(Topics.bookDelta, symbol);
    const header = () => create(HeaderSchema, { source: SOURCE });
    this.quote = { ...emptyQuoteFields(), source: SOURCE, symbol };
    this.trade = create(TradeSchema, { header: header(), symbol });
    this.snapshot = create(BookSnapshotSchema, { header: header(), symbol });
    this.delta = create(BookDeltaSchema, { header: header(), symbol });
  }
}

export interface PublisherOptions {
  /** Start a trace per market event (spec.observability.otlpEndpoint set). */
  tracing: boolean;
  /** Levels per side published in a snapshot. */
  snapshotDepth: number;
}

export class MarketDataPublisher {
  readonly #bus: Bus;
  readonly #tracing: boolean;
  readonly #depth: number;
  readonly #symbols = new Map<string, SymbolTopics>();

  constructor(bus: Bus, options: PublisherOptions) {
    this.#bus = bus;
    this.#tracing = options.tracing;
    this.#depth = options.snapshotDepth;
  }

  /** quote publishes the L1 quote through the hand-written codec (quote-wire.ts): every tick. */
  quote(q: L1Quote, eventTimeNs: bigint, originTimeNs: bigint): void {
    const s = this.#state(q.symbol);
    const m = s.quote;
    this.#stamp(m, eventTimeNs, originTimeNs);
    const last = s.lastFixed;
    if (q.bidPrice !== last[0]) {
      last[0] = q.bidPrice;
      m.bidPrice = toDecimal(q.bidPrice);
    }
    if (q.bidSize !== last[1]) {
      last[1] = q.bidSize;
      m.bidSize = toDecimal(q.bidSize);
    }
    if (q.askPrice !== last[2]) {
      last[2] = q.askPrice;
      m.askPrice = toDecimal(q.askPrice);
    }
    if (q.askSize !== last[3]) {
      last[3] = q.askSize;
      m.askSize = toDecimal(q.askSize);
    }
    // In-process subscribers read a copy (BusMessage.value): nobody encodes or decodes.
    publishFields(this.#bus, s.quoteTopic, m, encodeQuote, copyQuote);
  }

  trade(q: L1Quote, eventTimeNs: bigint, originTimeNs: bigint): void {
    const s = this.#state(q.symbol);
    const m = s.trade;
    this.#stamp(m.header!, eventTimeNs, originTimeNs);
    m.price = toDecimal(q.lastPrice);
    m.size = toDecimal(q.lastSize);
    m.tradeId = BigInt(q.lastTradeId);
    this.#bus.publish(s.tradeTopic, toBinary(TradeSchema, m));
  }

  /** bookSnapshot publishes the book's best levels and starts a new version sequence. */
  bookSnapshot(book: L2Book, eventTimeNs: bigint, originTimeNs: bigint): void {
    const s = this.#state(book.symbol);
    const m = s.snapshot;
    this.#stamp(m.header!, eventTimeNs, originTimeNs);
    s.bookVersion += 1n;
    m.bookVersion = s.bookVersion;
    m.depth = this.#depth;
    m.bids = levelsOf(
      book.bids.count,
      this.#depth,
      (i) => book.bids.priceAt(i),
      (i) => book.bids.sizeAt(i),
    );
    m.asks = levelsOf(
      book.asks.count,
      this.#depth,
      (i) => book.asks.priceAt(i),
      (i) => book.asks.sizeAt(i),
    );
    this.#bus.publish(s.snapshotTopic, toBinary(BookSnapshotSchema, m));
  }

  /** bookDelta forwards the levels of a delta the core applied, as the next book version. */
  bookDelta(ev: BookEvent, originTimeNs: bigint): void {
    const s = this.#state(ev.symbol);
    const m = s.delta;
    this.#stamp(m.header!, ev.timeNs, originTimeNs);
    s.bookVersion += 1n;
    m.bookVersion = s.bookVersion;
    const changes: BookLevelChange[] = [];
    pushChanges(changes, BookSide.BID, ev.bids);
    pushChanges(changes, BookSide.ASK, ev.asks);
    m.changes = changes;
    this.#bus.publish(s.deltaTopic, toBinary(BookDeltaSchema, m));
  }

  #stamp(
    header: { eventTimeNs: bigint; traceparent: string; originTimeNs: bigint },
    eventTimeNs: bigint,
    originTimeNs: bigint,
  ): void {
    header.eventTimeNs = eventTimeNs;
    header.originTimeNs = originTimeNs;
    if (this.#tracing) header.traceparent = newTraceparent();
  }

  #state(symbol: string): SymbolTopics {
    let s = this.#symbols.get(symbol);
    if (s === undefined) {
      s = new SymbolTopics(symbol);
      this.#symbols.set(symbol, s);
    }
    return s;
  }
}

function levelsOf(
  count: number,
  depth: number,
  price: (i: number) => bigint,
  size: (i: number) => bigint,
) {
  const n = Math.min(count, depth);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = create(BookLevelSchema, { price: toDecimal(price(i)), size: toDecimal(size(i)) });
  }
  return out;
}

function pushChanges(out: BookLevelChange[], side: BookSide, levels: readonly PriceLevel[]): void {
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    out.push(
      create(BookLevelChangeSchema, {
        side,
        price: toDecimal(l.price),
        size: toDecimal(l.size),
      }),
    );
  }
}
