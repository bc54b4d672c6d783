/**
 * buildDataset runs the live feature code (SymbolSignal, the same class the signal-bridge
 * serves with) over synthetic markets and labels each warmed-up tick with the sign of the
 * mid-price return over the next `horizon` ticks (1 = up, 0 = down; flat outcomes are skipped).
 */
import { FEATURE_COUNT } from "../core/features.ts";
import type { SignalParams } from "../core/params.ts";
import { SymbolSignal } from "../core/symbol-signal.ts";
import { syntheticMarket } from "./synthetic-market.ts";

export interface Dataset {
  /** Row-major features, `rows × FEATURE_COUNT`. */
  x: Float64Array;
  y: Uint8Array;
  rows: number;
}

export interface DatasetOptions {
  seed: number;
  paths: number;
  ticksPerPath: number;
  horizon: number;
  params: SignalParams;
}

export function buildDataset(o: DatasetOptions): Dataset {
  const xs: number[] = [];
  const ys: number[] = [];
  const features = new Float32Array(FEATURE_COUNT);
  for (let p = 0; p < o.paths; p++) {
    const path = syntheticMarket({ seed: o.seed * 1000 + p, ticks: o.ticksPerPath });
    const mids = path.map((q) => (q.bidPrice + q.askPrice) / 2);
    const sig = new SymbolSignal(o.params);
    for (let t = 0; t + o.horizon < path.length; t++) {
      const prevTicks = sig.ticks;
      sig.onTopOfBook(path[t]!);
      if (sig.ticks === prevTicks || !sig.ready) continue;
      const future = mids[t + o.horizon]! - mids[t]!;
      if (Math.abs(future) < 1e-9) continue;
      sig.writeFeatures(features);
      for (let j = 0; j < FEATURE_COUNT; j++) xs.push(features[j]!);
      ys.push(future > 0 ? 1 : 0);
    }
  }
  return { x: Float64Array.from(xs), y: Uint8Array.from(ys), rows: ys.length };
}
