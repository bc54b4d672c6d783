/**
 * market: a seedable synthetic market for a set of symbols. Each symbol has its own generator
 * (seeded from the simulator seed and the symbol), so adding a symbol never changes another's
 * prices. Microstructure: a random-walk mid in cents with two volatility regimes (calm/volatile,
 * Markov switching), a spread of 1–N cents that widens in the volatile regime, Poisson quote and
 * trade arrivals, round-lot quote sizes, N levels of depth a cent apart, and one-minute bars built
 * from the trades. Event times come from the arrival processes, never from how often the shell
 * calls `advanceMarket`, so the market is a function of the seed alone.
 */
import type { Fixed } from "../../core/money.ts";
import { createPrng, type Prng } from "./prng.ts";
import { type Nanos, NS_PER_MIN } from "./time.ts";
import type { Bar, BookLevel, BookUpdate, MarketEvent, Quote, Trade } from "./types.ts";

export interface MarketOptions {
  /** quoteRatePerSec is the mean number of quote updates per symbol per simulated second. */
  quoteRatePerSec: number;
  /** tradeRatePerSec is the mean number of prints per symbol per simulated second. */
  tradeRatePerSec: number;
  /** depthLevels is the number of price levels per side of the L2 book. */
  depthLevels: number;
  /** calmVolBps / volatileVolBps: standard deviation of the mid per √second, in basis points. */
  calmVolBps: number;
  volatileVolBps: number;
  /** meanCalmSec / meanVolatileSec: mean time spent in each regime. */
  meanCalmSec: number;
  meanVolatileSec: number;
  /** maxSpreadCents caps the quoted spread. */
  maxSpreadCents: number;
}

export const DEFAULT_MARKET_OPTIONS: MarketOptions = {
  quoteRatePerSec: 10,
  tradeRatePerSec: 4,
  depthLevels: 5,
  calmVolBps: 1.5,
  volatileVolBps: 6,
  meanCalmSec: 300,
  meanVolatileSec: 60,
  maxSpreadCents: 5,
};

const CENT: Fixed = 10_000_000n;
const EXCHANGES = ["V", "Q", "N", "P", "Z", "K"];

export interface SymbolState {
  symbol: string;
  prng: Prng;
  midCents: number;
  volatile: boolean;
  regimeUntil: Nanos;
  lastEventAt: Nanos;
  nextQuoteAt: Nanos;
  nextTradeAt: Nanos;
  tradeId: number;
  quote: Quote;
  bids: BookLevel[];
  asks: BookLevel[];
  bar: Bar | undefined;
}

export interface MarketState {
  options: MarketOptions;
  symbols: Map<string, SymbolState>;
}

const secToNs = (s: number): Nanos => BigInt(Math.max(1, Math.round(s * 1e9)));
const cents = (c: number): Fixed => BigInt(c) * CENT;

/** createMarket builds the state for `symbols` (symbol → starting price in dollars) at time `t0`. */
export function createMarket(
  seed: number,
  symbols: Record<string, number>,
  t0: Nanos,
  overrides: Partial<MarketOptions> = {},
): MarketState {
  const options = { ...DEFAULT_MARKET_OPTIONS, ...overrides };
  const map = new Map<string, SymbolState>();
  for (const [symbol, price] of Object.entries(symbols)) {
    map.set(symbol, createSymbol(seed, symbol, price, t0, options));
  }
  return { options, symbols: map };
}

function createSymbol(
  seed: number,
  symbol: string,
  price: number,
  t0: Nanos,
  o: MarketOptions,
): SymbolState {
  const prng = createPrng(seed, `market:${symbol}`);
  const s: SymbolState = {
    symbol,
    prng,
    midCents: Math.max(1, price * 100),
    volatile: false,
    regimeUntil: t0 + secToNs(prng.exponential(o.meanCalmSec)),
    lastEventAt: t0,
    nextQuoteAt: t0 + secToNs(prng.exponential(1 / o.quoteRatePerSec)),
    nextTradeAt: t0 + secToNs(prng.exponential(1 / o.tradeRatePerSec)),
    tradeId: 1,
    quote: undefined as unknown as Quote,
    bids: [],
    asks: [],
    bar: undefined,
  };
  requote(s, t0, o);
  return s;
}

function requote(s: SymbolState, t: Nanos, o: MarketOptions): void {
  const p = s.prng;
  const maxSpread = Math.max(1, o.maxSpreadCents);
  const spread = Math.min(
    maxSpread,
    s.volatile ? p.int(2, maxSpread) : p.int(1, Math.min(2, maxSpread)),
  );
  const bidCents = Math.max(1, Math.floor(s.midCents - spread / 2));
  const askCents = bidCents + spread;
  s.bids = [];
  s.asks = [];
  for (let i = 0; i < o.depthLevels; i++) {
    s.bids.push({ price: cents(Math.max(1, bidCents - i)), size: p.int(1, 20) * 100 });
    s.asks.push({ price: cents(askCents + i), size: p.int(1, 20) * 100 });
  }
  s.quote = {
    symbol: s.symbol,
    t,
    bidPrice: s.bids[0]!.price,
    bidSize: s.bids[0]!.size / 100,
    bidExchange: EXCHANGES[p.int(0, EXCHANGES.length - 1)]!,
    askPrice: s.asks[0]!.price,
    askSize: s.asks[0]!.size / 100,
    askExchange: EXCHANGES[p.int(0, EXCHANGES.length - 1)]!,
    conditions: ["R"],
    tape: "C",
  };
}

/** bookDiff returns the levels of `next` that differ from `prev`, and prev's vanished levels at size 0. */
export function bookDiff(prev: BookLevel[], next: BookLevel[]): BookLevel[] {
  // Books are a handful of levels: nested scans beat building maps (this runs on every quote).
  const out: BookLevel[] = [];
  for (const l of next) {
    const old = prev.find((p) => p.price === l.price);
    if (old === undefined || old.size !== l.size) out.push(l);
  }
  for (const p of prev) {
    if (!next.some((l) => l.price === p.price)) out.push({ price: p.price, size: 0 });
  }
  return out;
}

function flushBar(s: SymbolState, t: Nanos, out: MarketEvent[]): void {
  if (s.bar && t >= s.bar.t + NS_PER_MIN) {
    out.push({ kind: "bar", bar: s.bar });
    s.bar = undefined;
  }
}

function addToBar(s: SymbolState, trade: Trade): void {
  const start = trade.t - (trade.t % NS_PER_MIN);
  const b = s.bar;
  if (!b) {
    s.bar = {
      symbol: s.symbol,
      t: start,
      open: trade.price,
      high: trade.price,
      low: trade.price,
      close: trade.price,
      volume: trade.size,
      tradeCount: 1,
      vwap: trade.price,
    };
    return;
  }
  const volume = b.volume + trade.size;
  b.vwap = (b.vwap * BigInt(b.volume) + trade.price * BigInt(trade.size)) / BigInt(volume);
  b.volume = volume;
  b.tradeCount += 1;
  b.close = trade.price;
  if (trade.price > b.high) b.high = trade.price;
  if (trade.price < b.low) b.low = trade.price;
}

function stepMid(s: SymbolState, t: Nanos, o: MarketOptions): void {
  while (t >= s.regimeUntil) {
    s.volatile = !s.volatile;
    s.regimeUntil += secToNs(s.prng.exponential(s.volatile ? o.meanVolatileSec : o.meanCalmSec));
  }
  const dtSec = Number(t - s.lastEventAt) / 1e9;
  const vol = (s.volatile ? o.volatileVolBps : o.calmVolBps) / 10_000;
  s.midCents *= 1 + vol * Math.sqrt(Math.max(dtSec, 0)) * s.prng.normal();
  if (s.midCents < 1) s.midCents = 1;
  s.lastEventAt = t;
}

/** advanceSymbol produces every event of one symbol in (lastEventAt, to], in time order. */
function advanceSymbol(s: SymbolState, to: Nanos, o: MarketOptions, out: MarketEvent[]): void {
  for (;;) {
    const isQuote = s.nextQuoteAt <= s.nextTradeAt;
    const t = isQuote ? s.nextQuoteAt : s.nextTradeAt;
    if (t > to) break;
    flushBar(s, t, out);
    stepMid(s, t, o);
    if (isQuote) {
      const prevBids = s.bids;
      const prevAsks = s.asks;
      requote(s, t, o);
      out.push({ kind: "quote", quote: s.quote });
      const book: BookUpdate = {
        symbol: s.symbol,
        t,
        bids: bookDiff(prevBids, s.bids),
        asks: bookDiff(prevAsks, s.asks),
        reset: false,
      };
      out.push({ kind: "book", book });
      s.nextQuoteAt = t + secToNs(s.prng.exponential(1 / o.quoteRatePerSec));
    } else {
      const buy = s.prng.next() < 0.5;
      const touch = buy ? s.quote.askSize : s.quote.bidSize;
      const size =
        s.prng.next() < 0.2 ? s.prng.int(1, 99) : s.prng.int(1, Math.max(1, touch)) * 100;
      const trade: Trade = {
        symbol: s.symbol,
        t,
        id: s.tradeId++,
        price: buy ? s.quote.askPrice : s.quote.bidPrice,
        size,
        exchange: buy ? s.quote.askExchange : s.quote.bidExchange,
        conditions: size < 100 ? ["@", "I"] : ["@"],
        tape: "C",
      };
      addToBar(s, trade);
      out.push({ kind: "trade", trade });
      s.nextTradeAt = t + secToNs(s.prng.exponential(1 / o.tradeRatePerSec));
    }
  }
  flushBar(s, to, out);
}

/**
 * skipMarket moves every symbol to `to` without producing quotes or trades — the market is
 * closed — and returns the bars that were still open. The symbol's processes are paused, not
 * redrawn: pending arrival and regime times shift by the skipped span, so skipping in one step or
 * in many gives the same market afterwards.
 */
export function skipMarket(m: MarketState, to: Nanos): MarketEvent[] {
  const out: MarketEvent[] = [];
  for (const s of m.symbols.values()) {
    flushBar(s, to + NS_PER_MIN, out);
    const span = to - s.lastEventAt;
    if (span <= 0n) continue;
    s.nextQuoteAt += span;
    s.nextTradeAt += span;
    s.regimeUntil += span;
    s.lastEventAt = to;
  }
  return out;
}

/** advanceMarket returns every event of every symbol up to and including `to`, sorted by time. */
export function advanceMarket(m: MarketState, to: Nanos): MarketEvent[] {
  const out: MarketEvent[] = [];
  for (const s of m.symbols.values()) advanceSymbol(s, to, m.options, out);
  if (m.symbols.size <= 1 || out.length <= 1) return out;
  // Sort on number offsets from the first event (exact below 2^53 ns ≈ 104 days); stable, so
  // simultaneous events keep symbol order and the result stays deterministic.
  const base = eventTime(out[0]!);
  const keys = out.map((e) => eventTime(e) - base);
  if (keys.some((k) => k > 2n ** 52n || k < -(2n ** 52n))) {
    return out.sort((a, b) => cmp(eventTime(a), eventTime(b)));
  }
  const order = keys.map((k, i) => ({ k: Number(k), i }));
  order.sort((a, b) => a.k - b.k || a.i - b.i);
  return order.map((x) => out[x.i]!);
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

export function eventSymbol(e: MarketEvent): string {
  switch (e.kind) {
    case "quote":
      return e.quote.symbol;
    case "trade":
      return e.trade.symbol;
    case "bar":
      return e.bar.symbol;
    case "book":
      return e.book.symbol;
  }
}

export function eventTime(e: MarketEvent): Nanos {
  switch (e.kind) {
    case "quote":
      return e.quote.t;
    case "trade":
      return e.trade.t;
    case "bar":
      return e.bar.t + NS_PER_MIN;
    case "book":
      return e.book.t;
  }
}

/** setQuote forces a symbol's top of book (e.g. a test that needs a known price); depth follows. */
export function setQuote(
  m: MarketState,
  symbol: string,
  bid: Fixed,
  ask: Fixed,
  t: Nanos,
): Quote | undefined {
  const s = m.symbols.get(symbol);
  if (!s || ask < bid) return undefined;
  s.midCents = Number((bid + ask) / CENT) / 2;
  s.lastEventAt = t > s.lastEventAt ? t : s.lastEventAt;
  s.bids = s.bids.map((l, i) => ({ price: bid - BigInt(i) * CENT, size: l.size }));
  s.asks = s.asks.map((l, i) => ({ price: ask + BigInt(i) * CENT, size: l.size }));
  s.quote = { ...s.quote, t, bidPrice: bid, askPrice: ask };
  return s.quote;
}
