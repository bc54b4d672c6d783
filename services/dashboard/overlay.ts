/**
 * overlay: a backtest's equity curve drawn over the live equity of the same period, both as
 * percent change from their first point in it (a backtest starts from its own cash), with the
 * largest gap between them flagged when it passes a threshold (QuantConnect's "out of sample"
 * idea: is live trading doing what the backtest said it would?).
 *
 * The backtest's curve is its `equity.parquet` (`tradepipe backtest --out DIR`: t_ns, equity);
 * the live one is `portfolio_snapshots` over the backtest's first to last sample. Both are cut
 * into the same epoch-aligned buckets, so each bucket's last value can be compared directly.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type pg from "pg";
import { readColumns } from "../backtest/catalog/parquet.ts";
import {
  type Bucket,
  bucketPoints,
  bucketsOf,
  rebased,
  type Series,
  strideFor,
} from "./downsample.ts";
import { aggregate } from "./equity.ts";

type Q = Pick<pg.Pool, "query">;

/** The equity file `tradepipe backtest` writes into its output directory. */
export const BACKTEST_EQUITY_FILE = "equity.parquet";

export interface OverlayRow {
  from: number;
  to: number;
  /** Percent change from the period's first point, at the end of the span. */
  live: number | null;
  backtest: number;
  /** live − backtest in basis points, where both have a value. */
  gapBps: number | null;
}

export interface Overlay {
  run: string;
  from: number;
  to: number;
  strideMs: number;
  backtestPoints: number;
  livePoints: number;
  /** Both curves in percent from their first point in the period. */
  live: Series;
  backtest: Series;
  /** The largest |live − backtest| over the buckets both have, in basis points, and when. */
  maxGapBps: number | null;
  maxGapAt: number | null;
  thresholdBps: number;
  diverged: boolean;
  table: OverlayRow[];
}

export class OverlayError extends Error {}

/** readBacktestEquity reads a run's equity curve: epoch milliseconds and equity, ascending. */
export async function readBacktestEquity(runDir: string): Promise<Series> {
  const file = join(runDir, BACKTEST_EQUITY_FILE);
  if (!existsSync(file)) throw new OverlayError(`no ${BACKTEST_EQUITY_FILE} in ${runDir}`);
  const { rows, columns } = await readColumns(file, ["t_ns", "equity"]);
  const tNs = columns.t_ns as ArrayLike<bigint>;
  const equity = columns.equity as ArrayLike<number>;
  const out: Series = { t: [], v: [] };
  for (let i = 0; i < rows; i += 1) {
    const t = Number(BigInt(tNs[i]!) / 1_000_000n);
    if (out.t.length > 0 && t < out.t[out.t.length - 1]!) {
      throw new OverlayError(`${file}: t_ns goes back at row ${i}`);
    }
    out.t.push(t);
    out.v.push(Number(equity[i]));
  }
  return out;
}

/** overlay: the named run (a subdirectory of `backtestDir`) over the live equity. */
export async function overlay(
  db: Q,
  backtestDir: string,
  run: string,
  buckets: number,
  thresholdBps: number,
): Promise<Overlay> {
  const bt = await readBacktestEquity(join(resolve(backtestDir), run));
  if (bt.t.length === 0) throw new OverlayError(`run ${run}: the equity curve is empty`);
  if (!(bt.v[0]! > 0)) throw new OverlayError(`run ${run}: the first equity is not positive`);
  const from = bt.t[0]!;
  const to = bt.t[bt.t.length - 1]!;
  const strideMs = strideFor(from, to, buckets);
  const btBuckets = bucketsOf(bt, strideMs).map((b) => rebased(b, bt.v[0]!));
  const live = await aggregate(
    db,
    strideMs,
    new Date(from).toISOString(),
    new Date(to + 1).toISOString(),
  );
  const liveBase = live[0]?.equity.first;
  const liveBuckets =
    liveBase !== undefined && liveBase > 0 ? live.map((k) => rebased(k.equity, liveBase)) : [];
  const liveAt = new Map(liveBuckets.map((b) => [b.start, b]));
  let maxGapBps: number | null = null;
  let maxGapAt: number | null = null;
  const gapOf = (b: Bucket): number | null => {
    const l = liveAt.get(b.start);
    return l === undefined ? null : (l.last - b.last) * 100;
  };
  for (const b of btBuckets) {
    const gap = gapOf(b);
    if (gap !== null && (maxGapBps === null || Math.abs(gap) > Math.abs(maxGapBps))) {
      maxGapBps = gap;
      maxGapAt = b.tLast;
    }
  }
  const per = Math.max(1, Math.ceil(btBuckets.length / 50));
  const table: OverlayRow[] = [];
  for (let i = 0; i < btBuckets.length; i += per) {
    const last = btBuckets[Math.min(btBuckets.length, i + per) - 1]!;
    table.push({
      from: btBuckets[i]!.tFirst,
      to: last.tLast,
      live: liveAt.get(last.start)?.last ?? null,
      backtest: last.last,
      gapBps: gapOf(last),
    });
  }
  return {
    run,
    from,
    to,
    strideMs,
    backtestPoints: bt.t.length,
    livePoints: live.reduce((n, k) => n + k.equity.n, 0),
    live: bucketPoints(liveBuckets),
    backtest: bucketPoints(btBuckets),
    maxGapBps,
    maxGapAt,
    thresholdBps,
    diverged: maxGapBps !== null && Math.abs(maxGapBps) > thresholdBps,
    table,
  };
}
