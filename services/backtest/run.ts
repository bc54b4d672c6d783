/**
 * runBacktestJob is `tradepipe backtest` as one typed function: a spec, a catalog and a date
 * range in; the engine run with the spec's cores, model, symbols and starting cash; the outputs
 * written. The CLI only parses arguments and prints progress.
 */
import { resolve } from "node:path";
import type { RestingLimitModel } from "../broker-sim/core/fill-models.ts";
import { feeSchedule } from "../core/fees.ts";
import { fromDecimal, toDecimal } from "../core/money.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import { kernelSetupOf } from "../kernel/config.ts";
import { loadSectors } from "../pipeline/host.ts";
import { signalParamsOf } from "../signal-bridge/stage.ts";
import { type CatalogStats, catalogSource, newCatalogStats } from "./catalog/catalog.ts";
import { type LookaheadReport, lookaheadCheck, type WarmupReport, warmupCheck } from "./checks.ts";
import { type BacktestResult, runBacktest } from "./engine.ts";
import { type Commission, NO_COMMISSION } from "./fees.ts";
import { DEFAULT_LATENCY, type LatencyModel } from "./latency.ts";
import {
  InputRecorder,
  type ReplayOutcome,
  readRecordingInfo,
  replayRecording,
  type SymbolParity,
  simulateRecording,
} from "./recording.ts";
import type { MarketSource } from "./records.ts";
import type { Summary } from "./report/summary.ts";
import { writeBacktestOutputs } from "./report/write.ts";

export interface BacktestJob {
  pipeline: TradingPipeline;
  dataDir: string;
  from: string;
  to: string;
  outDir?: string;
  symbols?: readonly string[];
  seed?: number;
  latency?: LatencyModel;
  restingLimits?: RestingLimitModel;
  quoteLotShares?: number;
  /** commission: a broker commission (regulatory fees come from the spec's positions.fees). */
  commission?: Commission;
  riskFreeAnnual?: number;
  /** png: render chart PNGs too (default true). */
  png?: boolean;
  onDay?: (date: string, index: number, days: number) => void;
  onProgress?: (events: number, intents: number, exchangeNs: bigint) => void;
  /** recordDir: also write the kernel's input log there (a recording `--replay` can replay). */
  recordDir?: string;
}

export interface BacktestJobResult {
  result: BacktestResult;
  summary: Summary | undefined;
  data: CatalogStats;
}

export async function runBacktestJob(
  job: BacktestJob,
  source?: MarketSource,
): Promise<BacktestJobResult> {
  const spec = job.pipeline.spec;
  const symbols = job.symbols ?? spec.symbols;
  const sectors = await loadSectors();
  const latency = job.latency ?? DEFAULT_LATENCY;
  const commission = job.commission ?? NO_COMMISSION;
  const rates = spec.positions.fees;
  const restingLimits = job.restingLimits ?? "conservative";
  const quoteLotShares = job.quoteLotShares ?? 100;
  const seed = job.seed ?? spec.broker.simulator.seed;
  const startingCash = fromDecimal(spec.broker.simulator.startingCash);
  const data = newCatalogStats();
  const src =
    source ??
    catalogSource({
      dir: job.dataDir,
      symbols,
      from: job.from,
      to: job.to,
      stats: data,
      // The queue model reads L2 books where the catalog has them (else the quoted size).
      ...(restingLimits === "queue" ? { kinds: ["quotes", "trades", "books"] as const } : {}),
      ...(job.onDay ? { onDay: job.onDay } : {}),
    });
  const recorder = job.recordDir === undefined ? undefined : new InputRecorder();
  const setup = await kernelSetupOf(withSymbols(job.pipeline, symbols), sectors);
  const result = await runBacktest(
    src,
    {
      kernel: setup.config,
      score: setup.score,
      symbols,
      startingCash,
      seed,
      latency,
      fills: { restingLimits, quoteLotShares },
      fees: feeSchedule(rates),
      commission,
      ...(recorder ? { onInput: recorder.onInput } : {}),
    },
    (engine, t) => job.onProgress?.(engine.eventsSeen, engine.venue.orders.length, t),
  );
  if (recorder !== undefined && job.recordDir !== undefined) {
    recorder.write(
      resolve(job.recordDir),
      result.intents.map((i) => i.request),
      { pipeline: job.pipeline.metadata.name, symbols },
    );
  }
  let summary: Summary | undefined;
  if (job.outDir !== undefined) {
    const ms = (ns: bigint) => `${Number(ns) / 1e6} ms`;
    summary = writeBacktestOutputs(result, {
      outDir: resolve(job.outDir),
      title: `Backtest of ${job.pipeline.metadata.name}: ${symbols.join(", ")}, ${job.from} to ${job.to}`,
      riskFreeAnnual: job.riskFreeAnnual ?? 0,
      png: job.png ?? true,
      assumptions: {
        data: `${job.dataDir}: ${data.files} files, ${data.rows} rows; ${data.crossedQuotesSkipped} crossed quotes skipped`,
        "feed latency": `${ms(latency.feedNs)} (recorded receive times are replayed as recorded)`,
        "order latency": `submit ${ms(latency.submitEntryNs)} in / ${ms(latency.submitResponseNs)} back; cancel ${ms(latency.cancelEntryNs)} / ${ms(latency.cancelResponseNs)}; jitter up to ${ms(latency.jitterNs)}`,
        "fill model": `market orders take the quoted size at the touch (${quoteLotShares} shares per quote lot), the rest from later quotes; resting limits: ${restingLimits === "conservative" ? "fill only when the market trades or quotes through the limit" : "L2 queue position: the book's size at the limit (the quoted size where the catalog has no books) is ahead; prints at the limit consume it first"}; no price improvement, no market impact beyond the quoted size`,
        fees: `regulatory (spec positions.fees): SEC ${rates.secPerMillion} per million sold, FINRA TAF ${rates.tafPerShare}/share sold up to ${rates.tafMaxPerTrade} an order, CAT ${rates.catPerShare}/share; commission ${toDecimal(commission.perShare)}/share + ${toDecimal(commission.perOrder)}/order`,
        "starting cash": toDecimal(startingCash),
        seed: String(seed),
        strategy: JSON.stringify(spec.strategy),
      },
      extra: { data },
    });
  }
  return { result, summary, data };
}

/** replayJob replays a recording with the spec's cores and model; see recording.ts. */
export async function replayJob(pipeline: TradingPipeline, dir: string): Promise<ReplayOutcome> {
  const sectors = await loadSectors();
  const setup = await kernelSetupOf(
    withSymbols(pipeline, readRecordingInfo(resolve(dir)).symbols),
    sectors,
  );
  return replayRecording(resolve(dir), setup.config, setup.score);
}

export interface CheckJob {
  pipeline: TradingPipeline;
  dataDir: string;
  from: string;
  to: string;
  symbols?: readonly string[];
}

/** lookaheadJob: the lookahead check on the catalog's range with the spec's cores and model. */
export async function lookaheadJob(job: CheckJob, samples: number): Promise<LookaheadReport> {
  const spec = job.pipeline.spec;
  const symbols = job.symbols ?? spec.symbols;
  const sectors = await loadSectors();
  const source = () => catalogSource({ dir: job.dataDir, symbols, from: job.from, to: job.to });
  const setup = await kernelSetupOf(withSymbols(job.pipeline, symbols), sectors);
  return lookaheadCheck(
    source,
    {
      kernel: setup.config,
      score: setup.score,
      symbols,
      startingCash: fromDecimal(spec.broker.simulator.startingCash),
      seed: spec.broker.simulator.seed,
      latency: DEFAULT_LATENCY,
      fills: { restingLimits: "conservative" },
      fees: feeSchedule(spec.positions.fees),
    },
    samples,
  );
}

/** warmupJob: the warm-up check of the spec's indicators on the catalog's quotes. */
export async function warmupJob(job: CheckJob, warmups: readonly number[]): Promise<WarmupReport> {
  const symbols = job.symbols ?? job.pipeline.spec.symbols;
  const source = catalogSource({
    dir: job.dataDir,
    symbols,
    from: job.from,
    to: job.to,
    kinds: ["quotes"],
  });
  return warmupCheck(source, signalParamsOf(job.pipeline.spec.strategy), warmups);
}

/** simulateRecordingJob: a recording's market data against the simulated venue (see recording.ts). */
export async function simulateRecordingJob(
  pipeline: TradingPipeline,
  dir: string,
  opts: {
    seed?: number;
    latency?: LatencyModel;
    restingLimits?: RestingLimitModel;
    quoteLotShares?: number;
    commission?: Commission;
  },
): Promise<{ parity: SymbolParity[]; result: BacktestResult }> {
  const info = readRecordingInfo(resolve(dir));
  const sectors = await loadSectors();
  const spec = pipeline.spec;
  const setup = await kernelSetupOf(withSymbols(pipeline, info.symbols), sectors);
  return simulateRecording(resolve(dir), {
    kernel: setup.config,
    score: setup.score,
    symbols: info.symbols,
    startingCash: fromDecimal(spec.broker.simulator.startingCash),
    seed: opts.seed ?? spec.broker.simulator.seed,
    latency: opts.latency ?? DEFAULT_LATENCY,
    fills: {
      restingLimits: opts.restingLimits ?? "conservative",
      quoteLotShares: opts.quoteLotShares ?? 100,
    },
    fees: feeSchedule(spec.positions.fees),
    commission: opts.commission ?? NO_COMMISSION,
  });
}

/** withSymbols: the pipeline trading the run's symbols (they scope the client_order_ids too). */
function withSymbols(pipeline: TradingPipeline, symbols: readonly string[]): TradingPipeline {
  return { ...pipeline, spec: { ...pipeline.spec, symbols: [...symbols] } };
}
