/**
 * BacktestEngine replays market records through the kernel (the five stage cores) against a
 * venue, on one deterministic event queue with a simulated clock.
 *
 * Each record is seen twice: by the venue at its exchange time (the simulated book moves and
 * resting orders may fill) and by the kernel at its receive time (recorded, or exchange time +
 * feed latency; the feed is FIFO, so a receive time never goes backwards). Between records the
 * queue runs everything due: orders reaching the venue, the venue's answers, retries.
 *
 * Ordering at equal times (part of the determinism promise): the venue's view of a record at
 * time t first, then queued events due at t in the order they were scheduled, then feed
 * deliveries due at t. Nothing depends on the wall clock, Map iteration of unordered keys, or an
 * unseeded random number: the same records and configuration give the same bytes.
 */

import type { FillModelOptions } from "../broker-sim/core/fill-models.ts";
import { avgEntryPrice } from "../broker-sim/core/ledger.ts";
import { etDate } from "../broker-sim/core/time.ts";
import type { FeeSchedule } from "../core/fees.ts";
import type { Fixed } from "../core/money.ts";
import type { OrderRequest } from "../execution-engine/core/index.ts";
import { nativeModelsOf } from "../kernel/config.ts";
import {
  Kernel,
  type KernelConfig,
  type KernelInput,
  type KernelObserver,
  type SignalEmitted,
} from "../kernel/kernel.ts";
import type { ModelScore } from "../signal-bridge/strategy/replay.ts";
import { EventQueue } from "./event-queue.ts";
import { FeedFifo } from "./feed-fifo.ts";
import { type Commission, NO_COMMISSION } from "./fees.ts";
import type { LatencyModel } from "./latency.ts";
import { FeedEvents, type MarketRecord } from "./records.ts";
import { type PrefetchStats, ScorePrefetch } from "./score-prefetch.ts";
import { type FillRecord, type OrderRecord, SimulatedBroker } from "./sim-broker.ts";

export interface BacktestConfig {
  kernel: KernelConfig;
  /** score: the strategies' models, synchronous (kernelSetupOf). */
  score: ModelScore;
  symbols: readonly string[];
  startingCash: Fixed;
  seed: number;
  latency: LatencyModel;
  fills: FillModelOptions;
  /** fees: the regulatory fee schedule (the spec's positions.fees through feeSchedule). */
  fees: FeeSchedule;
  /** commission: a broker commission (default none, as Alpaca). */
  commission?: Commission;
  /** equitySampleNs: spacing of the equity curve in exchange time (default one minute). */
  equitySampleNs?: bigint;
  /** reconcileIntervalNs: how often the tracker reconciles with the venue (spec default). */
  reconcileIntervalNs?: bigint;
  /** observer: extra hooks on the kernel (the engine keeps its own). */
  observer?: KernelObserver;
  /** onInput: sees every kernel input (a recording's InputRecorder). */
  onInput?: (input: KernelInput) => void;
  /**
   * batchModels: score the models' rows in batches ahead of the kernel (score-prefetch.ts;
   * the same scores, bit for bit). Default true; only for a `score` made by kernelSetupOf.
   */
  batchModels?: boolean;
}

/** IntentRecord: one order the execution core sent (a retry sends the same id again). */
export interface IntentRecord {
  nowNs: bigint;
  attempt: number;
  request: OrderRequest;
}

export interface EquitySample {
  timeNs: bigint;
  equity: Fixed;
  grossExposure: Fixed;
}

export interface BacktestResult {
  startNs: bigint;
  endNs: bigint;
  events: number;
  signals: SignalEmitted[];
  intents: IntentRecord[];
  orders: OrderRecord[];
  fills: FillRecord[];
  equity: EquitySample[];
  startingCash: Fixed;
  finalEquity: Fixed;
  feesPaid: Fixed;
  /** marks: each symbol's last mid at the venue (open positions are valued at it). */
  marks: Record<string, Fixed>;
  riskRejections: Record<string, number>;
  anomalies: number;
}

const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const RECHECK_AFTER_BREAK_NS = 2n * SECOND;
/** PREFETCH_SLICE: records the model scoring prefetches at a time (see push). */
const PREFETCH_SLICE = 4096;

export class BacktestEngine {
  readonly kernel: Kernel;
  readonly venue: SimulatedBroker;
  readonly queue = new EventQueue();
  /** prefetch: the batched model scoring, when the models allow it (see BacktestConfig). */
  private readonly prefetch: ScorePrefetch | undefined;
  private readonly cfg: BacktestConfig;
  /** feed: records the venue has seen, waiting for their receive time. */
  private readonly feed = new FeedFifo<MarketRecord>();
  private lastFeedNs = -1n;
  private lastExchangeNs = -1n;
  private started = false;
  private startNs = 0n;
  private nextAdvanceNs = 0n;
  private nextReconcileNs = 0n;
  private nextSampleNs = 0n;
  private readonly sampleNs: bigint;
  private readonly reconcileNs: bigint;
  private events = 0;
  private anomalies = 0;
  private readonly signals: SignalEmitted[] = [];
  private readonly intents: IntentRecord[] = [];
  private readonly equity: EquitySample[] = [];
  private readonly rejections: Record<string, number> = {};
  private readonly feedEvents = new FeedEvents();

  constructor(cfg: BacktestConfig) {
    this.cfg = cfg;
    this.sampleNs = cfg.equitySampleNs ?? MINUTE;
    this.reconcileNs =
      cfg.reconcileIntervalNs ?? BigInt(cfg.kernel.positions.reconcileIntervalSeconds) * SECOND;
    const extra = cfg.observer ?? {};
    let kernel: Kernel | undefined;
    this.venue = new SimulatedBroker({
      queue: this.queue,
      symbols: cfg.symbols,
      startingCash: cfg.startingCash,
      seed: cfg.seed,
      startNs: 0n,
      latency: cfg.latency,
      fills: cfg.fills,
      fees: cfg.fees,
      commission: cfg.commission ?? NO_COMMISSION,
      deliver: (e) => kernel!.execution(e),
    });
    const venue = this.venue;
    const intents = this.intents;
    const natives =
      cfg.batchModels === false || cfg.kernel.noStrategy === true
        ? undefined
        : nativeModelsOf(cfg.score);
    this.prefetch =
      natives === undefined ? undefined : ScorePrefetch.create(cfg.kernel, cfg.score, natives);
    // The audit trail is built only when someone reads it (an observer's audit hook): its
    // records and their decimal strings were the largest part of an order's CPU time.
    const kernelConfig: KernelConfig =
      extra.audit === undefined
        ? { ...cfg.kernel, execution: { ...cfg.kernel.execution, auditTrail: false } }
        : cfg.kernel;
    this.kernel = kernel = new Kernel(kernelConfig, {
      score: this.prefetch?.score ?? cfg.score,
      ...(cfg.onInput ? { onInput: cfg.onInput } : {}),
      broker: {
        send: (cmd, nowNs) => {
          intents.push({ nowNs, attempt: cmd.attempt, request: cmd.request });
          venue.send(cmd, nowNs);
        },
        cancel: (cmd, nowNs) => venue.cancel(cmd, nowNs),
        resolve: (id, nowNs) => venue.resolve(id, nowNs),
      },
      scheduleRetry: (clientOrderId, atNs) =>
        this.queue.schedule(atNs, () =>
          kernel!.execution({ type: "RetryDue", timeNs: atNs, clientOrderId }),
        ),
      observer: {
        ...extra,
        signal: (s) => {
          this.signals.push(s);
          extra.signal?.(s);
        },
        decision: (d) => {
          if (!d.approved) this.rejections[d.reason] = (this.rejections[d.reason] ?? 0) + 1;
          extra.decision?.(d);
        },
        anomaly: (kind, id, message) => {
          this.anomalies++;
          extra.anomaly?.(kind, id, message);
        },
      },
    });
    // The shadow that prefetches model rows has already computed the strategies' indicators on
    // every quote: the kernel's strategy engine replays them instead of computing them again.
    if (this.prefetch !== undefined)
      this.kernel.strategyEngine.useTickMemo(this.prefetch.tickMemo, "replay");
  }

  /** eventsSeen counts the records pushed so far (for progress). */
  get eventsSeen(): number {
    return this.events;
  }

  /**
   * modelScoring: how the models were scored so far (undefined: one native call per request,
   * no batching).
   */
  get modelScoring(): Readonly<PrefetchStats> | undefined {
    return this.prefetch?.stats;
  }

  /** push replays a batch of records in exchange-time order (across batches too). */
  push(records: readonly MarketRecord[]): void {
    if (this.prefetch === undefined) {
      this.replay(records, 0, records.length);
      return;
    }
    // Prefetched a slice at a time: what the shadow leaves for the kernel (model rows, tick
    // memos) is still in the CPU's caches when the kernel reads it, and a slice's rows are
    // still few native calls.
    for (let from = 0; from < records.length; from += PREFETCH_SLICE) {
      const to = Math.min(records.length, from + PREFETCH_SLICE);
      this.prefetch.prefetch(
        from === 0 && to === records.length ? records : records.slice(from, to),
      );
      this.replay(records, from, to);
    }
  }

  private replay(records: readonly MarketRecord[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const r = records[i]!;
      const t = r.exchangeNs;
      if (t < this.lastExchangeNs) {
        throw new Error(
          `records out of order: ${r.kind} ${r.symbol} at ${t} after ${this.lastExchangeNs}`,
        );
      }
      if (!this.started) this.begin(t);
      this.lastExchangeNs = t;
      this.runUntil(t, false);
      if (t >= this.nextSampleNs) this.sample(t);
      if (r.kind === "book") {
        // L2 rows shape the venue's queues; the kernel's feed is quotes and trades.
        this.venue.book(r);
        this.events++;
        continue;
      }
      if (r.kind === "quote") this.venue.quote(r);
      else this.venue.trade(r);
      let at = r.receivedNs >= 0n ? r.receivedNs : t + this.cfg.latency.feedNs;
      if (at < this.lastFeedNs) at = this.lastFeedNs;
      this.lastFeedNs = at;
      this.feed.push(r, at);
      this.events++;
    }
  }

  /** finish runs everything still queued and returns the results. */
  finish(): BacktestResult {
    // The last delivery is never before the last exchange time (receive >= exchange + 0).
    const end = this.lastFeedNs;
    // Answers to the last orders arrive after the data ends: let them (one minute of grace).
    this.runUntil(end + MINUTE, true);
    const endNs = end + MINUTE;
    this.sample(endNs);
    return {
      startNs: this.startNs,
      endNs,
      events: this.events,
      signals: this.signals,
      intents: this.intents,
      orders: this.venue.orders,
      fills: this.venue.fills,
      equity: this.equity,
      startingCash: this.cfg.startingCash,
      finalEquity: this.venue.equity(),
      feesPaid: this.venue.feesPaid,
      marks: Object.fromEntries(
        this.cfg.symbols.flatMap((s) => {
          const m = this.venue.mid(s);
          return m === undefined ? [] : [[s, m] as const];
        }),
      ),
      riskRejections: this.rejections,
      anomalies: this.anomalies,
    };
  }

  private begin(t: bigint): void {
    this.started = true;
    this.startNs = t;
    this.nextAdvanceNs = t;
    this.nextReconcileNs = t + this.reconcileNs;
    this.nextSampleNs = t - (t % this.sampleNs);
    this.kernel.start(t, { cash: this.cfg.startingCash, positions: [] });
  }

  /** runUntil runs queued events and feed deliveries due before `limit` (or at it). */
  private runUntil(limit: bigint, inclusive: boolean): void {
    const q = this.queue;
    for (;;) {
      const qa = q.nextAt();
      const fa = this.feed.size > 0 ? this.feed.nextAt() : undefined;
      let next: bigint;
      let fromQueue: boolean;
      if (qa !== undefined && (fa === undefined || qa <= fa)) {
        next = qa;
        fromQueue = true;
      } else if (fa !== undefined) {
        next = fa;
        fromQueue = false;
      } else return;
      if (next > limit || (!inclusive && next === limit)) return;
      if (fromQueue) q.pop()!.run();
      else this.deliver(this.feed.take(), next);
    }
  }

  private deliver(r: MarketRecord, atNs: bigint): void {
    const kernel = this.kernel;
    if (atNs >= this.nextAdvanceNs) {
      kernel.advance(atNs);
      this.nextAdvanceNs = atNs - (atNs % SECOND) + SECOND;
    }
    if (atNs >= this.nextReconcileNs) this.reconcile(atNs);
    kernel.marketData(
      r.kind === "quote" ? this.feedEvents.quoteOf(r) : this.feedEvents.tradeOf(r),
      atNs,
    );
  }

  private reconcile(atNs: bigint): void {
    const ledger = this.venue.state.ledger;
    const positions = [...ledger.positions.values()]
      .map((p) => ({
        symbol: p.symbol,
        qty: p.qty,
        avgEntryPrice: avgEntryPrice(p),
      }))
      .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    this.kernel.reconcile(atNs, ledger.cash, positions);
    // A fill in flight makes a false break: check again soon, as the tracker's shell does.
    this.nextReconcileNs =
      atNs + (this.kernel.positions.reconciled ? this.reconcileNs : RECHECK_AFTER_BREAK_NS);
  }

  private sample(t: bigint): void {
    this.equity.push({
      timeNs: t,
      equity: this.venue.equity(),
      grossExposure: this.venue.grossExposure(),
    });
    this.nextSampleNs = t - (t % this.sampleNs) + this.sampleNs;
  }
}

/** runBacktest drains an asynchronous source of record batches through one engine. */
export async function runBacktest(
  source: AsyncIterable<readonly MarketRecord[]>,
  cfg: BacktestConfig,
  onBatch?: (engine: BacktestEngine, lastExchangeNs: bigint) => void,
): Promise<BacktestResult> {
  const engine = new BacktestEngine(cfg);
  for await (const batch of source) {
    engine.push(batch);
    if (onBatch && batch.length > 0) onBatch(engine, batch[batch.length - 1]!.exchangeNs);
  }
  return engine.finish();
}

/** dayOf is the New York trading date of a time (for daily returns). */
export const dayOf = (ns: bigint): string => etDate(ns);
