/**
 * Feature datasets for training, computed by the live stage's own code: the market records of a
 * replay go through a StrategyEngine (the signal-bridge's core) holding one recording strategy
 * that declares the spec's features, so each row holds exactly the values a live strategy
 * declaring them would have read on that quote (rounded to float32, the model's input dtype).
 * Trades reach the trade-flow features through `engine.onTrade`, as live.
 *
 * Rows are point-in-time: one per quote once every feature is warm, stamped with the quote's
 * event time (`event_ns`). Labels look forward from it: `forward_return` is the mid at the first
 * quote at or after event + horizon over the mid now, minus 1; `label` is 1 when it is > 0;
 * `label_end_ns` (event + horizon) is the last moment the label looked at, which purging and
 * the embargo need. With `barrierBps`, `barrier_label` is the triple-barrier label: +1 if the mid
 * first reaches +barrier, −1 if it first reaches −barrier, 0 if neither within the horizon.
 * Rows whose horizon runs past the data are dropped (no label is invented).
 */
import { parse } from "yaml";
import { TradepipeError } from "../../core/errors.ts";
import type { FeatureRef, StrategyDefinition } from "./api.ts";
import { defineStrategy, hold, Type } from "./api.ts";
import { StrategyEngine } from "./engine.ts";
import { resolveFeature } from "./feature-library.ts";
import { prepareSlot } from "./slot.ts";

export interface FeatureSetSpec {
  readonly symbols: readonly string[];
  /** Features in model input order. */
  readonly features: readonly FeatureRef[];
  readonly horizonSeconds: number;
  readonly barrierBps: number | undefined;
}

/**
 * parseFeatureSpec reads a feature-set file:
 *   symbols: [AAPL, MSFT]
 *   features: [rsi: { period: 14 }, spread_bps, { return: { horizon: 5 } }]
 *   label: { horizonSeconds: 60, barrierBps: 20 }
 */
export function parseFeatureSpec(text: string, where = "feature spec"): FeatureSetSpec {
  const doc = parse(text) as Record<string, unknown> | null;
  const bad = (msg: string) => new TradepipeError("TP_ERR_CONFIG", `${where}: ${msg}`);
  if (doc === null || typeof doc !== "object") throw bad("must be a YAML mapping");
  const symbols = doc.symbols;
  if (
    !Array.isArray(symbols) ||
    symbols.length === 0 ||
    !symbols.every((s) => typeof s === "string")
  ) {
    throw bad("symbols must be a non-empty list of symbols");
  }
  if (!Array.isArray(doc.features) || doc.features.length === 0) {
    throw bad("features must be a non-empty list (e.g. - rsi: { period: 14 })");
  }
  const features = doc.features.map((f: unknown, i: number): FeatureRef => {
    if (typeof f === "string") return { feature: f, args: {} };
    if (f !== null && typeof f === "object" && Object.keys(f).length === 1) {
      const [name, args] = Object.entries(f)[0]!;
      return { feature: name, args: (args ?? {}) as Record<string, number> };
    }
    throw bad(`features[${i}] must be a name or { name: { args } }`);
  });
  for (const [i, f] of features.entries()) resolveFeature(f, `${where}: features[${i}]`);
  const label = (doc.label ?? {}) as Record<string, unknown>;
  const horizonSeconds = label.horizonSeconds ?? 60;
  if (typeof horizonSeconds !== "number" || !(horizonSeconds > 0)) {
    throw bad(`label.horizonSeconds must be > 0 (got ${JSON.stringify(horizonSeconds)})`);
  }
  const barrierBps = label.barrierBps;
  if (barrierBps !== undefined && (typeof barrierBps !== "number" || !(barrierBps > 0))) {
    throw bad(`label.barrierBps must be > 0 (got ${JSON.stringify(barrierBps)})`);
  }
  return { symbols, features, horizonSeconds, barrierBps: barrierBps as number | undefined };
}

/** One market event as the builder takes it (the backtest's MarketRecord, as numbers). */
export type MarketEvent =
  | {
      kind: "quote";
      symbol: string;
      timeNs: bigint;
      bidPrice: number;
      bidSize: number;
      askPrice: number;
      askSize: number;
    }
  | { kind: "trade"; symbol: string; timeNs: bigint; price: number; size: number };

export interface FeatureDataset {
  /** Library keys of the features, in column order (`rsi(period=14)`). */
  readonly featureNames: string[];
  readonly symbol: string[];
  readonly eventNs: bigint[];
  readonly labelEndNs: bigint[];
  readonly mid: number[];
  /** features[j][i]: feature j of row i, float32-rounded. */
  readonly features: number[][];
  readonly forwardReturn: number[];
  readonly label: number[];
  readonly barrierLabel: number[] | undefined;
}

/** FeatureDatasetBuilder turns a time-ordered stream of events into a labelled dataset. */
export class FeatureDatasetBuilder {
  readonly spec: FeatureSetSpec;
  private readonly engine: StrategyEngine;
  private readonly keys: string[];
  private readonly rows: {
    symbol: string;
    eventNs: bigint;
    mid: number;
    index: number;
    values: number[];
  }[] = [];
  /** Per symbol, every quote's time and mid (for the labels). */
  private readonly path = new Map<string, { t: bigint[]; mid: number[] }>();
  private current: { symbol: string; eventNs: bigint; mid: number; index: number } | undefined;

  constructor(spec: FeatureSetSpec) {
    this.spec = spec;
    this.keys = spec.features.map((f) => resolveFeature(f, "feature spec").key);
    const rows = this.rows;
    const n = spec.features.length;
    const self = this;
    const recorder = defineStrategy({
      name: "feature-recorder",
      description: "Records the declared features of every quote (training datasets).",
      params: Type.Object({}),
      features: () => Object.fromEntries(spec.features.map((f, i) => [`f${i}`, f])),
      create: () => ({
        onTick(_tick, f, out) {
          hold(out, "recording");
          const values = new Array<number>(n);
          for (let i = 0; i < n; i++) {
            const v = (f as Record<string, number>)[`f${i}`]!;
            if (!Number.isFinite(v)) return false;
            values[i] = Math.fround(v);
          }
          rows.push({ ...self.current!, values });
          return false;
        },
      }),
    }) as unknown as StrategyDefinition;
    this.engine = new StrategyEngine([prepareSlot(recorder, { id: "features" })], {
      minConfidence: 1,
      defaultQty: 0,
    });
  }

  add(e: MarketEvent): void {
    if (e.kind === "trade") {
      this.engine.onTrade(e.symbol, e.timeNs, e.price, e.size);
      return;
    }
    const mid = (e.bidPrice + e.askPrice) / 2;
    let p = this.path.get(e.symbol);
    if (p === undefined) {
      p = { t: [], mid: [] };
      this.path.set(e.symbol, p);
    }
    p.t.push(e.timeNs);
    p.mid.push(mid);
    this.current = { symbol: e.symbol, eventNs: e.timeNs, mid, index: p.t.length - 1 };
    this.engine.onQuote(e.symbol, e.timeNs, e.bidPrice, e.bidSize, e.askPrice, e.askSize);
    this.engine.finish();
  }

  finish(): FeatureDataset {
    const horizonNs = BigInt(Math.round(this.spec.horizonSeconds * 1e9));
    const barrier = this.spec.barrierBps === undefined ? undefined : this.spec.barrierBps / 1e4;
    const out: FeatureDataset = {
      featureNames: this.keys,
      symbol: [],
      eventNs: [],
      labelEndNs: [],
      mid: [],
      features: this.keys.map(() => []),
      forwardReturn: [],
      label: [],
      barrierLabel: barrier === undefined ? undefined : [],
    };
    // Rows of a symbol are in time order; one forward pointer per symbol keeps this O(n).
    const cursor = new Map<string, number>();
    for (const r of this.rows) {
      const p = this.path.get(r.symbol)!;
      const end = r.eventNs + horizonNs;
      let k = cursor.get(r.symbol) ?? 0;
      while (k < p.t.length && p.t[k]! < end) k++;
      cursor.set(r.symbol, k);
      if (k >= p.t.length) continue; // the horizon runs past the data
      const fwd = p.mid[k]! / r.mid - 1;
      out.symbol.push(r.symbol);
      out.eventNs.push(r.eventNs);
      out.labelEndNs.push(end);
      out.mid.push(r.mid);
      for (let j = 0; j < r.values.length; j++) out.features[j]!.push(r.values[j]!);
      out.forwardReturn.push(fwd);
      out.label.push(fwd > 0 ? 1 : 0);
      if (barrier !== undefined) {
        let hit = 0;
        // The quotes after the event, up to the one that ends the horizon (offline only).
        for (let i = r.index + 1; i <= k; i++) {
          const ret = p.mid[i]! / r.mid - 1;
          if (ret >= barrier) {
            hit = 1;
            break;
          }
          if (ret <= -barrier) {
            hit = -1;
            break;
          }
        }
        out.barrierLabel!.push(hit);
      }
    }
    return out;
  }
}
