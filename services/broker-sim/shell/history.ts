/**
 * History keeps what the simulator has generated (trades, quotes, minute bars) so the historical
 * REST endpoints can serve it, plus a synthetic day of minute bars before the start so bar
 * queries have a past. Each series is capped at `limit` items per symbol (oldest dropped).
 */
import { type Fixed, mul, ONE, toNumber } from "../../core/money.ts";
import type { MarketState } from "../core/market.ts";
import { createPrng } from "../core/prng.ts";
import { type Nanos, NS_PER_MIN } from "../core/time.ts";
import type { Bar, MarketEvent, Quote, Trade } from "../core/types.ts";

const CENT: Fixed = 10_000_000n;
const SEED_BARS = 24 * 60;

class Series<T> {
  items: T[] = [];
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  push(v: T): void {
    this.items.push(v);
    if (this.items.length > this.limit * 1.25)
      this.items = this.items.slice(this.items.length - this.limit);
  }
}

export class History {
  private readonly limit: number;
  readonly trades = new Map<string, Series<Trade>>();
  readonly quotes = new Map<string, Series<Quote>>();
  readonly bars = new Map<string, Series<Bar>>();
  /**
   * splits per symbol: `ratio` new shares for each old one (10 for a 10:1 split, 0.1 for a 1:10
   * reverse split) from time `t`. Generated prices are the split-ADJUSTED series; the raw series
   * shows every bar before a split at `ratio` times its price (and volume / ratio).
   */
  readonly splits = new Map<string, { ratio: Fixed; t: Nanos }[]>();

  constructor(limit: number) {
    this.limit = limit;
  }

  private series<T>(map: Map<string, Series<T>>, symbol: string): Series<T> {
    let s = map.get(symbol);
    if (!s) {
      s = new Series<T>(this.limit);
      map.set(symbol, s);
    }
    return s;
  }

  add(e: MarketEvent): void {
    switch (e.kind) {
      case "trade":
        this.series(this.trades, e.trade.symbol).push(e.trade);
        break;
      case "quote":
        this.series(this.quotes, e.quote.symbol).push(e.quote);
        break;
      case "bar":
        this.series(this.bars, e.bar.symbol).push(e.bar);
        break;
      case "book":
        break;
    }
  }

  addSplit(symbol: string, ratio: Fixed, t: Nanos): void {
    const list = this.splits.get(symbol) ?? [];
    list.push({ ratio, t });
    this.splits.set(symbol, list);
  }

  /** rawBars: the bars of `symbol` as traded, before any split adjustment (Alpaca's `raw`). */
  rawBars(symbol: string): readonly Bar[] {
    const bars = (this.bars.get(symbol)?.items ?? []) as readonly Bar[];
    const splits = this.splits.get(symbol);
    if (splits === undefined || splits.length === 0) return bars;
    return bars.map((b) => {
      let factor = ONE;
      for (const s of splits) if (s.t > b.t) factor = mul(factor, s.ratio);
      if (factor === ONE) return b;
      return {
        ...b,
        open: mul(b.open, factor),
        high: mul(b.high, factor),
        low: mul(b.low, factor),
        close: mul(b.close, factor),
        vwap: mul(b.vwap, factor),
        volume: Math.round(b.volume / toNumber(factor)),
      };
    });
  }

  list(kind: "trades" | "quotes" | "bars", symbol: string): readonly (Trade | Quote | Bar)[] {
    return (this[kind].get(symbol)?.items ?? []) as readonly (Trade | Quote | Bar)[];
  }

  /** seedBars writes a day of synthetic minute bars ending at t0, walking back from each start price. */
  seedBars(market: MarketState, seed: number, t0: Nanos): void {
    const end = t0 - (t0 % NS_PER_MIN);
    for (const s of market.symbols.values()) {
      const prng = createPrng(seed, `history:${s.symbol}`);
      let close = Math.round(s.midCents);
      const bars: Bar[] = [];
      for (let i = 1; i <= SEED_BARS; i++) {
        const open = Math.max(1, Math.round(close * (1 + 0.0008 * prng.normal())));
        const high = Math.max(open, close) + prng.int(0, 3);
        const low = Math.max(1, Math.min(open, close) - prng.int(0, 3));
        const volume = prng.int(1, 60) * 100;
        bars.push({
          symbol: s.symbol,
          t: end - BigInt(i) * NS_PER_MIN,
          open: BigInt(open) * CENT,
          high: BigInt(high) * CENT,
          low: BigInt(low) * CENT,
          close: BigInt(close) * CENT,
          volume,
          tradeCount: prng.int(5, 80),
          vwap: (BigInt(open + close) * CENT) / 2n,
        });
        close = open;
      }
      const series = this.series(this.bars, s.symbol);
      for (const b of bars.reverse()) series.push(b);
    }
  }
}
