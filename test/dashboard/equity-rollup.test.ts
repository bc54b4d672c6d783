/**
 * The equity rollup (sql/0011) Postgres keeps as snapshots arrive: after every kind of write
 * (a bulk insert, single snapshots into a bucket already there and after it, one earlier than
 * a bucket's first point, an equity corrected, another column updated, rows deleted, the table
 * truncated) every bucket at every width equals a full scan's grouping of the snapshots, and
 * the equity panel drawn from it equals the buckets computed in JavaScript from the raw rows,
 * for a stride read straight from the rollup, one merged from whole days, and one below the
 * narrowest width (grouped from the snapshots).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type pg from "pg";
import {
  bucketPoints,
  bucketsOf,
  STRIDES_MS,
  spanRows,
} from "../../services/dashboard/downsample.ts";
import { equityPanel, rollupWidthFor, widthsOf } from "../../services/dashboard/equity.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
  // The fencing check is not under test here; the rollup's triggers stay on.
  await db.pool.query(
    "ALTER TABLE portfolio_snapshots DISABLE TRIGGER portfolio_snapshots_fencing",
  );
});
after(async () => {
  await db?.drop();
});

const COLUMNS = `n::text, first_at::text, last_at::text, first_equity::text, last_equity::text,
  lo_equity::text, hi_equity::text, first_drawdown::text, last_drawdown::text,
  lo_drawdown::text, hi_drawdown::text`;

/** fullScan: every width's buckets grouped from every snapshot, as the rollup should hold them. */
async function fullScan(pool: pg.Pool) {
  const r = await pool.query(
    `WITH p AS (SELECT snapshot_at AS at, equity,
                       CASE WHEN peak_equity > 0 THEN (equity - peak_equity) / peak_equity ELSE 0 END AS dd
                  FROM portfolio_snapshots WHERE equity IS NOT NULL),
          b AS (SELECT w.width_ms, date_bin(w.width_ms * interval '1 ms', p.at, 'epoch') AS bucket_at, p.*
                  FROM p CROSS JOIN equity_rollup_widths w)
     SELECT width_ms::text, bucket_at::text, ${COLUMNS}
       FROM (SELECT g.*, f.equity AS first_equity, l.equity AS last_equity,
                    f.dd AS first_drawdown, l.dd AS last_drawdown
               FROM (SELECT width_ms, bucket_at, count(*) AS n, min(at) AS first_at,
                            max(at) AS last_at, min(equity) AS lo_equity,
                            max(equity) AS hi_equity, min(dd) AS lo_drawdown,
                            max(dd) AS hi_drawdown
                       FROM b GROUP BY 1, 2) g
               JOIN p f ON f.at = g.first_at JOIN p l ON l.at = g.last_at) x
      ORDER BY width_ms, bucket_at`,
  );
  return r.rows;
}

async function rollup(pool: pg.Pool) {
  const r = await pool.query(
    `SELECT width_ms::text, bucket_at::text, ${COLUMNS} FROM portfolio_equity_rollup
      ORDER BY width_ms, bucket_at`,
  );
  return r.rows;
}

async function assertRollupExact(pool: pg.Pool, when: string): Promise<void> {
  const [want, got] = await Promise.all([fullScan(pool), rollup(pool)]);
  assert.ok(want.length > 0 || when.includes("truncate"), `${when}: no buckets to compare`);
  assert.deepEqual(got, want, `${when}: the rollup differs from a full scan`);
}

/** insert writes snapshots at epoch milliseconds `at[i]` with equity `equity[i]`, one statement. */
async function insert(pool: pg.Pool, at: number[], equity: number[], peak = 101000) {
  await pool.query(
    `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                      unrealized_pnl, fencing_epoch)
     SELECT to_timestamp(t / 1000.0), 0, e, $3, 0, 0, 1 FROM unnest($1::float8[], $2::numeric[]) AS u(t, e)`,
    [at, equity, peak],
  );
}

/** bulk writes n snapshots one `stepMs` apart from `startMs` in one statement. */
async function bulk(pool: pg.Pool, n: number, startMs: number, stepMs: number) {
  await pool.query(
    `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                      unrealized_pnl, fencing_epoch)
     SELECT to_timestamp(($1::float8 + g * $2::float8) / 1000.0), 0,
            CASE WHEN g % 777 = 5 THEN NULL
                 ELSE round((100000 + 400 * sin(g / 37.0) + (g % 11) * 0.13)::numeric, 2) END,
            CASE WHEN g % 500 = 0 THEN NULL ELSE 100400 END, 0, 0, 1
       FROM generate_series(0, $3 - 1) g`,
    [startMs, stepMs, n],
  );
}

/** reference: the panel's series computed in JavaScript from every raw row at `strideMs`. */
async function reference(pool: pg.Pool, strideMs: number) {
  const raw = await pool.query(
    `SELECT (extract(epoch FROM snapshot_at) * 1000)::float8 AS t, equity::float8 AS v,
            (CASE WHEN peak_equity > 0 THEN (equity - peak_equity) / peak_equity ELSE 0 END * 100)::float8 AS dd
       FROM portfolio_snapshots WHERE equity IS NOT NULL ORDER BY snapshot_at`,
  );
  const t = raw.rows.map((r) => Number(r.t));
  const equity = bucketsOf({ t, v: raw.rows.map((r) => Number(r.v)) }, strideMs);
  const drawdown = bucketsOf({ t, v: raw.rows.map((r) => Number(r.dd)) }, strideMs);
  return { equity, drawdown };
}

async function assertPanelExact(pool: pg.Pool, buckets: number, path: string) {
  const panel = await equityPanel(pool, buckets, null);
  assert.ok(panel.strideMs > 0, `${path}: downsampled`);
  const widths = await widthsOf(pool);
  const width = rollupWidthFor(panel.strideMs, widths);
  if (path === "rollup") assert.equal(width, panel.strideMs, "read straight from the rollup");
  if (path === "days") assert.ok(width === 86_400_000 && panel.strideMs > width, "merged days");
  if (path === "raw") assert.equal(width, undefined, "below the narrowest width");
  const ref = await reference(pool, panel.strideMs);
  assert.deepEqual(panel.equity, bucketPoints(ref.equity), `${path}: equity`);
  assert.deepEqual(panel.drawdown, bucketPoints(ref.drawdown), `${path}: drawdown`);
  assert.deepEqual(panel.table, spanRows(ref.equity, 50), `${path}: table`);
  assert.equal(
    panel.points,
    ref.equity.reduce((n, b) => n + b.n, 0),
  );
}

test("the rollup's widths are chart strides that nest into the day, covering every stride from the narrowest up", async () => {
  const widths = await widthsOf(db.pool);
  assert.ok(widths.length > 0);
  for (const w of widths) {
    assert.ok(STRIDES_MS.includes(w), `${w} ms is a chart stride`);
    assert.equal(86_400_000 % w, 0, `${w} ms divides the day`);
  }
  for (const s of STRIDES_MS) {
    if (s >= widths[0]!) assert.ok(rollupWidthFor(s, widths) !== undefined, `${s} ms is rolled up`);
  }
});

test("after every kind of write the rollup equals a full scan, and the panel equals the raw rows' buckets", async () => {
  const day = 86_400_000;
  const start = Date.UTC(2026, 2, 2, 13, 0, 7, 250);
  // Ten days at one snapshot per 43 s (some without an equity or a peak), in one statement.
  await bulk(db.pool, 20_000, start, 43_000);
  await assertRollupExact(db.pool, "bulk insert");
  const last = start + 19_999 * 43_000;

  // Single snapshots: two into the last bucket of every width (it straddles old and new
  // rows), one after it, and one earlier than the first point of a bucket already there.
  await insert(db.pool, [last + 1000], [90500]);
  await insert(db.pool, [last + 2500], [111000.5]);
  await insert(db.pool, [last + 3 * day], [100001]);
  // 1 ms before a snapshot, in its 10 s bucket (the one before is 43 s earlier): the bucket's
  // new first point.
  const gap = start + 15_000 * 43_000 - 1;
  await insert(db.pool, [gap], [80000]);
  await assertRollupExact(db.pool, "single inserts");
  // Inserting what is there already changes nothing (the tracker's ON CONFLICT DO NOTHING).
  await db.pool.query(
    `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                      unrealized_pnl, fencing_epoch)
     SELECT snapshot_at, 0, 1, 1, 0, 0, 1 FROM portfolio_snapshots ORDER BY snapshot_at LIMIT 10
     ON CONFLICT (snapshot_at) DO NOTHING`,
  );
  await assertRollupExact(db.pool, "conflicting inserts");

  for (const [buckets, path] of [
    [1200, "rollup"],
    [4, "days"],
  ] as const) {
    await assertPanelExact(db.pool, buckets, path);
  }

  // Corrections: an equity changed, a buying power stamped (the series unchanged), rows deleted.
  await db.pool.query(
    "UPDATE portfolio_snapshots SET equity = equity + 5000 WHERE snapshot_at = to_timestamp($1 / 1000.0)",
    [gap],
  );
  await assertRollupExact(db.pool, "equity updated");
  const before = await rollup(db.pool);
  await db.pool.query(
    "UPDATE portfolio_snapshots SET buying_power = 5 WHERE snapshot_at > to_timestamp($1 / 1000.0)",
    [start + 2 * day],
  );
  assert.deepEqual(await rollup(db.pool), before, "buying power is not part of the series");
  await db.pool.query(
    "DELETE FROM portfolio_snapshots WHERE snapshot_at BETWEEN to_timestamp($1 / 1000.0) AND to_timestamp($2 / 1000.0)",
    [start + day, start + day + 3_600_000],
  );
  await assertRollupExact(db.pool, "rows deleted");
  await assertPanelExact(db.pool, 1200, "rollup");

  await db.pool.query("TRUNCATE portfolio_snapshots");
  await assertRollupExact(db.pool, "after truncate");
  assert.equal((await rollup(db.pool)).length, 0);

  // A history short enough for a stride under 10 s is grouped from the snapshots.
  await bulk(db.pool, 5000, start, 700);
  await assertRollupExact(db.pool, "short history");
  await assertPanelExact(db.pool, 1000, "raw");
});

test("a rebuild recomputes what a load with triggers off left behind", async () => {
  await db.pool.query("TRUNCATE portfolio_snapshots");
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    await bulk(client as unknown as pg.Pool, 20_000, Date.UTC(2026, 0, 1), 3000);
    await client.query("COMMIT");
  } finally {
    client.release();
  }
  assert.equal((await rollup(db.pool)).length, 0, "the triggers did not fire");
  await db.pool.query("SELECT tp_equity_rollup_rebuild()");
  await assertRollupExact(db.pool, "rebuilt");
});
