/**
 * equity: the equity and drawdown series of the P&L panel, downsampled in Postgres. One pass
 * over `portfolio_snapshots` groups the snapshots into round time buckets (date_bin) with the
 * count, first and last time, lowest and highest equity and drawdown of each (plain min/max on
 * the numeric columns: no per-row conversion, which is what costs at a million rows); the
 * first and last point of each bucket are then read by primary key. Drawdown is the one the
 * position tracker records with each snapshot: (equity − peak_equity) / peak_equity.
 *
 * Finished buckets are kept per database: the snapshots are append-only by time (the position
 * tracker inserts each once, ON CONFLICT DO NOTHING, at its event time), so a bucket whose
 * time is past never changes. A later request reads only from the last kept bucket on, which
 * the primary key's index serves. The kept buckets are dropped when the stride changes (the
 * history outgrew the chart) or the first snapshot is no longer the same one.
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
const DRAWDOWN = `CASE WHEN peak_equity > 0 THEN (equity - peak_equity) / peak_equity ELSE 0 END`;

/** A bucket of both series, with its bounds as Postgres prints them (exact, µs). */
export interface Kept {
  startAt: string;
  firstAt: string;
  lastAt: string;
  equity: Bucket;
  drawdown: Bucket;
}

interface Cache {
  strideMs: number;
  firstAt: string;
  buckets: Kept[];
}

/** Kept buckets per database, one entry per stride in use (a few chart widths). */
const caches = new WeakMap<object, Cache[]>();
const STRIDES_KEPT = 4;

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
    `SELECT min(snapshot_at)::text AS first_at,
            (extract(epoch FROM min(snapshot_at)) * 1000)::float8 AS t0,
            (extract(epoch FROM max(snapshot_at)) * 1000)::float8 AS t1
       FROM portfolio_snapshots WHERE equity IS NOT NULL`,
  );
  const s = span.rows[0];
  if (s.first_at === null) return empty(drawdownAlertPct);
  const strideMs = strideFor(Number(s.t0), Number(s.t1), buckets);
  const kept = await keptBuckets(db, strideMs, s.first_at as string);
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

/** keptBuckets brings the kept buckets up to date: all of them, or from the last one on. */
async function keptBuckets(db: Q, strideMs: number, firstAt: string): Promise<Kept[]> {
  const all = caches.get(db) ?? [];
  const cache = all.find((c) => c.strideMs === strideMs);
  const reuse = cache !== undefined && cache.firstAt === firstAt;
  const from = reuse ? cache.buckets[cache.buckets.length - 1]?.startAt : undefined;
  const fresh = await aggregate(db, strideMs, from ?? "-infinity");
  // IMPORTANT: the tail is re-read from the last kept bucket's start, so only the buckets
  // before it are kept: a bucket of `fresh` is never a second copy of a kept one.
  const kept = reuse ? cache.buckets.filter((b) => b.startAt !== from) : [];
  const next = [...kept, ...fresh];
  const others = all.filter((c) => c.strideMs !== strideMs).slice(0, STRIDES_KEPT - 1);
  caches.set(db, [{ strideMs, firstAt, buckets: next }, ...others]);
  return next;
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
    `SELECT b::text AS start_at, (extract(epoch FROM b) * 1000)::float8 AS start, n,
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
  const at = new Map<string, { v: number; dd: number }>(
    ends.rows.map((r) => [r.at as string, { v: Number(r.v), dd: Number(r.dd) }]),
  );
  return res.rows.map((r) => {
    const first = at.get(r.first_at)!;
    const last = at.get(r.last_at)!;
    const common = {
      start: Number(r.start),
      n: Number(r.n),
      tFirst: Number(r.t_first),
      tLast: Number(r.t_last),
    };
    return {
      startAt: r.start_at as string,
      firstAt: r.first_at as string,
      lastAt: r.last_at as string,
      equity: { ...common, first: first.v, last: last.v, lo: Number(r.lo), hi: Number(r.hi) },
      drawdown: {
        ...common,
        first: first.dd,
        last: last.dd,
        lo: Number(r.dd_lo),
        hi: Number(r.dd_hi),
      },
    };
  });
}
