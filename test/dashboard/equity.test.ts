/**
 * The equity and drawdown series downsampled in Postgres (services/dashboard/equity.ts): every
 * bucket's count, first, last, lowest and highest point equal a computation over the raw rows;
 * spikes survive; the buckets stay equal to the raw rows' as snapshots arrive; a short history
 * passes whole; and a million snapshots stay within the chart's point budget through the
 * dashboard's own HTTP endpoint.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type pg from "pg";
import { type Bucket, bucketPoints, strideFor } from "../../services/dashboard/downsample.ts";
import { equityPanel } from "../../services/dashboard/equity.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";
import { dashboardOn } from "./fixture.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
  await db.pool.query(
    "ALTER TABLE portfolio_snapshots DISABLE TRIGGER portfolio_snapshots_fencing",
  );
});
after(async () => {
  await db?.drop();
});

/**
 * snapshots writes `n` snapshots one `stepMs` apart from `startMs`, as the position tracker
 * would (equity and the running peak), with the fencing trigger off for speed (the series is
 * what is under test, not the fencing); the rollup's triggers stay on.
 */
async function snapshots(
  pool: pg.Pool,
  n: number,
  startMs: number,
  stepMs: number,
  curve = "100000 + 300 * sin(g / 50.0) + (g % 7) * 0.25",
): Promise<void> {
  await pool.query(
    `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                        unrealized_pnl, fencing_epoch)
       SELECT at, 0, equity, greatest(equity, 100300), 0, 0, 1
         FROM (SELECT to_timestamp($1 / 1000.0) + make_interval(secs => g * $2 / 1000.0) AS at,
                      round((${curve})::numeric, 2) AS equity
                 FROM generate_series(0, $3 - 1) g) c`,
    [startMs, stepMs, n],
  );
}

/** reference: the buckets computed in JavaScript from every raw row. */
async function reference(pool: pg.Pool, strideMs: number) {
  const raw = await pool.query(
    `SELECT (extract(epoch FROM snapshot_at) * 1000)::float8 AS t, equity::float8 AS v,
            (CASE WHEN peak_equity > 0 THEN (equity - peak_equity) / peak_equity ELSE 0 END * 100)::float8 AS dd
       FROM portfolio_snapshots WHERE equity IS NOT NULL ORDER BY snapshot_at`,
  );
  const equity = new Map<number, Bucket>();
  const drawdown = new Map<number, Bucket>();
  for (const r of raw.rows) {
    const t = Number(r.t);
    const start = Math.floor(t / strideMs) * strideMs;
    for (const [map, v] of [
      [equity, Number(r.v)],
      [drawdown, Number(r.dd)],
    ] as const) {
      const b = map.get(start);
      if (!b) map.set(start, { start, n: 1, tFirst: t, tLast: t, first: v, last: v, lo: v, hi: v });
      else {
        b.n += 1;
        b.tLast = t;
        b.last = v;
        b.lo = Math.min(b.lo, v);
        b.hi = Math.max(b.hi, v);
      }
    }
  }
  return { equity: [...equity.values()], drawdown: [...drawdown.values()], rows: raw.rows };
}

test("every bucket equals a computation over the raw rows; spikes survive; buckets stay right as snapshots arrive", async () => {
  await db.pool.query("DELETE FROM portfolio_snapshots");
  const start = Date.UTC(2026, 0, 5, 14, 30);
  // A one-snapshot crash and a one-snapshot spike in the middle of the history.
  await snapshots(
    db.pool,
    20_000,
    start,
    1000,
    "CASE g WHEN 7777 THEN 90000 WHEN 15555 THEN 110000 ELSE 100000 + 300 * sin(g / 50.0) + (g % 7) * 0.25 END",
  );
  const buckets = 300;
  const panel = await equityPanel(db.pool, buckets, 5);
  assert.equal(panel.points, 20_000);
  assert.equal(panel.strideMs, strideFor(start, start + 19_999_000, buckets));
  assert.ok(panel.equity.t.length <= 4 * buckets, `${panel.equity.t.length} points drawn`);
  assert.ok(panel.drawdown.t.length <= 4 * buckets);
  assert.equal(Math.min(...panel.equity.v), 90000, "the crash is drawn");
  assert.equal(Math.max(...panel.equity.v), 110000, "the spike is drawn");
  for (let i = 1; i < panel.equity.t.length; i += 1)
    assert.ok(panel.equity.t[i]! >= panel.equity.t[i - 1]!, "time never goes back");

  const ref = await reference(db.pool, panel.strideMs);
  assert.equal(
    panel.table.reduce((n, r) => n + r.n, 0),
    20_000,
    "the table covers every row",
  );
  assert.equal(Math.min(...panel.table.map((r) => r.lo)), 90000);
  const worst = Math.min(...ref.rows.map((r) => Number(r.dd)));
  assert.ok(Math.abs(panel.maxDrawdownPct - worst) < 1e-9, `${panel.maxDrawdownPct} vs ${worst}`);
  // Every bucket's extremes and ends appear among the drawn points, at the right places.
  const drawn = new Set(panel.equity.t.map((t, i) => `${t}:${panel.equity.v[i]}`));
  for (const b of ref.equity) {
    assert.ok(drawn.has(`${b.tFirst}:${b.first}`), `bucket ${b.start}: first point drawn`);
    assert.ok(drawn.has(`${b.tLast}:${b.last}`), `bucket ${b.start}: last point drawn`);
    const inside = panel.equity.v.filter((_, i) => {
      const t = panel.equity.t[i]!;
      return t >= b.tFirst && t <= b.tLast;
    });
    assert.equal(Math.min(...inside), b.lo, `bucket ${b.start}: low`);
    assert.equal(Math.max(...inside), b.hi, `bucket ${b.start}: high`);
  }

  // New snapshots, some in the last bucket and some after it: the series is the raw rows'.
  await snapshots(db.pool, 150, start + 20_000_000, 1000, "99000 + g");
  const again = await equityPanel(db.pool, buckets, 5);
  const ref2 = await reference(db.pool, again.strideMs);
  assert.equal(again.points, 20_150);
  assert.deepEqual(again.equity, bucketPoints(ref2.equity));
  assert.deepEqual(again.drawdown, bucketPoints(ref2.drawdown));
  assert.equal(again.equity.v[again.equity.v.length - 1], 99149);
});

test("a short history is drawn whole, point by point; no snapshot is an empty chart", async () => {
  await db.pool.query("DELETE FROM portfolio_snapshots");
  const none = await equityPanel(db.pool, 100, null);
  assert.deepEqual([none.points, none.equity.t.length, none.maxDrawdownPct], [0, 0, 0]);
  await snapshots(db.pool, 250, Date.UTC(2026, 0, 5), 60_000);
  const panel = await equityPanel(db.pool, 100, null);
  const ref = await reference(db.pool, 60_000);
  assert.equal(panel.strideMs, 0);
  assert.deepEqual(
    panel.equity.v,
    ref.rows.map((r) => Number(r.v)),
  );
  assert.deepEqual(
    panel.drawdown.v,
    ref.rows.map((r) => Number(r.dd)),
  );
});

test("a million snapshots: the page's equity request stays within its point budget", async () => {
  await db.pool.query("DELETE FROM portfolio_snapshots");
  const start = Date.UTC(2026, 0, 5);
  await snapshots(
    db.pool,
    1_000_000,
    start,
    1000,
    "100000 + (g % 977) * 0.5 - (g = 654321)::int * 5000",
  );
  await db.pool.query("ANALYZE portfolio_snapshots");
  const dashboard = await dashboardOn(db.pool);
  try {
    for (const width of [1200, 390, 1200]) {
      const t0 = performance.now();
      const res = await fetch(`${dashboard.url}api/equity?width=${width}`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Awaited<ReturnType<typeof equityPanel>>;
      const ms = performance.now() - t0;
      assert.equal(body.points, 1_000_000);
      assert.ok(body.strideMs > 0);
      assert.ok(
        body.equity.t.length <= 4 * width,
        `${body.equity.t.length} points for ${width} px`,
      );
      assert.ok(body.drawdown.t.length <= 4 * width);
      assert.ok(body.table.length <= 50);
      assert.equal(Math.min(...body.equity.v), 100000 + (654321 % 977) * 0.5 - 5000, "the dip");
      // Reported, not asserted: the machine is shared.
      console.log(
        `# 1M snapshots, width ${width}: ${body.equity.t.length} points, ${ms.toFixed(0)} ms (from the rollup)`,
      );
    }
  } finally {
    await dashboard.close();
  }
});
