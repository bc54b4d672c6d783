/**
 * ScorePrefetch gives the kernel its model scores from batched native calls, without changing
 * one of them. Before the engine replays a batch of records, a shadow of the signal-bridge (its
 * own market-data core and strategy engine, fed the same quotes in the same order) collects the
 * model rows those quotes will ask for, and one native call per model scores them all. When the
 * kernel then asks for a score, the prefetched row with the same input bits answers it; any
 * other input is scored alone, as without prefetching.
 *
 * Why the scores are the kernel's own: a model is a pure function of its input bits, and a row
 * scored in a batch gets the same bits as the same row scored alone: `create` checks this for
 * each model before it batches anything (rows across magnitudes, bit for bit; a model that fails
 * is never batched), and score-prefetch.test.ts checks it on real feature rows. So a hit returns
 * exactly what the single call would have, and the shadow being wrong can only cost misses.
 * The shadow cannot know the scores ahead (its strategies get none), so it asks for a superset:
 * e.g. the built-in strategy stops asking once it has signalled in an episode, its shadow does
 * not; the extra rows are skipped.
 */

import { type QuoteNumbers, quoteNumbers } from "../core/money.ts";
import type { NativeModel } from "../kernel/config.ts";
import type { KernelConfig } from "../kernel/kernel.ts";
import { MarketDataCore } from "../market-data/core/market-data-core.ts";
import { type BatchScorer, loadBatchScorerSync } from "../signal-bridge/model-scorer.ts";
import type { ModelRef } from "../signal-bridge/strategy/api.ts";
import { StrategyEngine } from "../signal-bridge/strategy/engine.ts";
import type { ModelScore } from "../signal-bridge/strategy/replay.ts";
import { FeedEvents, type MarketRecord } from "./records.ts";
import { TickTape } from "./tick-memo.ts";

/** How far past the last hit a score request looks for its row (skipped rows are dropped). */
const SCAN_LIMIT = 4096;

/** PrefetchStats: rows scored ahead, native calls made, and how the kernel's requests went. */
export interface PrefetchStats {
  rows: number;
  batchCalls: number;
  hits: number;
  /** misses: requests scored alone (one native call each). */
  misses: number;
}

interface BatchedModel {
  readonly ref: string;
  readonly inputs: number;
  readonly scorer: BatchScorer;
  /** scratch: one row, written by the shadow strategy. */
  readonly scratch: Float32Array;
}

/** One batched scorer per model file, with the outcome of its check (null: do not batch). */
const checked = new Map<string, BatchScorer | null>();

export class ScorePrefetch {
  readonly stats: PrefetchStats = { rows: 0, batchCalls: 0, hits: 0, misses: 0 };
  /**
   * tickMemo: what the shadow's strategies computed from each quote (their indicators), for the
   * kernel's strategy engine to replay instead of computing it again (useTickMemo "replay").
   */
  readonly tickMemo = new TickTape();
  private readonly md: MarketDataCore;
  private readonly shadow: StrategyEngine;
  private readonly models: BatchedModel[];
  private readonly byRef = new Map<string, number>();
  private readonly single: ModelScore;
  private readonly stride: number;
  /** Pending rows: model index, input (stride values), score; `cursor` is the next expected. */
  private modelOf = new Int32Array(1024);
  private rows: Float32Array;
  private rowBits: Uint32Array;
  private scores = new Float32Array(1024);
  private count = 0;
  private cursor = 0;
  private gather = new Float32Array(0);
  private gatherOut = new Float32Array(0);
  private lastInput: Float32Array | undefined;
  private lastInputBits: Uint32Array = new Uint32Array(0);
  private readonly feedEvents = new FeedEvents();
  private readonly numbers = new Map<string, QuoteNumbers>();

  /**
   * create: a prefetcher for the kernel's strategies, when every model behind `single` loads
   * with a free batch dimension and scores batched rows exactly as alone; else undefined.
   */
  static create(
    kernel: KernelConfig,
    single: ModelScore,
    natives: readonly NativeModel[],
  ): ScorePrefetch | undefined {
    const models: BatchedModel[] = [];
    for (const m of natives) {
      let scorer = checked.get(m.path);
      if (scorer === undefined) {
        const loaded = loadBatchScorerSync(m.path, m.inputs);
        scorer = loaded !== undefined && scoresAlike(loaded, m, single) ? loaded : null;
        checked.set(m.path, scorer);
      }
      if (scorer === null) return undefined;
      models.push({ ref: m.ref, inputs: m.inputs, scorer, scratch: new Float32Array(m.inputs) });
    }
    return new ScorePrefetch(kernel, single, models);
  }

  private constructor(kernel: KernelConfig, single: ModelScore, models: BatchedModel[]) {
    this.single = single;
    this.models = models;
    for (let i = 0; i < models.length; i++) this.byRef.set(models[i]!.ref, i);
    this.stride = Math.max(1, ...models.map((m) => m.inputs));
    this.rows = new Float32Array(1024 * this.stride);
    this.rowBits = new Uint32Array(this.rows.buffer);
    this.md = new MarketDataCore(
      kernel.marketDataDepth === undefined ? {} : { depth: kernel.marketDataDepth },
    );
    this.shadow = new StrategyEngine(kernel.strategies.slots, kernel.strategies.rules);
    this.shadow.useTickMemo(this.tickMemo, "record");
  }

  /**
   * prefetch runs the shadow over a batch of records (in the order the kernel will receive
   * them) and scores the rows it asks for. Call it before the engine replays the batch.
   */
  prefetch(records: readonly MarketRecord[]): void {
    this.compact();
    this.tickMemo.compact();
    const from = this.count;
    const shadow = this.shadow;
    for (let r = 0; r < records.length; r++) {
      const rec = records[r]!;
      if (rec.kind !== "quote") continue;
      // As the kernel: the market-data core decides what is a quote, the strategies get the
      // two-sided ones as numbers.
      const out = this.md.apply(this.feedEvents.quoteOf(rec))[0];
      if (out === undefined || out.type !== "quote") continue;
      const q = out.quote;
      let numbers = this.numbers.get(rec.symbol);
      if (numbers === undefined) {
        numbers = quoteNumbers();
        this.numbers.set(rec.symbol, numbers);
      }
      const bid = numbers.bid.of(q.bidPrice);
      const ask = numbers.ask.of(q.askPrice);
      if (!(bid > 0 && ask > 0)) continue;
      const n = shadow.onQuote(
        rec.symbol,
        rec.exchangeNs,
        bid,
        numbers.bidSize.of(q.bidSize),
        ask,
        numbers.askSize.of(q.askSize),
      );
      for (let i = 0; i < n; i++) {
        const m = this.byRef.get(shadow.modelOf(i).path);
        if (m !== undefined && shadow.writeModelInput(i, this.models[m]!.scratch)) this.add(m);
        shadow.setScore(i, undefined);
      }
      shadow.finish();
      shadow.takeFailures();
    }
    this.scoreFrom(from);
  }

  /** score: the kernel's port; the prefetched score of the same input bits, else one call. */
  readonly score: ModelScore = (model: ModelRef, input: Float32Array) => {
    const m = this.byRef.get(model.path);
    if (m === undefined) return this.single(model, input);
    const bits = this.bitsOf(input);
    const inputs = this.models[m]!.inputs;
    const end = Math.min(this.count, this.cursor + SCAN_LIMIT);
    const rowBits = this.rowBits;
    const stride = this.stride;
    for (let j = this.cursor; j < end; j++) {
      if (this.modelOf[j] !== m) continue;
      const off = j * stride;
      let k = 0;
      while (k < inputs && rowBits[off + k] === bits[k]) k++;
      if (k < inputs) continue;
      this.cursor = j + 1;
      this.stats.hits++;
      return this.scores[j]!;
    }
    this.stats.misses++;
    return this.single(model, input);
  };

  private bitsOf(input: Float32Array): Uint32Array {
    if (input !== this.lastInput) {
      this.lastInput = input;
      this.lastInputBits = new Uint32Array(input.buffer, input.byteOffset, input.length);
    }
    return this.lastInputBits;
  }

  private add(m: number): void {
    if (this.count === this.modelOf.length) this.grow();
    const j = this.count++;
    this.modelOf[j] = m;
    this.rows.set(this.models[m]!.scratch, j * this.stride);
  }

  /** scoreFrom scores rows [from, count) with one native call per model. */
  private scoreFrom(from: number): void {
    const n = this.count - from;
    if (n === 0) return;
    this.stats.rows += n;
    for (let m = 0; m < this.models.length; m++) {
      const model = this.models[m]!;
      const inputs = model.inputs;
      if (this.gather.length < n * inputs) {
        this.gather = new Float32Array(n * inputs);
        this.gatherOut = new Float32Array(n);
      }
      let rows = 0;
      for (let j = from; j < this.count; j++) {
        if (this.modelOf[j] !== m) continue;
        this.gather.set(
          this.rows.subarray(j * this.stride, j * this.stride + inputs),
          rows++ * inputs,
        );
      }
      if (rows === 0) continue;
      model.scorer.score(this.gather, rows, this.gatherOut);
      this.stats.batchCalls++;
      let k = 0;
      for (let j = from; j < this.count; j++) {
        if (this.modelOf[j] === m) this.scores[j] = this.gatherOut[k++]!;
      }
    }
  }

  /** compact drops the rows before the cursor (answered or skipped). */
  private compact(): void {
    const keep = this.count - this.cursor;
    if (this.cursor === 0) return;
    this.modelOf.copyWithin(0, this.cursor, this.count);
    this.scores.copyWithin(0, this.cursor, this.count);
    this.rows.copyWithin(0, this.cursor * this.stride, this.count * this.stride);
    this.count = keep;
    this.cursor = 0;
  }

  private grow(): void {
    const cap = this.modelOf.length * 2;
    const modelOf = new Int32Array(cap);
    modelOf.set(this.modelOf);
    const scores = new Float32Array(cap);
    scores.set(this.scores);
    const rows = new Float32Array(cap * this.stride);
    rows.set(this.rows);
    this.modelOf = modelOf;
    this.scores = scores;
    this.rows = rows;
    this.rowBits = new Uint32Array(rows.buffer);
  }
}

/**
 * scoresAlike: the model scores rows in a batch exactly as one at a time (bit for bit), on
 * seeded rows spanning the magnitudes features take (and zeros, signs, tiny and large values).
 */
export function scoresAlike(scorer: BatchScorer, m: NativeModel, single: ModelScore): boolean {
  const count = 512;
  const rows = checkRows(count, m.inputs);
  const batched = new Float32Array(count);
  try {
    scorer.score(rows, count, batched);
  } catch {
    return false; // a model that will not run batched is scored one row at a time
  }
  const ref: ModelRef = { path: m.ref, inputs: m.inputs };
  const one = new Float32Array(m.inputs);
  const a = new Float32Array(1);
  const b = new Float32Array(1);
  const aBits = new Uint32Array(a.buffer);
  const bBits = new Uint32Array(b.buffer);
  for (let r = 0; r < count; r++) {
    one.set(rows.subarray(r * m.inputs, (r + 1) * m.inputs));
    const s = single(ref, one);
    if (s === undefined) return false;
    a[0] = s;
    b[0] = batched[r]!;
    if (aBits[0] !== bBits[0]) return false;
  }
  return true;
}

/** checkRows: `count` seeded rows of `inputs` values from 1e-6 to 1e4 in size, either sign. */
export function checkRows(count: number, inputs: number): Float32Array {
  const rows = new Float32Array(count * inputs);
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  for (let i = 0; i < rows.length; i++) {
    const u = next();
    const magnitude = 10 ** (next() * 10 - 6);
    rows[i] = i % 97 === 0 ? 0 : (u < 0.5 ? -1 : 1) * magnitude * next();
  }
  return rows;
}
