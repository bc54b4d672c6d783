/**
 * The market feature kinds of the library beyond the built-in indicators: returns, volatility
 * (realized and range-based), oscillators in TA-Lib's definitions, z-scores, moving-average
 * distances, quote microstructure (spread, microprice, depth imbalance, order-flow imbalance),
 * trade flow, and time of day. `registerMarketFeatures` adds them all; feature-library.ts calls it
 * once. Every computer is O(1) per tick (amortized for window extremes) and allocates nothing
 * after construction, so the same code runs live and in a replay.
 *
 * Conventions: "price" is the mid; price-series kinds advance only when the mid changes (as the
 * built-in ones); quote kinds advance on every quote; trade kinds advance on trades
 * (`FeatureComputer.trade`) and read the latest quote to sign them. Returns are fractions (not
 * percent) unless the TA-Lib name says otherwise (rsi, cmo, roc, willr, stoch, aroon: TA-Lib's
 * scale). Values are NaN until the window is full.
 */
import { Ema } from "../core/ema.ts";
import { Rsi } from "../core/rsi.ts";
import type { Tick } from "./api.ts";
import type { FeatureComputer, FeatureKind } from "./feature-library.ts";
import { Extremes, History, Moments } from "./feature-rolling.ts";
import { type NewYorkTime, newYorkTime } from "./market-time.ts";

type Args = Readonly<Record<string, number>>;

const NS_PER_SECOND = 1e9;
/** Regular session in New York minutes of the day: 09:30 to 16:00. */
const OPEN_MINUTE = 570;
const CLOSE_MINUTE = 960;

/** checkInts refuses arguments that are not integers in [min, max]. */
const ints =
  (min: number, ...names: string[]) =>
  (a: Args): string | undefined => {
    for (const n of names) {
      const v = a[n]!;
      if (!Number.isInteger(v) || v < min) return `${n} must be an integer >= ${min} (got ${v})`;
    }
    return undefined;
  };

const positive =
  (...names: string[]) =>
  (a: Args): string | undefined => {
    for (const n of names) {
      const v = a[n]!;
      if (!(v > 0)) return `${n} must be > 0 (got ${v})`;
    }
    return undefined;
  };

const fastBelowSlow = (a: Args) =>
  ints(1, "fast", "slow")(a) ??
  (a.fast! < a.slow! ? undefined : `fast must be below slow (got ${a.fast} and ${a.slow})`);

/** OnPrice runs `step(mid)` when the mid changes and keeps its value. */
class OnPrice implements FeatureComputer {
  value = Number.NaN;
  private readonly step: (mid: number) => number;
  constructor(step: (mid: number) => number) {
    this.step = step;
  }
  update(tick: Tick): void {
    if (tick.priceChanged) this.value = this.step(tick.mid);
  }
}

/** OnQuote runs `step(tick)` on every quote and keeps its value. */
class OnQuote implements FeatureComputer {
  value = Number.NaN;
  private readonly step: (tick: Tick) => number;
  constructor(step: (tick: Tick) => number) {
    this.step = step;
  }
  update(tick: Tick): void {
    this.value = this.step(tick);
  }
}

const price =
  (make: (a: Args) => (mid: number) => number) =>
  (a: Args): FeatureComputer =>
    new OnPrice(make(a));
const quote =
  (make: (a: Args) => (tick: Tick) => number) =>
  (a: Args): FeatureComputer =>
    new OnQuote(make(a));

/** windowed is a price-series kind with one `period` argument (an integer >= `min`). */
function windowed(
  name: string,
  description: string,
  period: number,
  min: number,
  make: (period: number) => (mid: number) => number,
): FeatureKind {
  return {
    name,
    description,
    args: { period },
    check: ints(min, "period"),
    create: price((a) => make(a.period!)),
  };
}

/** Weighted moving average (weights 1..n, newest heaviest; TA-Lib WMA) in O(1). */
class Wma {
  private readonly window: History;
  private readonly n: number;
  private sum = 0;
  private weighted = 0;
  constructor(n: number) {
    this.n = n;
    this.window = new History(n);
  }
  update(x: number): number {
    const n = this.n;
    if (this.window.full) {
      // Every weight drops by one (the oldest, weight 1, leaves); the newest enters at weight n.
      this.weighted -= this.sum;
      this.sum -= this.window.ago(n - 1);
      this.window.push(x);
      this.weighted += n * x;
    } else {
      this.window.push(x);
      this.weighted += this.window.count * x;
    }
    this.sum += x;
    return this.window.full ? this.weighted / ((n * (n + 1)) / 2) : Number.NaN;
  }
}

/** Least-squares slope of the last n values against 0..n-1 (TA-Lib LINEARREG_SLOPE), O(1). */
class LinRegSlope {
  private readonly window: History;
  private readonly n: number;
  private sum = 0;
  /** Σ k·x_k with k = 0 for the oldest value of the window. */
  private weighted = 0;
  constructor(n: number) {
    this.n = n;
    this.window = new History(n);
  }
  update(x: number): number {
    const n = this.n;
    if (this.window.full) {
      const oldest = this.window.ago(n - 1);
      // Shift every index down by one: the oldest (index 0) leaves.
      this.sum -= oldest;
      this.weighted -= this.sum;
      this.window.push(x);
      this.sum += x;
      this.weighted += (n - 1) * x;
    } else {
      this.weighted += this.window.count * x;
      this.window.push(x);
      this.sum += x;
    }
    if (!this.window.full) return Number.NaN;
    const sumK = (n * (n - 1)) / 2;
    const sumKK = ((n - 1) * n * (2 * n - 1)) / 6;
    return (n * this.weighted - sumK * this.sum) / (n * sumKK - sumK * sumK);
  }
}

/** Lagged: f(now, value n price changes ago). */
function lagged(n: number, f: (now: number, then: number) => number): (mid: number) => number {
  const h = new History(n + 1);
  return (mid) => {
    h.push(mid);
    return h.full ? f(mid, h.ago(n)) : Number.NaN;
  };
}

/** logReturns feeds `sink` with each log return of the mid. */
function logReturns(sink: (r: number) => number): (mid: number) => number {
  let prev = Number.NaN;
  return (mid) => {
    const r = Math.log(mid / prev);
    prev = mid;
    return Number.isNaN(r) ? Number.NaN : sink(r);
  };
}

/** Window range of the mid: OHLC of the last n mids for the range-based estimators. */
function rangeOf(
  n: number,
  f: (open: number, high: number, low: number, close: number) => number,
): (mid: number) => number {
  const ext = new Extremes(n);
  const h = new History(n);
  return (mid) => {
    ext.push(mid);
    h.push(mid);
    return ext.ready ? f(h.ago(n - 1), ext.max, ext.min, mid) : Number.NaN;
  };
}

function emaStep(n: number): (x: number) => number {
  const e = new Ema(n);
  return (x) => {
    e.update(x);
    return e.value;
  };
}

/** Chained EMAs for DEMA/TEMA/TRIX: each stage starts when the previous is ready (TA-Lib). */
function emaChain(n: number, depth: number): (x: number) => Float64Array {
  const stages = Array.from({ length: depth }, () => new Ema(n));
  const out = new Float64Array(depth).fill(Number.NaN);
  return (x) => {
    let input = x;
    for (let i = 0; i < depth; i++) {
      const e = stages[i]!;
      e.update(input);
      if (!e.ready) return out;
      out[i] = e.value;
      input = e.value;
    }
    return out;
  };
}

function zscore(x: number, m: Moments): number {
  if (!m.ready) return Number.NaN;
  const sd = Math.sqrt(m.variance);
  return sd > 0 ? (x - m.mean) / sd : 0;
}

/** Sizes of the book at depth `levels`: the tick's levels when given, else its top. */
function depthSizes(t: Tick, levels: number, side: "bid" | "ask"): number {
  const sizes = side === "bid" ? t.bidSizes : t.askSizes;
  if (sizes === undefined || sizes.length === 0) return side === "bid" ? t.bidSize : t.askSize;
  let s = 0;
  const n = Math.min(levels, sizes.length);
  for (let i = 0; i < n; i++) s += sizes[i]!;
  return s;
}

function imbalance(a: number, b: number): number {
  const d = a + b;
  return d > 0 ? (a - b) / d : 0;
}

function microprice(t: Tick): number {
  const d = t.bidSize + t.askSize;
  return d > 0 ? (t.bidPrice * t.askSize + t.askPrice * t.bidSize) / d : t.mid;
}

/**
 * TradeFlow keeps exponentially decayed buy and sell volume and trade count (half-life in
 * seconds of event time). A trade above the mid of the latest quote is a buy, below a sell, at
 * the mid half each (the quote rule).
 */
class TradeFlow implements FeatureComputer {
  value = Number.NaN;
  private readonly halfLifeNs: number;
  private readonly read: (f: TradeFlow) => number;
  private mid = Number.NaN;
  private lastNs = Number.NaN;
  buyVolume = 0;
  sellVolume = 0;
  count = 0;
  notional = 0;
  volume = 0;
  constructor(halfLifeSeconds: number, read: (f: TradeFlow) => number) {
    this.halfLifeNs = halfLifeSeconds * NS_PER_SECOND;
    this.read = read;
  }
  update(tick: Tick): void {
    this.mid = tick.mid;
    this.decayTo(Number(tick.timeNs));
    if (!Number.isNaN(this.lastNs)) this.value = this.read(this);
  }
  trade(timeNs: bigint, price: number, size: number): void {
    this.decayTo(Number(timeNs));
    if (price > this.mid) this.buyVolume += size;
    else if (price < this.mid) this.sellVolume += size;
    else {
      this.buyVolume += size / 2;
      this.sellVolume += size / 2;
    }
    this.count += 1;
    this.volume += size;
    this.notional += price * size;
    this.value = this.read(this);
  }
  /** Decayed count per second: the count divided by the mean life of the decay. */
  get intensity(): number {
    return this.count / (this.halfLifeNs / NS_PER_SECOND / Math.LN2);
  }
  private decayTo(ns: number): void {
    if (Number.isNaN(this.lastNs)) {
      this.lastNs = ns;
      return;
    }
    const dt = ns - this.lastNs;
    if (dt <= 0) return;
    const keep = Math.exp((-dt / this.halfLifeNs) * Math.LN2);
    this.buyVolume *= keep;
    this.sellVolume *= keep;
    this.count *= keep;
    this.volume *= keep;
    this.notional *= keep;
    this.lastNs = ns;
  }
}

/** Trade sizes z-scored over the last `period` trades. */
class TradeSizeZ implements FeatureComputer {
  value = Number.NaN;
  private readonly m: Moments;
  constructor(period: number) {
    this.m = new Moments(period);
  }
  update(): void {}
  trade(_timeNs: bigint, _price: number, size: number): void {
    this.m.push(size);
    this.value = zscore(size, this.m);
  }
}

/** Time-of-day kinds read the New York time of each quote into one reused object. */
function clock(f: (ny: NewYorkTime, tick: Tick) => number): (a: Args) => FeatureComputer {
  return () => {
    const ny: NewYorkTime = { day: 0, minuteOfDay: 0 };
    return new OnQuote((t) => f(newYorkTime(t.timeNs, ny), t));
  };
}

const secondOfDay = (ny: NewYorkTime, t: Tick): number =>
  ny.minuteOfDay * 60 + Number(t.timeNs % 60_000_000_000n) / NS_PER_SECOND;

/** The feature kinds this module adds, in documentation order. */
export const MARKET_FEATURES: readonly FeatureKind[] = [
  // --- Returns and momentum -------------------------------------------------------------
  {
    name: "return",
    description: "Simple return of the mid over `horizon` price changes: mid / mid[h] − 1.",
    args: { horizon: 1 },
    check: ints(1, "horizon"),
    create: price((a) => lagged(a.horizon!, (now, then) => now / then - 1)),
  },
  {
    name: "log_return",
    description: "Log return of the mid over `horizon` price changes: ln(mid / mid[h]).",
    args: { horizon: 1 },
    check: ints(1, "horizon"),
    create: price((a) => lagged(a.horizon!, (now, then) => Math.log(now / then))),
  },
  windowed("momentum", "TA-Lib MOM: mid − mid[period] (price units).", 10, 1, (period) =>
    lagged(period, (now, then) => now - then),
  ),
  windowed("roc", "TA-Lib ROC: (mid / mid[period] − 1) · 100.", 10, 1, (period) =>
    lagged(period, (now, then) => (now / then - 1) * 100),
  ),
  windowed(
    "up_fraction",
    "Fraction of the last `period` price changes that were up (0..1).",
    20,
    1,
    (period) => {
      const m = new Moments(period);
      let prev = Number.NaN;
      return (mid) => {
        const up = mid > prev ? 1 : 0;
        const first = Number.isNaN(prev);
        prev = mid;
        if (first) return Number.NaN;
        m.push(up);
        return m.mean;
      };
    },
  ),
  windowed(
    "efficiency_ratio",
    "Kaufman's efficiency ratio: |mid − mid[n]| / Σ|Δmid| over n changes (0..1).",
    10,
    1,
    (period) => {
      const n = period;
      const h = new History(n + 1);
      const path = new Moments(n);
      return (mid) => {
        if (h.count > 0) path.push(Math.abs(mid - h.ago(0)));
        h.push(mid);
        if (!h.full || !path.ready) return Number.NaN;
        const total = path.sumValue;
        return total > 0 ? Math.abs(mid - h.ago(n)) / total : 0;
      };
    },
  ),
  windowed(
    "return_autocorr",
    "Lag-1 autocorrelation of log returns over the last `period` pairs.",
    50,
    3,
    (period) => {
      const n = period;
      const xs = new Moments(n);
      const ys = new Moments(n);
      const xy = new Moments(n);
      let last = Number.NaN;
      return logReturns((r) => {
        const x = last;
        last = r;
        if (Number.isNaN(x)) return Number.NaN;
        xs.push(x);
        ys.push(r);
        xy.push(x * r);
        if (!xy.ready) return Number.NaN;
        const cov = xy.mean - xs.mean * ys.mean;
        const den = Math.sqrt(xs.variance * ys.variance);
        return den > 0 ? cov / den : 0;
      });
    },
  ),
  windowed(
    "linreg_slope",
    "TA-Lib LINEARREG_SLOPE: least-squares slope of the last `period` mids per change.",
    14,
    2,
    (period) => {
      const s = new LinRegSlope(period);
      return (mid) => s.update(mid);
    },
  ),
  windowed(
    "linreg_slope_bps",
    "LINEARREG_SLOPE of the mid divided by the mid, in basis points per change.",
    14,
    2,
    (period) => {
      const s = new LinRegSlope(period);
      return (mid) => (s.update(mid) / mid) * 1e4;
    },
  ),
  // --- Volatility -----------------------------------------------------------------------
  windowed(
    "realized_vol",
    "Population standard deviation of the last `period` log returns of the mid.",
    20,
    2,
    (period) => {
      const m = new Moments(period);
      return logReturns((r) => {
        m.push(r);
        return Math.sqrt(m.variance);
      });
    },
  ),
  windowed(
    "realized_var",
    "Sum of squared log returns of the mid over the last `period` changes.",
    20,
    1,
    (period) => {
      const m = new Moments(period);
      return logReturns((r) => {
        m.push(r * r);
        return m.sumValue;
      });
    },
  ),
  windowed(
    "abs_return_mean",
    "Mean absolute log return of the mid over the last `period` changes.",
    20,
    1,
    (period) => {
      const m = new Moments(period);
      return logReturns((r) => {
        m.push(Math.abs(r));
        return m.mean;
      });
    },
  ),
  {
    name: "vol_ratio",
    description: "Realized volatility over `fast` changes divided by that over `slow` changes.",
    args: { fast: 10, slow: 50 },
    check: fastBelowSlow,
    create: price((a) => {
      const f = new Moments(a.fast!);
      const s = new Moments(a.slow!);
      return logReturns((r) => {
        f.push(r);
        s.push(r);
        const v = s.variance;
        return v > 0 ? Math.sqrt(f.variance / v) : Number.isNaN(v) ? v : 0;
      });
    }),
  },
  windowed(
    "parkinson_vol",
    "Parkinson range volatility of the window: ln(high/low) / √(4 ln 2).",
    20,
    2,
    (period) => rangeOf(period, (_o, h, l) => Math.log(h / l) / Math.sqrt(4 * Math.LN2)),
  ),
  windowed(
    "garman_klass_vol",
    "Garman–Klass volatility of the window's open/high/low/close mids.",
    20,
    2,
    (period) =>
      rangeOf(period, (o, h, l, c) => {
        const v = 0.5 * Math.log(h / l) ** 2 - (2 * Math.LN2 - 1) * Math.log(c / o) ** 2;
        return Math.sqrt(Math.max(v, 0));
      }),
  ),
  windowed(
    "rogers_satchell_vol",
    "Rogers–Satchell volatility of the window's open/high/low/close mids.",
    20,
    2,
    (period) =>
      rangeOf(period, (o, h, l, c) => {
        const v = Math.log(h / c) * Math.log(h / o) + Math.log(l / c) * Math.log(l / o);
        return Math.sqrt(Math.max(v, 0));
      }),
  ),
  windowed(
    "range_bps",
    "(highest − lowest mid of the last `period` changes) / mid in basis points.",
    20,
    1,
    (period) => rangeOf(period, (_o, h, l, c) => ((h - l) / c) * 1e4),
  ),
  windowed(
    "stddev",
    "TA-Lib STDDEV (nbdev 1): population standard deviation of the last mids.",
    20,
    2,
    (period) => {
      const m = new Moments(period);
      return (mid) => {
        m.push(mid);
        return Math.sqrt(m.variance);
      };
    },
  ),
  // --- Moving averages and their distances ------------------------------------------------
  windowed(
    "wma",
    "TA-Lib WMA: linearly weighted mean of the last `period` mids (newest heaviest).",
    20,
    1,
    (period) => {
      const w = new Wma(period);
      return (mid) => w.update(mid);
    },
  ),
  windowed("dema", "TA-Lib DEMA: 2·EMA − EMA(EMA) of the mid.", 20, 1, (period) => {
    const chain = emaChain(period, 2);
    return (mid) => {
      const e = chain(mid);
      return 2 * e[0]! - e[1]!;
    };
  }),
  windowed("tema", "TA-Lib TEMA: 3·EMA − 3·EMA² + EMA³ of the mid.", 20, 1, (period) => {
    const chain = emaChain(period, 3);
    return (mid) => {
      const e = chain(mid);
      return 3 * e[0]! - 3 * e[1]! + e[2]!;
    };
  }),
  windowed(
    "trix",
    "TA-Lib TRIX: one-change rate of change (percent) of the triple EMA of the mid.",
    15,
    1,
    (period) => {
      const chain = emaChain(period, 3);
      let prev = Number.NaN;
      return (mid) => {
        const e3 = chain(mid)[2]!;
        const v = (e3 / prev - 1) * 100;
        prev = e3;
        return v;
      };
    },
  ),
  windowed("sma_distance", "mid / SMA(period) − 1.", 20, 1, (period) => {
    const m = new Moments(period);
    return (mid) => {
      m.push(mid);
      return mid / m.mean - 1;
    };
  }),
  windowed("ema_distance", "mid / EMA(period) − 1.", 20, 1, (period) => {
    const e = emaStep(period);
    return (mid) => mid / e(mid) - 1;
  }),
  windowed("wma_distance", "mid / WMA(period) − 1.", 20, 1, (period) => {
    const w = new Wma(period);
    return (mid) => mid / w.update(mid) - 1;
  }),
  {
    name: "sma_cross",
    description: "SMA(fast) / SMA(slow) − 1 of the mid.",
    args: { fast: 10, slow: 30 },
    check: fastBelowSlow,
    create: price((a) => {
      const f = new Moments(a.fast!);
      const s = new Moments(a.slow!);
      return (mid) => {
        f.push(mid);
        s.push(mid);
        return f.mean / s.mean - 1;
      };
    }),
  },
  {
    name: "ema_cross",
    description: "EMA(fast) / EMA(slow) − 1 of the mid.",
    args: { fast: 12, slow: 26 },
    check: fastBelowSlow,
    create: price((a) => {
      const f = emaStep(a.fast!);
      const s = emaStep(a.slow!);
      return (mid) => f(mid) / s(mid) - 1;
    }),
  },
  {
    name: "apo",
    description: "TA-Lib APO with EMAs: EMA(fast) − EMA(slow) of the mid (price units).",
    args: { fast: 12, slow: 26 },
    check: fastBelowSlow,
    create: price((a) => {
      const f = emaStep(a.fast!);
      const s = emaStep(a.slow!);
      return (mid) => f(mid) - s(mid);
    }),
  },
  {
    name: "ppo",
    description: "TA-Lib PPO with EMAs: (EMA(fast) − EMA(slow)) / EMA(slow) · 100.",
    args: { fast: 12, slow: 26 },
    check: fastBelowSlow,
    create: price((a) => {
      const f = emaStep(a.fast!);
      const s = emaStep(a.slow!);
      return (mid) => {
        const fv = f(mid);
        const sv = s(mid);
        return ((fv - sv) / sv) * 100;
      };
    }),
  },
  // --- Oscillators ----------------------------------------------------------------------
  {
    name: "macd_line",
    description: "MACD line EMA(fast) − EMA(slow) of the mid.",
    args: { fast: 12, slow: 26, signal: 9 },
    check: (a) => ints(1, "signal")(a) ?? fastBelowSlow(a),
    create: price((a) => {
      const f = emaStep(a.fast!);
      const s = emaStep(a.slow!);
      return (mid) => f(mid) - s(mid);
    }),
  },
  {
    name: "macd_signal",
    description: "MACD signal line: EMA(signal) of the MACD line.",
    args: { fast: 12, slow: 26, signal: 9 },
    check: (a) => ints(1, "signal")(a) ?? fastBelowSlow(a),
    create: price((a) => {
      const f = emaStep(a.fast!);
      const s = emaStep(a.slow!);
      const sig = emaStep(a.signal!);
      return (mid) => {
        const line = f(mid) - s(mid);
        return Number.isNaN(line) ? line : sig(line);
      };
    }),
  },
  {
    name: "macd_hist_norm",
    description: "MACD histogram divided by the mid, in basis points (comparable across symbols).",
    args: { fast: 12, slow: 26, signal: 9 },
    check: (a) => ints(1, "signal")(a) ?? fastBelowSlow(a),
    create: price((a) => {
      const f = emaStep(a.fast!);
      const s = emaStep(a.slow!);
      const sig = emaStep(a.signal!);
      return (mid) => {
        const line = f(mid) - s(mid);
        if (Number.isNaN(line)) return line;
        return ((line - sig(line)) / mid) * 1e4;
      };
    }),
  },
  windowed(
    "cmo",
    "TA-Lib CMO: Chande momentum oscillator (−100..100) with Wilder's smoothing.",
    14,
    1,
    (period) => {
      const r = new Rsi(period);
      return (mid) => {
        r.update(mid);
        return 2 * r.value - 100;
      };
    },
  ),
  windowed("rsi_centered", "(RSI − 50) / 50 of the mid, in −1..1.", 14, 1, (period) => {
    const r = new Rsi(period);
    return (mid) => {
      r.update(mid);
      return (r.value - 50) / 50;
    };
  }),
  {
    name: "stoch_rsi",
    description: "Stochastic RSI: (RSI − min RSI) / (max − min) over `window` values, 0..100.",
    args: { period: 14, window: 14 },
    check: ints(1, "period", "window"),
    create: price((a) => {
      const r = new Rsi(a.period!);
      const ext = new Extremes(a.window!);
      return (mid) => {
        r.update(mid);
        if (Number.isNaN(r.value)) return Number.NaN;
        ext.push(r.value);
        const range = ext.max - ext.min;
        return range > 0 ? ((r.value - ext.min) / range) * 100 : range === 0 ? 0 : Number.NaN;
      };
    }),
  },
  windowed(
    "stoch_k",
    "TA-Lib STOCHF fast %K of the mid: (mid − lowest) / (highest − lowest) · 100.",
    14,
    1,
    (period) => {
      const ext = new Extremes(period);
      return (mid) => {
        ext.push(mid);
        const range = ext.max - ext.min;
        return range > 0 ? ((mid - ext.min) / range) * 100 : range === 0 ? 0 : Number.NaN;
      };
    },
  ),
  {
    name: "stoch_d",
    description: "TA-Lib STOCHF fast %D: SMA(smooth) of the fast %K of the mid.",
    args: { period: 14, smooth: 3 },
    check: ints(1, "period", "smooth"),
    create: price((a) => {
      const ext = new Extremes(a.period!);
      const m = new Moments(a.smooth!);
      return (mid) => {
        ext.push(mid);
        if (!ext.ready) return Number.NaN;
        const range = ext.max - ext.min;
        m.push(range > 0 ? ((mid - ext.min) / range) * 100 : 0);
        return m.mean;
      };
    }),
  },
  windowed(
    "williams_r",
    "TA-Lib WILLR of the mid: (highest − mid) / (highest − lowest) · −100.",
    14,
    1,
    (period) => {
      const ext = new Extremes(period);
      return (mid) => {
        ext.push(mid);
        const range = ext.max - ext.min;
        return range > 0 ? ((ext.max - mid) / range) * -100 : range === 0 ? 0 : Number.NaN;
      };
    },
  ),
  windowed(
    "aroon_osc",
    "TA-Lib AROONOSC of the mid over `period` (+1 values): aroon up − aroon down.",
    14,
    1,
    (period) => {
      const n = period;
      const ext = new Extremes(n + 1);
      return (mid) => {
        ext.push(mid);
        return ((ext.sinceMin - ext.sinceMax) / n) * 100;
      };
    },
  ),
  windowed(
    "bollinger_zscore",
    "(mid − SMA) / σ over `period` mids (population σ), the Bollinger z-score.",
    20,
    2,
    (period) => {
      const m = new Moments(period);
      return (mid) => {
        m.push(mid);
        return zscore(mid, m);
      };
    },
  ),
  {
    name: "bollinger_upper_distance",
    description: "(upper band − mid) / mid in basis points (negative above the band).",
    args: { period: 20, stdDev: 2 },
    check: (a) => ints(2, "period")(a) ?? positive("stdDev")(a),
    create: price((a) => {
      const m = new Moments(a.period!);
      return (mid) => {
        m.push(mid);
        return ((m.mean + a.stdDev! * Math.sqrt(m.variance) - mid) / mid) * 1e4;
      };
    }),
  },
  {
    name: "bollinger_lower_distance",
    description: "(mid − lower band) / mid in basis points (negative below the band).",
    args: { period: 20, stdDev: 2 },
    check: (a) => ints(2, "period")(a) ?? positive("stdDev")(a),
    create: price((a) => {
      const m = new Moments(a.period!);
      return (mid) => {
        m.push(mid);
        return ((mid - (m.mean - a.stdDev! * Math.sqrt(m.variance))) / mid) * 1e4;
      };
    }),
  },
  windowed(
    "high_distance",
    "mid / highest mid of the last `period` changes − 1 (≤ 0).",
    50,
    1,
    (period) => rangeOf(period, (_o, h, _l, c) => c / h - 1),
  ),
  windowed(
    "low_distance",
    "mid / lowest mid of the last `period` changes − 1 (≥ 0).",
    50,
    1,
    (period) => rangeOf(period, (_o, _h, l, c) => c / l - 1),
  ),
  // --- Z-scores of quote quantities ------------------------------------------------------
  windowed(
    "zscore_return",
    "Latest log return z-scored against the last `period` log returns.",
    50,
    2,
    (period) => {
      const m = new Moments(period);
      return logReturns((r) => {
        m.push(r);
        return zscore(r, m);
      });
    },
  ),
  {
    name: "zscore_depth",
    description: "Quoted size (bidSize + askSize) z-scored over the last `period` quotes.",
    args: { period: 100 },
    check: ints(2, "period"),
    create: quote((a) => {
      const m = new Moments(a.period!);
      return (t) => {
        const d = t.bidSize + t.askSize;
        m.push(d);
        return zscore(d, m);
      };
    }),
  },
  {
    name: "zscore_spread",
    description: "Spread (bps) z-scored over the last `period` quotes.",
    args: { period: 100 },
    check: ints(2, "period"),
    create: quote((a) => {
      const m = new Moments(a.period!);
      return (t) => {
        const s = ((t.askPrice - t.bidPrice) / t.mid) * 1e4;
        m.push(s);
        return zscore(s, m);
      };
    }),
  },
  // --- Quote microstructure -------------------------------------------------------------
  {
    name: "spread",
    description: "ask − bid in price units, on every quote.",
    args: {},
    create: quote(() => (t) => t.askPrice - t.bidPrice),
  },
  {
    name: "spread_ema_bps",
    description: "EMA over `period` quotes of the spread in basis points.",
    args: { period: 20 },
    check: ints(1, "period"),
    create: quote((a) => {
      const e = emaStep(a.period!);
      return (t) => e(((t.askPrice - t.bidPrice) / t.mid) * 1e4);
    }),
  },
  {
    name: "microprice",
    description: "Size-weighted mid: (bid·askSize + ask·bidSize) / (bidSize + askSize).",
    args: {},
    create: quote(() => microprice),
  },
  {
    name: "microprice_offset_bps",
    description: "(microprice − mid) / mid in basis points.",
    args: {},
    create: quote(() => (t) => ((microprice(t) - t.mid) / t.mid) * 1e4),
  },
  {
    name: "microprice_offset_spread",
    description: "(microprice − mid) / spread: −0.5..0.5, where in the spread the microprice is.",
    args: {},
    create: quote(() => (t) => {
      const s = t.askPrice - t.bidPrice;
      return s > 0 ? (microprice(t) - t.mid) / s : 0;
    }),
  },
  {
    name: "book_imbalance_depth",
    description:
      "(Σ bid sizes − Σ ask sizes) / (sum) over the first `levels` (1–5) levels; the top of book when the feed carries no depth.",
    args: { levels: 1 },
    check: (a) =>
      ints(1, "levels")(a) ??
      (a.levels! <= 5 ? undefined : `levels must be 1..5 (got ${a.levels})`),
    create: quote(
      (a) => (t) => imbalance(depthSizes(t, a.levels!, "bid"), depthSizes(t, a.levels!, "ask")),
    ),
  },
  {
    name: "book_imbalance_ema",
    description: "EMA over `period` quotes of the top-of-book imbalance.",
    args: { period: 20 },
    check: ints(1, "period"),
    create: quote((a) => {
      const e = emaStep(a.period!);
      return (t) => e(imbalance(t.bidSize, t.askSize));
    }),
  },
  {
    name: "log_depth_ratio",
    description: "ln(bidSize / askSize) at the top of book (0 when a side is empty).",
    args: {},
    create: quote(
      () => (t) => (t.bidSize > 0 && t.askSize > 0 ? Math.log(t.bidSize / t.askSize) : 0),
    ),
  },
  {
    name: "order_flow_imbalance",
    description:
      "Cont–Kukanov–Stoikov order-flow imbalance of top-of-book changes, summed over `period` quotes, divided by the mean depth.",
    args: { period: 50 },
    check: ints(1, "period"),
    create: quote((a) => {
      const flow = new Moments(a.period!);
      const depth = new Moments(a.period!);
      let pb = Number.NaN;
      let qb = 0;
      let pa = Number.NaN;
      let qa = 0;
      return (t) => {
        const first = Number.isNaN(pb);
        let e = 0;
        if (!first) {
          e += (t.bidPrice >= pb ? t.bidSize : 0) - (t.bidPrice <= pb ? qb : 0);
          e -= (t.askPrice <= pa ? t.askSize : 0) - (t.askPrice >= pa ? qa : 0);
        }
        pb = t.bidPrice;
        qb = t.bidSize;
        pa = t.askPrice;
        qa = t.askSize;
        if (first) return Number.NaN;
        flow.push(e);
        depth.push((t.bidSize + t.askSize) / 2);
        if (!flow.ready) return Number.NaN;
        const d = depth.mean;
        return d > 0 ? flow.sumValue / d : 0;
      };
    }),
  },
  {
    name: "quote_rate",
    description: "Quotes per second, exponentially weighted with `halfLife` seconds.",
    args: { halfLife: 10 },
    check: positive("halfLife"),
    create: quote((a) => {
      const hl = a.halfLife! * NS_PER_SECOND;
      let count = 0;
      let last = Number.NaN;
      return (t) => {
        const ns = Number(t.timeNs);
        if (!Number.isNaN(last) && ns > last) count *= Math.exp((-(ns - last) / hl) * Math.LN2);
        last = ns;
        count += 1;
        return count / (a.halfLife! / Math.LN2);
      };
    }),
  },
  {
    name: "seconds_since_price_change",
    description: "Seconds of event time since the mid last changed.",
    args: {},
    create: quote(() => {
      let changedNs = 0n;
      return (t) => {
        if (t.priceChanged) changedNs = t.timeNs;
        return Number(t.timeNs - changedNs) / NS_PER_SECOND;
      };
    }),
  },
  // --- Trades ---------------------------------------------------------------------------
  {
    name: "trade_flow_imbalance",
    description:
      "(buy − sell volume) / (buy + sell) of trades signed by the quote rule, decayed with `halfLife` seconds.",
    args: { halfLife: 30 },
    check: positive("halfLife"),
    create: (a) => new TradeFlow(a.halfLife!, (f) => imbalance(f.buyVolume, f.sellVolume)),
  },
  {
    name: "trade_intensity",
    description: "Trades per second, exponentially weighted with `halfLife` seconds.",
    args: { halfLife: 30 },
    check: positive("halfLife"),
    create: (a) => new TradeFlow(a.halfLife!, (f) => f.intensity),
  },
  {
    name: "trade_volume_rate",
    description: "Traded shares per second, exponentially weighted with `halfLife` seconds.",
    args: { halfLife: 30 },
    check: positive("halfLife"),
    create: (a) => new TradeFlow(a.halfLife!, (f) => f.volume / (a.halfLife! / Math.LN2)),
  },
  {
    name: "vwap_distance_bps",
    description:
      "(mid − decayed VWAP of trades) / mid in basis points, VWAP weighted with `halfLife` seconds.",
    args: { halfLife: 300 },
    check: positive("halfLife"),
    create: (a) => new VwapDistance(new TradeFlow(a.halfLife!, () => Number.NaN)),
  },
  {
    name: "zscore_trade_size",
    description: "Size of the latest trade z-scored over the last `period` trades.",
    args: { period: 100 },
    check: ints(2, "period"),
    create: (a) => new TradeSizeZ(a.period!),
  },
  // --- Time of day and session ----------------------------------------------------------
  {
    name: "minute_of_day",
    description: "New York minute of the day (570 is 09:30), daylight saving time included.",
    args: {},
    create: clock((ny) => ny.minuteOfDay),
  },
  {
    name: "session_progress",
    description: "Fraction of the regular session (09:30–16:00 New York) elapsed, clamped to 0..1.",
    args: {},
    create: clock((ny, t) => {
      const s = secondOfDay(ny, t) / 60;
      return Math.min(Math.max((s - OPEN_MINUTE) / (CLOSE_MINUTE - OPEN_MINUTE), 0), 1);
    }),
  },
  {
    name: "minutes_since_open",
    description: "Minutes since 09:30 New York (negative before the open).",
    args: {},
    create: clock((ny, t) => secondOfDay(ny, t) / 60 - OPEN_MINUTE),
  },
  {
    name: "minutes_to_close",
    description: "Minutes until 16:00 New York (negative after the close).",
    args: {},
    create: clock((ny, t) => CLOSE_MINUTE - secondOfDay(ny, t) / 60),
  },
  {
    name: "time_of_day_sin",
    description: "sin(2π · second of the New York day / 86400): a cyclical time encoding.",
    args: {},
    create: clock((ny, t) => Math.sin((2 * Math.PI * secondOfDay(ny, t)) / 86_400)),
  },
  {
    name: "time_of_day_cos",
    description: "cos(2π · second of the New York day / 86400).",
    args: {},
    create: clock((ny, t) => Math.cos((2 * Math.PI * secondOfDay(ny, t)) / 86_400)),
  },
  {
    name: "day_of_week",
    description: "New York day of the week, 0 Monday … 6 Sunday.",
    args: {},
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    create: clock((ny) => (((ny.day + 3) % 7) + 7) % 7),
  },
  {
    name: "regular_session",
    description: "1 inside the regular session (09:30 ≤ t < 16:00 New York), else 0.",
    args: {},
    create: clock((ny) => (ny.minuteOfDay >= OPEN_MINUTE && ny.minuteOfDay < CLOSE_MINUTE ? 1 : 0)),
  },
  {
    name: "opening_minutes",
    description: "1 during the first `minutes` of the regular session, else 0.",
    args: { minutes: 30 },
    check: ints(1, "minutes"),
    create: (a) => {
      const ny: NewYorkTime = { day: 0, minuteOfDay: 0 };
      return new OnQuote((t) => {
        const m = newYorkTime(t.timeNs, ny).minuteOfDay;
        return m >= OPEN_MINUTE && m < OPEN_MINUTE + a.minutes! ? 1 : 0;
      });
    },
  },
  {
    name: "closing_minutes",
    description: "1 during the last `minutes` of the regular session, else 0.",
    args: { minutes: 30 },
    check: ints(1, "minutes"),
    create: (a) => {
      const ny: NewYorkTime = { day: 0, minuteOfDay: 0 };
      return new OnQuote((t) => {
        const m = newYorkTime(t.timeNs, ny).minuteOfDay;
        return m >= CLOSE_MINUTE - a.minutes! && m < CLOSE_MINUTE ? 1 : 0;
      });
    },
  },
  {
    name: "session_return",
    description: "mid / first mid of the New York day − 1 (resets at local midnight).",
    args: {},
    create: () => {
      const ny: NewYorkTime = { day: 0, minuteOfDay: 0 };
      let day = Number.NaN;
      let first = Number.NaN;
      return new OnQuote((t) => {
        const d = newYorkTime(t.timeNs, ny).day;
        if (d !== day) {
          day = d;
          first = t.mid;
        }
        return t.mid / first - 1;
      });
    },
  },
];

/** VwapDistance is the mid's distance to the decayed VWAP of a TradeFlow. */
class VwapDistance implements FeatureComputer {
  value = Number.NaN;
  private readonly flow: TradeFlow;
  private mid = Number.NaN;
  constructor(flow: TradeFlow) {
    this.flow = flow;
  }
  update(tick: Tick): void {
    this.flow.update(tick);
    this.mid = tick.mid;
    this.refresh();
  }
  trade(timeNs: bigint, price: number, size: number): void {
    this.flow.trade(timeNs, price, size);
    this.refresh();
  }
  private refresh(): void {
    const f = this.flow;
    this.value = f.volume > 0 ? ((this.mid - f.notional / f.volume) / this.mid) * 1e4 : Number.NaN;
  }
}

/** registerMarketFeatures adds every kind of this module through `register`. */
export function registerMarketFeatures(register: (kind: FeatureKind) => void): void {
  for (const kind of MARKET_FEATURES) register(kind);
}
