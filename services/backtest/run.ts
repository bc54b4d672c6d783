/**
 * runBacktestJob is `tradepipe backtest` as one typed function: a spec, a catalog and a date
 * range in; the engine run with the spec's cores, model, symbols and starting cash; the outputs
 * written. The CLI only parses arguments and prints progress.
 */
import { resolve } from "node:path";
import type { RestingLimitModel } from "../broker-sim/core/fill-models.ts";
import { fromDecimal, toDecimal } from "../core/money.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import { kernelConfigOf } from "../kernel/config.ts";
import { loadSectors } from "../pipeline/host.ts";
import { type CatalogStats, catalogSource, newCatalogStats } from "./catalog/catalog.ts";
import { type BacktestResult, runBacktest } from "./engine.ts";
import { DEFAULT_FEES, type FeeSchedule } from "./fees.ts";
import { DEFAULT_LATENCY, type LatencyModel } from "./latency.ts";
import type { MarketSource } from "./records.ts";
import type { Summary } from "./report/summary.ts";
import { writeBacktestOutputs } from "./report/write.ts";
import { loadSignalModel } from "./test-support.ts";

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
  fees?: FeeSchedule;
  riskFreeAnnual?: number;
  /** png: render chart PNGs too (default true). */
  png?: boolean;
  onDay?: (date: string, index: number, days: number) => void;
  onProgress?: (events: number, intents: number, exchangeNs: bigint) => void;
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
  const fees = job.fees ?? DEFAULT_FEES;
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
      ...(job.onDay ? { onDay: job.onDay } : {}),
    });
  const result = await runBacktest(
    src,
    {
      kernel: kernelConfigOf(job.pipeline.metadata.name, spec, sectors),
      model: await loadSignalModel(spec.strategy.modelRef),
      symbols,
      startingCash,
      seed,
      latency,
      fills: { restingLimits, quoteLotShares },
      fees,
    },
    (engine, t) => job.onProgress?.(engine.eventsSeen, engine.venue.orders.length, t),
  );
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
        "fill model": `market orders take the quoted size at the touch (${quoteLotShares} shares per quote lot), the rest from later quotes; resting limits: ${restingLimits === "conservative" ? "fill only when the market trades or quotes through the limit" : "L2 queue position: prints at the limit consume the size ahead first"}; no price improvement, no market impact beyond the quoted size`,
        fees: `commission ${toDecimal(fees.commissionPerShare)}/share + ${toDecimal(fees.commissionPerOrder)}/order; SEC fee ${toDecimal(fees.secFeeRate)} × sale notional; FINRA TAF ${toDecimal(fees.finraTafPerShare)}/share sold, max ${toDecimal(fees.finraTafMax)}`,
        "starting cash": toDecimal(startingCash),
        seed: String(seed),
        strategy: JSON.stringify(spec.strategy),
      },
      extra: { data },
    });
  }
  return { result, summary, data };
}
