/**
 * Benchmarks of the market-data and signal-bridge cores, each beside a bare baseline measured in
 * the same run:
 *   - L2 book update (MarketDataCore.apply of one delta) vs Map.set of the same levels;
 *   - Alpaca `o` message decode (object → exact Fixed levels);
 *   - indicators (RSI + MACD + Bollinger + rules, SymbolSignal.onTopOfBook) per tick;
 *   - features + decide;
 *   - model inference as the shell should call it (features written straight into the input
 *     tensor's buffer, one reused feeds object) vs a bare session.run() of the same model.
 *
 *   npx node test/bench/cores-signal.bench.ts [--quick]
 *
 * Fast operations are timed in batches (the timer costs more than one op); the distribution is
 * over batch means, so p99 understates single-op tails. Inference is timed call by call.
 */
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { decodeAlpacaMarketData } from "../../services/market-data/core/alpaca-decode.ts";
import type { BookEvent, PriceLevel } from "../../services/market-data/core/events.ts";
import { MarketDataCore } from "../../services/market-data/core/market-data-core.ts";
import { FEATURE_COUNT } from "../../services/signal-bridge/core/features.ts";
import { DEFAULT_SIGNAL_PARAMS } from "../../services/signal-bridge/core/params.ts";
import { SymbolSignal, type TopOfBook } from "../../services/signal-bridge/core/symbol-signal.ts";
import { SeededRandom } from "../../services/signal-bridge/model/random.ts";
import { syntheticMarket } from "../../services/signal-bridge/model/synthetic-market.ts";
import { BenchRows, timeBatched } from "./support/batched.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const SCALE = args.quick ? 0.2 : 1;
const BATCH = 64;

const bench = new BenchRows();

// ---------- L2 book updates ----------
const PRICE_UNIT = 10_000_000n; // 0.01 in Fixed
const rng = new SeededRandom(1);
const DEPTH = 50;
const level = (ticks: number, size: number): PriceLevel => ({
  price: BigInt(ticks) * PRICE_UNIT,
  size: BigInt(size) * 1_000_000n,
});
const snapshot: BookEvent = {
  type: "book",
  symbol: "BTC/USD",
  seq: 1,
  timeNs: 1n,
  reset: true,
  bids: Array.from({ length: DEPTH }, (_, i) => level(100_000 - i, 1 + i)),
  asks: Array.from({ length: DEPTH }, (_, i) => level(100_001 + i, 1 + i)),
};
const N_BOOK = Math.floor(400_000 * SCALE);
// Deltas touch one level, mostly near the top (where real books churn), ~30% deletes.
const deltas: BookEvent[] = new Array(N_BOOK);
for (let i = 0; i < N_BOOK; i++) {
  const depthIdx = Math.min(DEPTH - 1, Math.floor(-Math.log(1 - rng.next()) * 4));
  const bid = rng.next() < 0.5;
  const size = rng.next() < 0.3 ? 0 : 1 + Math.floor(rng.next() * 100);
  const ticks = bid ? 100_000 - depthIdx : 100_001 + depthIdx;
  const l = [level(ticks, size)];
  deltas[i] = {
    type: "book",
    symbol: "BTC/USD",
    seq: i + 2,
    timeNs: BigInt(i + 2),
    reset: false,
    bids: bid ? l : [],
    asks: bid ? [] : l,
  };
}

function benchBook(): void {
  const core = new MarketDataCore({ depth: DEPTH });
  core.apply(snapshot);
  let published = 0;
  const samples = timeBatched(N_BOOK, BATCH, (i) => {
    published += core.apply(deltas[i]!).length;
  });
  if (published < N_BOOK * 0.99) throw new Error(`book resynced unexpectedly (${published})`);
  bench.report("book update (MarketDataCore.apply, 1-level delta)", samples);

  const map = new Map<bigint, bigint>();
  const bare = timeBatched(N_BOOK, BATCH, (i) => {
    const ev = deltas[i]!;
    const l = ev.bids.length > 0 ? ev.bids[0]! : ev.asks[0]!;
    map.set(l.price, l.size);
  });
  bench.report("  baseline: Map.set of the same level", bare);
}

function benchDecode(): void {
  const n = Math.floor(100_000 * SCALE);
  const msgs = Array.from({ length: n }, (_, i) => ({
    T: "o",
    S: "BTC/USD",
    t: "2024-03-12T10:38:50.796132210Z",
    b: [{ p: 71859.53 + (i % 50) * 0.01, s: (i % 7) * 0.125 }],
    a: [],
  }));
  let sink = 0;
  const samples = timeBatched(n, BATCH, (i) => {
    const ev = decodeAlpacaMarketData(msgs[i]!);
    if (ev !== undefined) sink++;
  });
  if (sink !== samples.length * BATCH) throw new Error("decode failed");
  bench.report("alpaca `o` decode (1 level, RFC-3339 time)", samples);
}

// ---------- signal core ----------
const N_TICKS = Math.floor(200_000 * SCALE);
const path: TopOfBook[] = syntheticMarket({ seed: 3, ticks: N_TICKS });

function benchSignal(): { modelTicks: number } {
  const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
  let modelTicks = 0;
  const samples = timeBatched(N_TICKS, BATCH, (i) => {
    if (sig.onTopOfBook(path[i]!)) modelTicks++;
  });
  bench.report("indicators + rules per tick (onTopOfBook)", samples);

  const sig2 = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
  for (let i = 0; i < 100; i++) sig2.onTopOfBook(path[i]!);
  const buf = new Float32Array(FEATURE_COUNT);
  const fd = timeBatched(N_TICKS, BATCH, () => {
    sig2.writeFeatures(buf);
    sig2.decide(0.7);
  });
  bench.report("features + decide", fd);
  return { modelTicks };
}

// ---------- inference ----------
async function benchInference(): Promise<void> {
  const modelPath = new URL("../../config/models/signal.onnx", import.meta.url).pathname;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const n = Math.floor(20_000 * SCALE);
  const warm = Math.floor(n / 10);

  // Bare: one preallocated input tensor and feeds object, nothing else per call.
  const bareInput = new ort.Tensor("float32", new Float32Array(FEATURE_COUNT).fill(0.1), [
    1,
    FEATURE_COUNT,
  ]);
  const bareFeeds = { features: bareInput };

  // Stage path: features are written into the buffer the input tensor wraps (no copy), the
  // feeds object is reused, and decide() consumes the score.
  const sig = new SymbolSignal(DEFAULT_SIGNAL_PARAMS);
  for (let i = 0; i < 100; i++) sig.onTopOfBook(path[i]!);
  const featureBuf = new Float32Array(FEATURE_COUNT);
  const stageFeeds = { features: new ort.Tensor("float32", featureBuf, [1, FEATURE_COUNT]) };

  const bare = new Float64Array(n);
  const stage = new Float64Array(n);
  // Interleave the two so machine noise hits both alike.
  for (let i = -warm; i < n; i++) {
    let t0 = process.hrtime.bigint();
    await session.run(bareFeeds);
    const tb = Number(process.hrtime.bigint() - t0);
    t0 = process.hrtime.bigint();
    sig.writeFeatures(featureBuf);
    const out = await session.run(stageFeeds);
    sig.decide((out.score!.data as Float32Array)[0]!);
    const ts = Number(process.hrtime.bigint() - t0);
    if (i >= 0) {
      bare[i] = tb;
      stage[i] = ts;
    }
  }
  await session.release();
  const s = bench.report("inference: features + run + decide (stage path)", stage, "µs");
  const b = bench.report("  baseline: bare session.run(), preallocated tensor", bare, "µs");
  ratios.push(
    `inference stage/bare p50 ${(s.p50 / b.p50).toFixed(2)}×, p99 ${(s.p99 / b.p99).toFixed(2)}×`,
  );
}

const ratios: string[] = [];
benchBook();
benchDecode();
const { modelTicks } = benchSignal();
await benchInference();

const book = bench.rows[0]!.s;
const map = bench.rows[1]!.s;
ratios.unshift(
  `book update p50 ${book.p50.toFixed(0)} ns (target ≤ 500 ns), ${(book.p50 / map.p50).toFixed(2)}× Map.set`,
);
ratios.push(
  `model needed on ${modelTicks} of ${N_TICKS} ticks (${((modelTicks / N_TICKS) * 100).toFixed(1)}%)`,
);

bench.print(`cores-signal bench (node ${process.version}, batch ${BATCH})`, 56);
for (const r of ratios) console.log(r);
