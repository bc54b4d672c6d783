/**
 * The feature library: named, incremental features a strategy declares by name
 * (`feature("rsi", { period: 14 })`). The engine builds one computer per distinct (name, args)
 * and symbol, shared by every strategy that declares it, and updates it on every tick before
 * any strategy runs.
 *
 * A feature kind is registered once under its name with its argument defaults; `registerFeature`
 * is the seam a larger library plugs into (it refuses a name twice). Price-series features
 * advance only when the mid changes (`tick.priceChanged`), as the built-in strategy does: a
 * repeated price would pull an RSI toward 50 for no reason.
 */
import { TradepipeError } from "../../core/errors.ts";
import { Bollinger } from "../core/bollinger.ts";
import { Ema } from "../core/ema.ts";
import { Macd } from "../core/macd.ts";
import { Rsi } from "../core/rsi.ts";
import type { FeatureRef, Tick } from "./api.ts";
import { registerMarketFeatures } from "./feature-kinds.ts";

/** FeatureComputer is one feature's state for one symbol. */
export interface FeatureComputer {
  update(tick: Tick): void;
  /** trade feeds one trade of the symbol (trade-flow kinds); quote-only kinds omit it. */
  trade?(timeNs: bigint, price: number, size: number): void;
  /** The current value, NaN until warmed up. */
  readonly value: number;
}

/** FeatureKind is a named feature with its arguments' defaults. */
export interface FeatureKind {
  readonly name: string;
  readonly description: string;
  /** Every argument with its default; other argument names are refused. */
  readonly args: Readonly<Record<string, number>>;
  /** check returns "arg: problem" for bad arguments. */
  readonly check?: (args: Readonly<Record<string, number>>) => string | undefined;
  readonly create: (args: Readonly<Record<string, number>>) => FeatureComputer;
}

const LIBRARY = new Map<string, FeatureKind>();

/** registerFeature adds a feature kind; a name can be registered once. */
export function registerFeature(kind: FeatureKind): void {
  if (LIBRARY.has(kind.name)) throw new Error(`feature "${kind.name}" is already registered`);
  LIBRARY.set(kind.name, kind);
}

/** featureKinds lists the registered features (for documentation and errors). */
export function featureKinds(): FeatureKind[] {
  return [...LIBRARY.values()];
}

/**
 * resolveFeature checks a reference against the library and returns its full arguments and the
 * key that identifies the computer (`rsi(period=14)`), or throws TP_ERR_CONFIG naming `where`.
 */
export function resolveFeature(
  ref: FeatureRef,
  where: string,
): { kind: FeatureKind; args: Record<string, number>; key: string } {
  const kind = LIBRARY.get(ref.feature);
  if (kind === undefined) {
    const known = [...LIBRARY.keys()].join(", ");
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `${where}: unknown feature "${ref.feature}" (the library has ${known})`,
    );
  }
  const args: Record<string, number> = { ...kind.args };
  for (const [name, value] of Object.entries(ref.args)) {
    if (!(name in kind.args)) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `${where}: feature "${kind.name}" has no argument "${name}" (it takes ${Object.keys(kind.args).join(", ") || "none"})`,
      );
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `${where}: feature "${kind.name}" argument ${name} must be a finite number (got ${JSON.stringify(value)})`,
      );
    }
    args[name] = value;
  }
  const problem = kind.check?.(args);
  if (problem !== undefined) {
    throw new TradepipeError("TP_ERR_CONFIG", `${where}: feature "${kind.name}" ${problem}`);
  }
  const key = `${kind.name}(${Object.keys(args)
    .sort()
    .map((k) => `${k}=${args[k]}`)
    .join(",")})`;
  return { kind, args, key };
}

/**
 * parseFeatureKey reads a library key (`rsi(period=14)`, `spread_bps()`; also `spread_bps`) back
 * into a reference: how a model's `feature_names` and a spec's feature lists name features.
 */
export function parseFeatureKey(key: string, where: string): FeatureRef {
  const m = /^\s*([a-z_][a-z_0-9]*)\s*(?:\((.*)\))?\s*$/.exec(key);
  if (m === null) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `${where}: "${key}" is not a feature (name(arg=value,...))`,
    );
  }
  const args: Record<string, number> = {};
  for (const part of (m[2] ?? "").split(",").filter((x) => x.trim() !== "")) {
    const [name, value] = part.split("=").map((x) => x.trim());
    if (!name || value === undefined || value === "" || !Number.isFinite(Number(value))) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        `${where}: "${key}": argument "${part}" is not name=number`,
      );
    }
    args[name] = Number(value);
  }
  return { feature: m[1]!, args };
}

const positiveInt =
  (...names: string[]) =>
  (a: Readonly<Record<string, number>>) => {
    for (const n of names) {
      const v = a[n]!;
      if (!Number.isInteger(v) || v < 1) return `${n} must be an integer >= 1 (got ${v})`;
    }
    return undefined;
  };

/** PriceSeries adapts an indicator updated by mid prices to a FeatureComputer. */
class PriceSeries implements FeatureComputer {
  value = Number.NaN;
  private readonly step: (mid: number) => number;
  constructor(step: (mid: number) => number) {
    this.step = step;
  }
  update(tick: Tick): void {
    if (tick.priceChanged) this.value = this.step(tick.mid);
  }
}

/** series makes a price-series feature from an indicator updated by the mid and read by `read`. */
function series<I extends { update(mid: number): void }>(
  make: (args: Readonly<Record<string, number>>) => I,
  read: (indicator: I) => number,
): (args: Readonly<Record<string, number>>) => FeatureComputer {
  return (args) => {
    const indicator = make(args);
    return new PriceSeries((mid) => {
      indicator.update(mid);
      return read(indicator);
    });
  };
}

/** Instant is a feature of the current quote alone, updated on every quote. */
class Instant implements FeatureComputer {
  value = Number.NaN;
  private readonly of: (tick: Tick) => number;
  constructor(of: (tick: Tick) => number) {
    this.of = of;
  }
  update(tick: Tick): void {
    this.value = this.of(tick);
  }
}

/** Sma is the simple mean of the last `period` mids, O(1) per tick. */
class Sma implements FeatureComputer {
  value = Number.NaN;
  private readonly window: Float64Array;
  private next = 0;
  private count = 0;
  private sum = 0;
  constructor(period: number) {
    this.window = new Float64Array(period);
  }
  update(tick: Tick): void {
    if (!tick.priceChanged) return;
    const n = this.window.length;
    if (this.count === n) this.sum -= this.window[this.next]!;
    else this.count++;
    this.window[this.next] = tick.mid;
    this.sum += tick.mid;
    this.next = this.next + 1 === n ? 0 : this.next + 1;
    if (this.count === n) this.value = this.sum / n;
  }
}

registerFeature({
  name: "mid",
  description: "The mid price (bid + ask) / 2.",
  args: {},
  create: () => new PriceSeries((mid) => mid),
});

registerFeature({
  name: "spread_bps",
  description: "(ask − bid) / mid in basis points, on every quote.",
  args: {},
  create: () => new Instant((t) => ((t.askPrice - t.bidPrice) / t.mid) * 1e4),
});

registerFeature({
  name: "book_imbalance",
  description: "(bidSize − askSize) / (bidSize + askSize) in [−1, 1], on every quote.",
  args: {},
  create: () =>
    new Instant((t) => {
      const depth = t.bidSize + t.askSize;
      return depth > 0 ? (t.bidSize - t.askSize) / depth : 0;
    }),
});

registerFeature({
  name: "sma",
  description: "Simple moving average of the mid over `period` price changes.",
  args: { period: 20 },
  check: positiveInt("period"),
  create: (a) => new Sma(a.period!),
});

registerFeature({
  name: "ema",
  description: "Exponential moving average of the mid (alpha 2/(period+1), SMA-seeded).",
  args: { period: 20 },
  check: positiveInt("period"),
  create: series(
    (a) => new Ema(a.period!),
    (ema) => ema.value,
  ),
});

registerFeature({
  name: "rsi",
  description: "Wilder's RSI (0..100) of the mid.",
  args: { period: 14 },
  check: positiveInt("period"),
  create: series(
    (a) => new Rsi(a.period!),
    (rsi) => rsi.value,
  ),
});

registerFeature({
  name: "macd_hist",
  description: "MACD histogram (line − signal) of the mid.",
  args: { fast: 12, slow: 26, signal: 9 },
  check: (a) =>
    positiveInt("fast", "slow", "signal")(a) ??
    (a.fast! < a.slow! ? undefined : `fast must be below slow (got ${a.fast} and ${a.slow})`),
  create: series(
    (a) => new Macd(a.fast!, a.slow!, a.signal!),
    (macd) => macd.histogram,
  ),
});

const bollingerCheck = (a: Readonly<Record<string, number>>) =>
  positiveInt("period")(a) ?? (a.stdDev! > 0 ? undefined : `stdDev must be > 0 (got ${a.stdDev})`);

registerFeature({
  name: "bollinger_pct_b",
  description: "Bollinger %B of the mid: 0 at the lower band, 1 at the upper band.",
  args: { period: 20, stdDev: 2 },
  check: bollingerCheck,
  create: series(
    (a) => new Bollinger(a.period!, a.stdDev!),
    (b) => b.percentB,
  ),
});

registerFeature({
  name: "bollinger_bandwidth",
  description: "Bollinger bandwidth (upper − lower) / middle of the mid.",
  args: { period: 20, stdDev: 2 },
  check: bollingerCheck,
  create: series(
    (a) => new Bollinger(a.period!, a.stdDev!),
    (b) => b.bandwidth,
  ),
});

// The rest of the library (returns, volatility, oscillators, microstructure, trades, time).
registerMarketFeatures(registerFeature);
