/**
 * pipeline-hot: the same core code the live stages run, timed back to back in this process
 * (batches of 64, per-operation mean of each batch), to set beside the live stage's figures.
 * The live figures are per event with cold caches; these are what the code costs when warm.
 */
import type { BookEvent, PriceLevel } from "../../../services/market-data/core/events.ts";
import { MarketDataCore } from "../../../services/market-data/core/market-data-core.ts";
import type { SignalParams } from "../../../services/signal-bridge/core/params.ts";
import {
  SymbolSignal,
  type TopOfBook,
} from "../../../services/signal-bridge/core/symbol-signal.ts";
import { SeededRandom } from "../../../services/signal-bridge/model/random.ts";
import { syntheticMarket } from "../../../services/signal-bridge/model/synthetic-market.ts";
import { type Percentiles, percentiles } from "./pipeline-stats.ts";

const BATCH = 64;

function batched(count: number, op: (i: number) => void): number[] {
  const out: number[] = [];
  for (let b = 0; b + BATCH <= count; b += BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = b; i < b + BATCH; i++) op(i);
    out.push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
  return out;
}

/** hotBookUpdate: one-level deltas near the top of a 50-level book, as the live feed sends. */
export function hotBookUpdate(n = 200_000): Percentiles {
  const rng = new SeededRandom(3);
  const unit = 10_000_000n;
  const level = (ticks: number, size: number): PriceLevel => ({
    price: BigInt(ticks) * unit,
    size: BigInt(size) * 1_000_000_000n,
  });
  const core = new MarketDataCore({ depth: 50 });
  core.apply({
    type: "book",
    symbol: "AAPL",
    seq: undefined,
    timeNs: 1n,
    reset: true,
    bids: Array.from({ length: 50 }, (_, i) => level(10_000 - i, 100 + i)),
    asks: Array.from({ length: 50 }, (_, i) => level(10_001 + i, 100 + i)),
  });
  const deltas: BookEvent[] = Array.from({ length: n }, (_, i) => {
    const depth = Math.min(49, Math.floor(-Math.log(1 - rng.next()) * 4));
    const bid = rng.next() < 0.5;
    const size = rng.next() < 0.3 ? 0 : 1 + Math.floor(rng.next() * 100);
    const l = [level(bid ? 10_000 - depth : 10_001 + depth, size)];
    return {
      type: "book",
      symbol: "AAPL",
      seq: undefined,
      timeNs: BigInt(i + 2),
      reset: false,
      bids: bid ? l : [],
      asks: bid ? [] : l,
    };
  });
  batched(n, (i) => core.apply(deltas[i]!)); // warm-up pass
  return percentiles(batched(n, (i) => core.apply(deltas[i]!)));
}

/** hotIndicators: SymbolSignal.onTopOfBook over a synthetic path, back to back. */
export function hotIndicators(params: SignalParams, n = 100_000): Percentiles {
  const path: TopOfBook[] = syntheticMarket({ seed: 9, ticks: n, startPrice: 100 });
  let sig = new SymbolSignal(params);
  batched(n, (i) => sig.onTopOfBook(path[i]!));
  sig = new SymbolSignal(params);
  return percentiles(batched(n, (i) => sig.onTopOfBook(path[i]!)));
}
