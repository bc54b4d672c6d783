/**
 * Bias checks a quant (or CI) runs on a strategy before trusting its backtest.
 *
 * lookaheadCheck: run once in full; then, for a sample of the signals, run again on the data cut
 * right after the quote that caused the signal. A strategy that only uses the past gives the same
 * signal (same id, action, confidence, features, bit for bit) in the cut run; one that peeks at
 * later data does not. (freqtrade's lookahead-analysis does the same on candles.)
 *
 * warmupCheck: feed each symbol's mid-price ticks to the signal-bridge's indicators twice, with
 * the whole history and with only the last N ticks before a point, and compare the indicator
 * values there. Recursive indicators (EMA-based RSI and MACD) need more history than their period
 * to converge; a live stage that starts with less sees other values than the backtest did.
 */
import { toNumber } from "../core/money.ts";
import type { SignalEmitted } from "../kernel/kernel.ts";
import type { SignalParams } from "../signal-bridge/core/params.ts";
import { SymbolSignal } from "../signal-bridge/core/symbol-signal.ts";
import { type BacktestConfig, BacktestEngine } from "./engine.ts";
import type { MarketRecord, MarketSource } from "./records.ts";

export interface LookaheadReport {
  signals: number;
  checked: number;
  biased: { signalId: string; why: string }[];
}

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** onPush: sees each batch as the engine is given it (cut or not); for tests. */
export type OnPush = (batch: readonly MarketRecord[]) => void;

async function runUntil(
  source: () => MarketSource,
  cfg: BacktestConfig,
  cutNs: bigint | undefined,
  onPush: OnPush | undefined,
): Promise<SignalEmitted[]> {
  const engine = new BacktestEngine(cfg);
  for await (const batch of source()) {
    let end = batch.length;
    if (cutNs !== undefined) {
      end = 0;
      while (end < batch.length && batch[end]!.exchangeNs <= cutNs) end++;
    }
    const given = end === batch.length ? batch : batch.slice(0, end);
    onPush?.(given);
    engine.push(given);
    if (end < batch.length) break;
  }
  return engine.finish().signals;
}

/** lookaheadCheck re-runs on data cut after each of up to `samples` signals (evenly spread). */
export async function lookaheadCheck(
  source: () => MarketSource,
  cfg: BacktestConfig,
  samples = 20,
  onPush?: OnPush,
): Promise<LookaheadReport> {
  const full = await runUntil(source, cfg, undefined, onPush);
  const picked: SignalEmitted[] = [];
  const step = Math.max(1, Math.floor(full.length / samples));
  for (let i = 0; i < full.length && picked.length < samples; i += step) picked.push(full[i]!);
  const biased: LookaheadReport["biased"] = [];
  for (const s of picked) {
    const cut = await runUntil(source, cfg, s.eventTimeNs, onPush);
    const again = cut.find((x) => x.signalId === s.signalId);
    if (again === undefined) {
      biased.push({ signalId: s.signalId, why: "the signal is missing when later data is cut" });
    } else if (
      again.decision.action !== s.decision.action ||
      again.decision.confidence !== s.decision.confidence
    ) {
      biased.push({
        signalId: s.signalId,
        why: `${s.decision.action} at confidence ${s.decision.confidence} with all data, ${again.decision.action} at ${again.decision.confidence} without later data`,
      });
    } else if (!sameBits(again.features, s.features)) {
      biased.push({ signalId: s.signalId, why: "its features differ when later data is cut" });
    }
  }
  return { signals: full.length, checked: picked.length, biased };
}

export interface WarmupRow {
  warmupTicks: number;
  /** largest relative difference per indicator over the points checked (0.01 = 1%). */
  rsi: number;
  macdHistogram: number;
  percentB: number;
  bandwidth: number;
}

export interface WarmupReport {
  symbols: number;
  points: number;
  rows: WarmupRow[];
}

const rel = (a: number, b: number) =>
  a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/**
 * warmupCheck compares indicator values at the last tick of each symbol (and at `points` earlier
 * ticks) computed from all history against values computed from only `warmups[i]` ticks.
 */
export async function warmupCheck(
  source: MarketSource,
  params: SignalParams,
  warmups: readonly number[] = [50, 100, 200, 500, 1000],
): Promise<WarmupReport> {
  const mids = new Map<string, number[]>();
  for await (const batch of source) {
    for (const r of batch as readonly MarketRecord[]) {
      if (r.kind !== "quote" || r.bidPrice <= 0n || r.askPrice <= 0n) continue;
      const mid = (toNumber(r.bidPrice) + toNumber(r.askPrice)) / 2;
      let list = mids.get(r.symbol);
      if (list === undefined) {
        list = [];
        mids.set(r.symbol, list);
      }
      if (list.at(-1) !== mid) list.push(mid); // a tick is a change of the mid, as in the core
    }
  }
  const rows: WarmupRow[] = warmups.map((w) => ({
    warmupTicks: w,
    rsi: 0,
    macdHistogram: 0,
    percentB: 0,
    bandwidth: 0,
  }));
  let points = 0;
  const feed = (ticks: readonly number[], from: number, to: number) => {
    const s = new SymbolSignal(params);
    for (let i = from; i < to; i++) {
      const m = ticks[i]!;
      s.onTopOfBook({ bidPrice: m, askPrice: m, bidSize: 1, askSize: 1 });
    }
    return s;
  };
  for (const ticks of mids.values()) {
    const at = ticks.length;
    if (at < 2) continue;
    points++;
    const full = feed(ticks, 0, at);
    for (const row of rows) {
      if (row.warmupTicks >= at) continue;
      const short = feed(ticks, at - row.warmupTicks, at);
      // An indicator that is not warmed up at all counts as an infinite difference.
      const d = (ready: boolean, a: number, b: number) =>
        ready && Number.isFinite(a) ? rel(a, b) : Number.POSITIVE_INFINITY;
      const bb = short.bollinger.ready;
      row.rsi = Math.max(row.rsi, d(short.rsi.ready, short.rsi.value, full.rsi.value));
      row.macdHistogram = Math.max(
        row.macdHistogram,
        d(short.macd.ready, short.macd.histogram, full.macd.histogram),
      );
      row.percentB = Math.max(
        row.percentB,
        d(bb, short.bollinger.percentB, full.bollinger.percentB),
      );
      row.bandwidth = Math.max(
        row.bandwidth,
        d(bb, short.bollinger.bandwidth, full.bollinger.bandwidth),
      );
    }
  }
  return {
    symbols: mids.size,
    points,
    rows: rows.filter((r) => mids.size > 0 && r.warmupTicks > 0),
  };
}
