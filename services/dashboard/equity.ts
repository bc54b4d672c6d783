/**
 * equity: the equity and drawdown series of the P&L panel, downsampled in Postgres: per time
 * bucket (date_bin, aligned to the epoch) the count, the first and last point and the lowest
 * and highest equity and drawdown. Drawdown is the one the position tracker records with each
 * snapshot: (equity − peak_equity) / peak_equity (tp_snapshot_drawdown).
 *
 * A long history is read from `portfolio_equity_rollup` (sql/0011), which Postgres keeps exact
 * as snapshots arrive, at fixed widths from 10 s to a day: the chart's stride is one of them
 * (or whole days, merged from the day's buckets), so a request reads one row per bucket by
 * primary key however many snapshots there are. A history short enough to need a stride under
 * the narrowest width is grouped from the snapshots themselves (at most a few hours of them).
 */
import type pg from "pg";
import {
  type Bucket,
  bucketPoints,
  type Series,
  type SpanRow,
  spanRows,
  strideFor,
} from "./downsample.ts";

type Q = Pick<pg.Pool, "query">;

/** Drawdown of one snapshot as a fraction, from the peak the position tracker recorded. */
const DRAWDOWN = "tp_snapshot_drawdown(equity, peak_equity)";

/** A bucket of both series. */
export interface Kept {
  equity: Bucket;
  drawdown: Bucket;
}

/** The rollup's widths per database, read once (they change only with a migration). */
const rollupWidths = new WeakMap<object, Promise<number[]>>();

/** widthsOf: the rollup's widths in milliseconds, ascending. */
export function widthsOf(db: Q): Promise<number[]> {
  let w = rollupWidths.get(db);
  if (w === undefined) {
    w = db
      .query("SELECT width_ms::float8 AS w FROM equity_rollup_widths ORDER BY width_ms")
      .then((r) => r.rows.map((x) => Number(x.w)));
    w.catch(() => rollupWidths.delete(db));
    rollupWidths.set(db, w);
  }
  return w;
}

/** rollupWidthFor: the widest rollup width that cuts `strideMs` into whole buckets, if any. */
export function rollupWidthFor(strideMs: number, widths: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const w of widths) if (w <= strideMs && strideMs % w === 0) best = w;
  return best;
}

export interface EquityPanel {
  /** Snapshots with an equity, all of them. */
  points: number;
  /** The bucket width in milliseconds, or 0 when every snapshot is drawn. */
  strideMs: number;
  equity: Series;
  drawdown: Series;
  /** The table alternative: at most 50 spans with the equity's low, high and last. */
  table: SpanRow[];
  drawdownAlertPct: number | null;
  maxDrawdownPct: number;
}

/**
 * equityPanel: both series with at most `buckets` buckets (4 points each). A history short
 * enough to draw whole (at most 4 points per bucket overall) is sent point by point.
 */
export async function equityPanel(
  db: Q,
  buckets: number,
  drawdownAlertPct: number | null,
): Promise<EquityPanel> {
  const span = await db.query(
    `SELECT (extract(epoch FROM min(snapshot_at)) * 1000)::float8 AS t0,
            (extract(epoch FROM max(snapshot_at)) * 1000)::float8 AS t1
       FROM portfolio_snapshots WHERE equity IS NOT NULL`,
  );
  const s = span.rows[0];
  if (s.t0 === null) return empty(drawdownAlertPct);
  const strideMs = strideFor(Number(s.t0), Number(s.t1), buckets);
  const width = rollupWidthFor(strideMs, await widthsOf(db));
  const kept =
    width === undefined
      ? await aggregate(db, strideMs, "-infinity")
      : await rolledUp(db, strideMs, width);
  const points = kept.reduce((n, b) => n + b.equity.n, 0);
  const maxDrawdownPct = Math.min(0, ...kept.map((b) => b.drawdown.lo));
  const table = spanRows(
    kept.map((b) => b.equity),
    50,
  );
  if (points <= buckets * 4) {
    const raw = await db.query(
      `SELECT (extract(epoch FROM snapshot_at) * 1000)::float8 AS t, equity::float8 AS v,
              (${DRAWDOWN} * 100)::float8 AS dd
         FROM portfolio_snapshots WHERE equity IS NOT NULL ORDER BY snapshot_at`,
    );
    const t = raw.rows.map((r) => Number(r.t));
    return {
      points: raw.rows.length,
      strideMs: 0,
      equity: { t, v: raw.rows.map((r) => Number(r.v)) },
      drawdown: { t, v: raw.rows.map((r) => Number(r.dd)) },
      table,
      drawdownAlertPct,
      maxDrawdownPct: Math.min(0, ...raw.rows.map((r) => Number(r.dd))),
    };
  }
  return {
    points,
    strideMs,
    equity: bucketPoints(kept.map((b) => b.equity)),
    drawdown: bucketPoints(kept.map((b) => b.drawdown)),
    table,
    drawdownAlertPct,
    maxDrawdownPct,
  };
}

function empty(drawdownAlertPct: number | null): EquityPanel {
  return {
    points: 0,
    strideMs: 0,
    equity: { t: [], v: [] },
    drawdown: { t: [], v: [] },
    table: [],
    drawdownAlertPct,
    maxDrawdownPct: 0,
  };
}

/**
 * rolledUp: the buckets of `strideMs` from the rollup's buckets of `widthMs` (which divides
 * it): one row each when the widths are equal, else the first and last point by time and the
 * extremes of the few rows a bucket spans.
 */
export async function rolledUp(db: Q, strideMs: number, widthMs: number): Promise<Kept[]> {
  const res = await db.query(
    `SELECT (extract(epoch FROM b) * 1000)::float8 AS start, n,
            (extract(epoch FROM first_at) * 1000)::float8 AS t_first,
            (extract(epoch FROM last_at) * 1000)::float8 AS t_last,
            first_v::float8, last_v::float8, lo::float8, hi::float8,
            (first_dd * 100)::float8 AS first_dd, (last_dd * 100)::float8 AS last_dd,
            (dd_lo * 100)::float8 AS dd_lo, (dd_hi * 100)::float8 AS dd_hi
       FROM (SELECT date_bin($1::interval, bucket_at, timestamptz 'epoch') AS b,
                    sum(n)::float8 AS n, min(first_at) AS first_at, max(last_at) AS last_at,
                    (array_agg(first_equity ORDER BY first_at))[1] AS first_v,
                    (array_agg(last_equity ORDER BY last_at DESC))[1] AS last_v,
                    (array_agg(first_drawdown ORDER BY first_at))[1] AS first_dd,
                    (array_agg(last_drawdown ORDER BY last_at DESC))[1] AS last_dd,
                    min(lo_equity) AS lo, max(hi_equity) AS hi,
                    min(lo_drawdown) AS dd_lo, max(hi_drawdown) AS dd_hi
               FROM portfolio_equity_rollup WHERE width_ms = $2
              GROUP BY 1) g
      ORDER BY b`,
    [`${strideMs} milliseconds`, widthMs],
  );
  return res.rows.map((r) =>
    keptOf(
      r,
      { v: Number(r.first_v), dd: Number(r.first_dd) },
      { v: Number(r.last_v), dd: Number(r.last_dd) },
    ),
  );
}

interface End {
  v: number;
  dd: number;
}

/** keptOf: a bucket of both series from a row (start, n, t_first, t_last, lows and highs). */
function keptOf(r: Record<string, unknown>, first: End, last: End): Kept {
  const common = {
    start: Number(r.start),
    n: Number(r.n),
    tFirst: Number(r.t_first),
    tLast: Number(r.t_last),
  };
  return {
    equity: { ...common, first: first.v, last: last.v, lo: Number(r.lo), hi: Number(r.hi) },
    drawdown: {
      ...common,
      first: first.dd,
      last: last.dd,
      lo: Number(r.dd_lo),
      hi: Number(r.dd_hi),
    },
  };
}

/**
 * aggregate: the buckets of the snapshots from `fromAt` until before `untilAt` (timestamptz
 * text), with their first and last points, in time order.
 */
export async function aggregate(
  db: Q,
  strideMs: number,
  fromAt: string,
  untilAt = "infinity",
): Promise<Kept[]> {
  const res = await db.query(
    `SELECT (extract(epoch FROM b) * 1000)::float8 AS start, n,
            first_at::text, last_at::text,
            (extract(epoch FROM first_at) * 1000)::float8 AS t_first,
            (extract(epoch FROM last_at) * 1000)::float8 AS t_last,
            lo::float8, hi::float8, (dd_lo * 100)::float8 AS dd_lo, (dd_hi * 100)::float8 AS dd_hi
       FROM (SELECT b, count(*)::int AS n, min(at) AS first_at, max(at) AS last_at,
                    min(equity) AS lo, max(equity) AS hi, min(dd) AS dd_lo, max(dd) AS dd_hi
               FROM (SELECT date_bin($1::interval, snapshot_at, 'epoch'::timestamptz) AS b,
                            snapshot_at AS at, equity, ${DRAWDOWN} AS dd
                       FROM portfolio_snapshots
                      WHERE equity IS NOT NULL AND snapshot_at >= $2::timestamptz
                        AND snapshot_at < $3::timestamptz
                     -- OFFSET 0 keeps the bucket an opaque column: the planner then expects a
                     -- few hundred groups and hashes them, instead of taking date_bin of the
                     -- unique key for a million groups and sorting every row to disk.
                     OFFSET 0) p
              GROUP BY b) g
      ORDER BY b`,
    [`${strideMs} milliseconds`, fromAt, untilAt],
  );
  if (res.rows.length === 0) return [];
  const ends = await db.query(
    `SELECT snapshot_at::text AS at, equity::float8 AS v, (${DRAWDOWN} * 100)::float8 AS dd
       FROM portfolio_snapshots WHERE snapshot_at = ANY($1::timestamptz[])`,
    [res.rows.flatMap((r) => [r.first_at, r.last_at])],
  );
  const at = new Map<string, End>(
    ends.rows.map((r) => [r.at as string, { v: Number(r.v), dd: Number(r.dd) }]),
  );
  return res.rows.map((r) => keptOf(r, at.get(r.first_at)!, at.get(r.last_at)!));
}
