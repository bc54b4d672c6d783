/**
 * syntheticMarket generates a top-of-book path with structure a signal model can learn:
 *  - a hidden fair value that drifts in regimes (trend episodes: MACD's territory);
 *  - a traded mid price that overshoots and reverts toward it (oversold and overbought
 *    extremes revert: RSI's and Bollinger's territory);
 *  - order-book imbalance that leans toward the fair value (buyers queue when the price is
 *    below it), with noise;
 *  - a spread of 1–4 ticks that widens with recent volatility.
 * Prices are on a 0.01 grid like US equities. The same seed always gives the same path.
 */
import type { TopOfBook } from "../core/symbol-signal.ts";
import { SeededRandom } from "./random.ts";

export interface SyntheticMarketOptions {
  seed: number;
  ticks: number;
  startPrice?: number;
}

const TICK = 0.01;

export function syntheticMarket(options: SyntheticMarketOptions): TopOfBook[] {
  const rng = new SeededRandom(options.seed);
  const start = options.startPrice ?? 100;
  let fair = start;
  let mid = start;
  let drift = 0;
  let vol = 0.02;
  const path: TopOfBook[] = [];
  for (let t = 0; t < options.ticks; t++) {
    if (rng.next() < 0.005) drift = rng.normal() * 0.0005; // a new trend regime
    if (rng.next() < 0.01) vol = 0.01 + rng.next() * 0.04; // a new volatility regime
    fair += drift + vol * 0.2 * rng.normal();
    // The mid chases the fair value slowly and takes its own shocks, so it over- and undershoots.
    mid += 0.1 * (fair - mid) + vol * rng.normal();
    const gap = (fair - mid) / (vol * 4);
    const imbalance = Math.tanh(gap) * 0.6 + rng.normal() * 0.35;
    const clamped = Math.max(-0.95, Math.min(0.95, imbalance));
    const depth = 200 + Math.floor(rng.next() * 800);
    const spreadTicks = 1 + Math.min(3, Math.floor((vol / 0.015) * rng.next() * 2));
    const bid = Math.round((mid - (spreadTicks * TICK) / 2) / TICK) * TICK;
    const ask = bid + spreadTicks * TICK;
    path.push({
      bidPrice: round2(bid),
      askPrice: round2(ask),
      bidSize: Math.round((depth * (1 + clamped)) / 2) + 1,
      askSize: Math.round((depth * (1 - clamped)) / 2) + 1,
    });
  }
  return path;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
