/**
 * engine: the simulator's one clock. It advances the market model to the simulated "now", feeds
 * each quote to the broker (so fills always agree with the quotes subscribers saw), tracks the
 * market session, records history for the REST endpoints, and fans events out to listeners.
 *
 * Two clock modes: "realtime" (simulated time = start + elapsed wall time × speed) and "manual"
 * (time moves only when `advance` is called — fully deterministic, for tests).
 */
import type { FeeSchedule } from "../../core/fees.ts";
import { type Fixed, fromDecimal } from "../../core/money.ts";
import * as broker from "../core/broker.ts";
import {
  advanceMarket,
  createMarket,
  type MarketOptions,
  type MarketState,
  setQuote,
  skipMarket,
} from "../core/market.ts";
import { advanceReplay, createReplay, type ReplayState } from "../core/replay.ts";
import {
  isRegularSession,
  type Nanos,
  NS_PER_DAY,
  NS_PER_MS,
  nextClose,
  nextOpen,
} from "../core/time.ts";
import type { BookLevel, MarketEvent } from "../core/types.ts";
import { History } from "./history.ts";

/** The most simulated time one market step covers (see advanceTo). */
const MAX_STEP_NS = 1_000_000_000n;

export type ClockMode = "realtime" | "manual";

export interface EngineOptions {
  seed: number;
  symbols: Record<string, number>;
  assets: broker.Asset[];
  startTime: Nanos;
  speed: number;
  clockMode: ClockMode;
  marketAlwaysOpen: boolean;
  partialFillProbability: number;
  startingCash: Fixed;
  /** fees: regulatory fees charged on each execution (none when absent). */
  fees?: FeeSchedule;
  shortingEnabled: boolean;
  market: Partial<MarketOptions>;
  replay: MarketEvent[] | undefined;
  historyLimit: number;
}

export type TradeUpdateListener = (u: broker.TradeUpdate) => void;
export type MarketListener = (e: MarketEvent) => void;

/** Engine owns the mutable simulator state; every public method keeps the clock in sync first. */
export class Engine {
  readonly options: EngineOptions;
  state!: broker.BrokerState;
  market!: MarketState;
  replay: ReplayState | undefined;
  history!: History;
  private simBase!: Nanos;
  private wallBase!: number;
  private simNow!: Nanos;
  private speed: number;
  private mode: ClockMode;
  private wasOpen = false;
  /** stats counts what the engine has published since start (market events, trade updates). */
  readonly stats = { marketEvents: 0, tradeUpdates: 0 };
  private readonly tradeListeners = new Set<TradeUpdateListener>();
  private readonly marketListeners = new Set<MarketListener>();

  constructor(options: EngineOptions) {
    this.options = options;
    this.speed = options.speed;
    this.mode = options.clockMode;
    this.reset(options.seed, options.startTime);
  }

  /** reset rebuilds market and account from a seed, as if the simulator had just started. */
  reset(seed: number, startTime: Nanos = this.options.startTime): void {
    const o = this.options;
    o.seed = seed;
    const t0 = o.replay && o.replay.length > 0 ? eventStart(o.replay) : startTime;
    this.simBase = t0;
    this.simNow = t0;
    this.wallBase = wallMs();
    this.market = createMarket(seed, o.symbols, t0, o.market);
    this.replay = o.replay ? createReplay(o.replay, seed, o.market.depthLevels ?? 5) : undefined;
    this.state = broker.createBroker(
      {
        seed,
        startingCash: o.startingCash,
        partialFillProbability: o.partialFillProbability,
        shortingEnabled: o.shortingEnabled,
        ...(o.fees !== undefined ? { fees: o.fees } : {}),
      },
      o.assets,
      t0,
    );
    this.history = new History(o.historyLimit);
    // A replay's prices come from the recording alone: no synthetic past, no synthetic quotes.
    if (!this.replay) {
      this.history.seedBars(this.market, seed, t0);
      for (const s of this.market.symbols.values()) {
        broker.onQuote(this.state, s.quote, t0, false);
        this.history.add({ kind: "quote", quote: s.quote });
      }
    }
    this.wasOpen = this.isOpen(t0);
  }

  isOpen(t: Nanos = this.simNow): boolean {
    return this.options.marketAlwaysOpen || isRegularSession(t);
  }

  session(t: Nanos = this.simNow): broker.SessionInfo {
    const close = this.options.marketAlwaysOpen ? startOfNextDay(t) : nextClose(t);
    return { open: this.isOpen(t), close };
  }

  clockInfo(): { mode: ClockMode; speed: number; now: Nanos } {
    return { mode: this.mode, speed: this.speed, now: this.simNow };
  }

  /** setClock switches mode/speed without a jump in simulated time. */
  setClock(mode: ClockMode | undefined, speed: number | undefined): void {
    this.sync();
    if (mode) this.mode = mode;
    if (speed !== undefined && speed > 0) this.speed = speed;
    this.simBase = this.simNow;
    this.wallBase = wallMs();
  }

  /** now brings the market up to the current simulated time and returns it. */
  now(): Nanos {
    this.sync();
    return this.simNow;
  }

  sync(): void {
    if (this.mode === "realtime") {
      const target =
        this.simBase + BigInt(Math.floor((wallMs() - this.wallBase) * this.speed * 1e6));
      if (target > this.simNow) this.advanceTo(target);
    }
  }

  /** advance moves simulated time forward by `ms` (any mode), processing everything in between. */
  advance(ms: number): Nanos {
    this.sync();
    const target = this.simNow + BigInt(Math.round(ms * 1e6));
    this.advanceTo(target);
    this.simBase = this.simNow;
    this.wallBase = wallMs();
    return this.simNow;
  }

  private advanceTo(target: Nanos): void {
    // Session edges are processed as their own steps so expiry happens exactly at the close.
    while (this.simNow < target) {
      // At most one simulated second per step: a realtime clock at high speed that fell behind
      // (a stalled event loop) catches up in bounded batches instead of building one array of
      // every event in between, which grew without bound and ran a loaded process out of memory.
      let stepEnd = target - this.simNow > MAX_STEP_NS ? this.simNow + MAX_STEP_NS : target;
      if (!this.options.marketAlwaysOpen) {
        const edge = this.wasOpen ? nextClose(this.simNow) : nextOpen(this.simNow);
        if (edge <= stepEnd) stepEnd = edge;
      }
      this.processMarket(stepEnd);
      this.simNow = stepEnd;
      const open = this.isOpen(stepEnd);
      if (open !== this.wasOpen) {
        this.wasOpen = open;
        this.emitTrade(
          open
            ? broker.openSession(this.state, stepEnd)
            : broker.expireDayOrders(this.state, stepEnd),
        );
      }
    }
  }

  private processMarket(to: Nanos): void {
    const closed = !this.options.marketAlwaysOpen && !this.wasOpen;
    const events = this.replay
      ? advanceReplay(this.replay, to)
      : closed
        ? skipMarket(this.market, to)
        : advanceMarket(this.market, to);
    for (const e of events) {
      this.history.add(e);
      if (e.kind === "quote") {
        const updates = broker.onQuote(this.state, e.quote, e.quote.t, this.isOpen(e.quote.t));
        this.emitMarket(e);
        this.emitTrade(updates);
      } else {
        this.emitMarket(e);
      }
    }
  }

  /** book returns a symbol's current L2 book (the recording's in replay mode). */
  book(symbol: string): { bids: BookLevel[]; asks: BookLevel[] } | undefined {
    if (this.replay) return this.replay.books.get(symbol);
    return this.market.symbols.get(symbol);
  }

  /** forceQuote sets a symbol's NBBO now (tests use it to make prices known), matching at once. */
  forceQuote(symbol: string, bid: Fixed, ask: Fixed): boolean {
    const t = this.now();
    const q = setQuote(this.market, symbol, bid, ask, t);
    if (!q) return false;
    const e: MarketEvent = { kind: "quote", quote: q };
    this.history.add(e);
    this.emitMarket(e);
    this.emitTrade(broker.onQuote(this.state, q, t, this.isOpen(t)));
    return true;
  }

  /** closeSession expires every live day order now, as the closing bell would. */
  closeSession(): void {
    const t = this.now();
    this.emitTrade(broker.expireDayOrders(this.state, t));
  }

  emitTrade(updates: broker.TradeUpdate[]): void {
    this.stats.tradeUpdates += updates.length;
    for (const u of updates) for (const l of this.tradeListeners) l(u);
  }

  private emitMarket(e: MarketEvent): void {
    this.stats.marketEvents++;
    for (const l of this.marketListeners) l(e);
  }

  onTradeUpdate(l: TradeUpdateListener): () => void {
    this.tradeListeners.add(l);
    return () => this.tradeListeners.delete(l);
  }

  onMarket(l: MarketListener): () => void {
    this.marketListeners.add(l);
    return () => this.marketListeners.delete(l);
  }
}

function wallMs(): number {
  return performance.now();
}

function startOfNextDay(t: Nanos): Nanos {
  return t - (t % NS_PER_DAY) + NS_PER_DAY;
}

function eventStart(events: MarketEvent[]): Nanos {
  const e = events[0]!;
  const t =
    e.kind === "quote"
      ? e.quote.t
      : e.kind === "trade"
        ? e.trade.t
        : e.kind === "bar"
          ? e.bar.t
          : e.book.t;
  return t - NS_PER_MS;
}

export const DEFAULT_STARTING_CASH = fromDecimal(100_000);
