/**
 * The live-vs-backtest overlay against a real Postgres and a backtest output directory as
 * `tradepipe backtest --out` leaves it (tearsheet.html, equity.parquet): both curves in percent
 * from their first point of the period, a known gap measured and flagged past the threshold,
 * not flagged under it, and bad run names refused.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Dashboard } from "../../services/dashboard/server.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";
import { dashboardOn, writeBacktestRun } from "./fixture.ts";

let db: TestDatabase;
let dashboard: Dashboard;
let dir: string;
const START = Date.UTC(2026, 2, 2, 14, 30);
const STEP = 10_000;
const N = 720; // two hours, one sample every 10 s

/** run writes a backtest whose equity is `curve(i)` at START + i·STEP, i < n. */
const run = (name: string, n: number, curve: (i: number) => number) =>
  writeBacktestRun(
    dir,
    name,
    Array.from({ length: n }, (_, i) => START + i * STEP),
    Array.from({ length: n }, (_, i) => curve(i)),
  );

before(async () => {
  db = await withMigratedDatabase();
  // Live: 100,000 rising steadily by 1% over the two hours.
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica"); // no fencing rows here
    await client.query(
      `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                        unrealized_pnl, fencing_epoch)
       SELECT to_timestamp(($1::float8 + g * $2) / 1000.0), 0, 100000 + 1000.0 * g / ($3 - 1),
              100000 + 1000.0 * g / ($3 - 1), 0, 0, 1
         FROM generate_series(0, $3 - 1) g`,
      [START, STEP, N],
    );
    await client.query("COMMIT");
  } finally {
    client.release();
  }
  dir = mkdtempSync(join(tmpdir(), "tp-overlay-"));
  // The same path from its own cash (50,000): no gap.
  run("same", N, (i) => 50_000 + (500 * i) / (N - 1));
  // The same until the last quarter, then 2% more: a 200 bps gap at the end.
  run("apart", N, (i) => {
    const base = 50_000 + (500 * i) / (N - 1);
    return i < (3 * N) / 4 ? base : base + (1000 * (i - (3 * N) / 4 + 1)) / (N / 4);
  });
  mkdirSync(join(dir, "no-equity"));
  writeFileSync(join(dir, "no-equity", "tearsheet.html"), "<!doctype html><title>x</title>");
  dashboard = await dashboardOn(db.pool, { backtestDir: dir });
});
after(async () => {
  await dashboard?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const get = async (path: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${dashboard.url}${path}`);
  return { status: res.status, body: await res.json() };
};

test("the backtest list says which runs can be overlaid", async () => {
  const { body } = await get("api/backtests");
  const runs = Object.fromEntries(
    body.runs.map((r: { name: string; overlay: boolean }) => [r.name, r.overlay]),
  );
  assert.deepEqual(runs, { same: true, apart: true, "no-equity": false });
});

test("a backtest on the live path: both curves from 0% to 1%, no gap, not flagged", async () => {
  const { status, body } = await get("api/backtests/same/overlay?width=200");
  assert.equal(status, 200);
  assert.equal(body.from, START);
  assert.equal(body.to, START + (N - 1) * STEP);
  assert.equal(body.backtestPoints, N);
  assert.equal(body.livePoints, N);
  assert.ok(body.live.t.length <= 800 && body.backtest.t.length <= 800);
  assert.equal(body.live.v[0], 0);
  assert.equal(body.backtest.v[0], 0);
  assert.ok(Math.abs(body.live.v.at(-1) - 1) < 1e-9, `live ends at ${body.live.v.at(-1)}%`);
  assert.ok(Math.abs(body.backtest.v.at(-1) - 1) < 1e-9);
  assert.ok(Math.abs(body.maxGapBps) < 1e-6, `gap ${body.maxGapBps}`);
  assert.equal(body.diverged, false);
  assert.ok(body.table.length > 0 && body.table.length <= 50);
});

test("a backtest that ran 2% ahead: the 200 bps gap is measured at the end and flagged past the threshold only", async () => {
  const flagged = await get("api/backtests/apart/overlay?width=200&thresholdBps=100");
  assert.equal(flagged.status, 200);
  assert.ok(Math.abs(flagged.body.maxGapBps + 200) < 1e-6, `gap ${flagged.body.maxGapBps}`);
  assert.equal(flagged.body.maxGapAt, START + (N - 1) * STEP);
  assert.equal(flagged.body.diverged, true);
  assert.ok(Math.abs(flagged.body.backtest.v.at(-1) - 3) < 1e-9);
  const last = flagged.body.table.at(-1);
  assert.ok(Math.abs(last.gapBps + 200) < 1e-6);
  const tolerated = await get("api/backtests/apart/overlay?width=200&thresholdBps=250");
  assert.equal(tolerated.body.diverged, false);
});

test("a run without an equity curve, an unknown run or a path outside the directory is refused", async () => {
  const none = await get("api/backtests/no-equity/overlay");
  assert.equal(none.status, 404);
  assert.match(none.body.error, /no equity\.parquet/);
  assert.equal((await get("api/backtests/missing/overlay")).status, 404);
  assert.equal((await get("api/backtests/../overlay")).status, 404);
  assert.equal((await get("api/backtests/%2e%2e/overlay")).status, 404);
  const bad = await get("api/backtests/same/overlay?thresholdBps=-1");
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /thresholdBps/);
});

test("a tearsheet is served as written, under its own CSP (no script, no network, sandboxed); nothing outside the directory", async () => {
  const res = await fetch(`${dashboard.url}backtests/no-equity/tearsheet.html`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "<!doctype html><title>x</title>");
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /sandbox/);
  assert.doesNotMatch(csp, /script-src/);
  for (const path of [
    "backtests/../tearsheet.html",
    "backtests/%2e%2e/tearsheet.html",
    "backtests/missing/tearsheet.html",
  ]) {
    assert.equal((await fetch(`${dashboard.url}${path}`)).status, 404, path);
  }
});
