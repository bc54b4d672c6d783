/**
 * The report against a real Postgres: rows inserted as the stages write them (fencing epoch 0,
 * before any leader), then the figures checked by hand and the pictures read back.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { findAll, parseXml } from "../../services/core/charts/xml-check.ts";
import { fromDecimal } from "../../services/core/money.ts";
import {
  analyzeReport,
  loadReportData,
  SPARSE_BELOW,
  writeReport,
} from "../../services/report/index.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

const T0 = Date.UTC(2026, 0, 5, 14, 30);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

let db: TestDatabase;
let out: string;

before(async () => {
  db = await withMigratedDatabase();
  out = await mkdtemp(join(tmpdir(), "tp-report-"));
});
after(async () => {
  await db.drop();
  await rm(out, { recursive: true, force: true });
});

async function order(
  id: string,
  symbol: string,
  side: string,
  qty: string,
  status: string,
  s: number,
) {
  await db.pool.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, status, fencing_epoch, created_at)
     VALUES ($1, $1, $2, $3, 'market', $4, $5, 0, $6)`,
    [id, symbol, side, qty, status, at(s)],
  );
}
async function fill(
  id: string,
  orderId: string,
  symbol: string,
  side: string,
  qty: string,
  price: string,
  s: number,
) {
  await db.pool.query(
    `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, filled_at, fencing_epoch)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
    [id, orderId, symbol, side, qty, price, at(s)],
  );
}

/**
 * The story: buy 10 AAPL @100, buy 10 more @110 (avg 105), sell 10 @120 (+150), sell 10 @90
 * (−150); buy 5 MSFT @200 and hold (marked at 210 in positions: +50 unrealized).
 * P&L after each fill, each symbol marked at its latest fill price: 0, +100, +300 (+150
 * realized, 10 left marked at 120), 0, 0 (MSFT at its fill price); then +50 at the positions' mark.
 */
async function seedTrading(): Promise<void> {
  await order("o1", "AAPL", "buy", "10", "filled", 0);
  await order("o2", "AAPL", "buy", "10", "filled", 10);
  await order("o3", "AAPL", "sell", "10", "filled", 20);
  await order("o4", "AAPL", "sell", "10", "filled", 30);
  await order("o5", "MSFT", "buy", "5", "filled", 40);
  await order("o6", "MSFT", "buy", "5", "rejected", 50);
  await fill("e1", "o1", "AAPL", "buy", "10", "100", 1);
  await fill("e2", "o2", "AAPL", "buy", "10", "110", 11);
  await fill("e3", "o3", "AAPL", "sell", "10", "120", 21);
  await fill("e4", "o4", "AAPL", "sell", "10", "90", 31);
  await fill("e5", "o5", "MSFT", "buy", "5", "200", 41);
  await db.pool.query(
    `INSERT INTO positions (symbol, qty, avg_entry_price, last_price, realized_pnl, unrealized_pnl, fencing_epoch, updated_at)
     VALUES ('AAPL', 0, 0, 90, 0, 0, 0, $1), ('MSFT', 5, 200, 210, 0, 50, 0, $2)`,
    [at(31), at(60)],
  );
}

test("sparse snapshots: the curve is replayed from fills; figures computed by hand", async () => {
  await seedTrading();
  // One portfolio snapshot, with equity: curves are drawn as equity (base 100,000).
  await db.pool.query(
    `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl, unrealized_pnl, fencing_epoch)
     VALUES ($1, 99000, 100000, 100000, 0, 0, 0)`,
    [at(0)],
  );
  const data = await loadReportData(db.pool);
  assert.equal(data.fills.length, 5);
  assert.deepEqual(data.ordersByStatus, { filled: 5, rejected: 1 });
  const report = analyzeReport(data);
  const f = report.figures;
  assert.equal(report.curves.primary, "fills");
  assert.equal(report.curves.kind, "equity");
  assert.deepEqual(
    report.curves.fromFills.map((p) => p.value),
    ["100000", "100100", "100300", "100000", "100000", "100050"].map((v) => fromDecimal(v)),
  );
  assert.equal(f.pnl.total, fromDecimal("50"));
  assert.equal(f.pnl.realized, fromDecimal("0"));
  assert.equal(f.pnl.source, "positions");
  // Peak 100,300 → trough 100,000: −300, 0.299% of the peak.
  assert.equal(f.maxDrawdown.amount, fromDecimal("-300"));
  assert.ok(Math.abs(f.maxDrawdown.pct! - (-300 / 100300) * 100) < 1e-9);
  assert.equal(f.maxDrawdown.at, T0 + 31_000);
  assert.deepEqual(f.trades, { closing: 2, wins: 1, losses: 1, winRate: 0.5 });
  assert.deepEqual(
    { total: f.fills.total, buys: f.fills.buys, sells: f.fills.sells },
    { total: 5, buys: 3, sells: 2 },
  );
  assert.equal(f.fills.notional, fromDecimal(String(1000 + 1100 + 1200 + 900 + 1000)));
  assert.equal(f.orders.total, 6);
  assert.deepEqual(
    report.bySymbol.map((s) => [s.symbol, s.realized, s.unrealized]),
    [
      ["AAPL", 0n, 0n],
      ["MSFT", 0n, fromDecimal("50")],
    ],
  );
});

test("writeReport writes the pictures and report.md; the SVGs carry the data", async () => {
  const { files } = await writeReport(db.pool, {
    outDir: out,
    databaseLabel: "test db",
    now: T0 + 3_600_000,
  });
  assert.deepEqual(
    files.map((f) => f.slice(out.length + 1)),
    ["equity.svg", "equity.png", "pnl-by-symbol.svg", "pnl-by-symbol.png", "report.md"],
  );
  const equity = parseXml(await readFile(join(out, "equity.svg"), "utf8"));
  const series = findAll(equity, (e) => e.attrs.class === "series");
  assert.deepEqual(
    series.map((s) => [s.attrs["data-series"]?.split(" ")[0], s.attrs["data-points"]]),
    [
      ["Equity", "1"],
      ["Equity", "6"],
      ["drawdown", "6"],
    ],
  );
  const bars = parseXml(await readFile(join(out, "pnl-by-symbol.svg"), "utf8"));
  assert.deepEqual(
    findAll(bars, (e) => e.attrs.class === "bar").map((b) => [
      b.attrs["data-category"],
      b.attrs["data-value"],
    ]),
    [
      ["AAPL", "0"],
      ["MSFT", "0"],
      ["AAPL", "0"],
      ["MSFT", "50"],
    ],
  );
  const png = await readFile(join(out, "equity.png"));
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  const md = await readFile(join(out, "report.md"), "utf8");
  assert.match(
    md,
    /\| Total P&L \| 50\.00 USD \(realized 0\.00, unrealized 50\.00; from positions\) \|/,
  );
  assert.match(
    md,
    /\| Max drawdown \| -300\.00 USD \(-0\.30% of the peak\) at 2026-01-05T14:30:31Z \(from fills\) \|/,
  );
  assert.match(md, /\| Orders \| 6 \(filled 5, rejected 1\) \|/);
  assert.match(md, /\| Win rate \| 50\.0% \(1 of 2 closing fills/);
  assert.match(md, /!\[Equity and drawdown\]\(equity\.png\)/);
});

test("--since: the window's orders, fills and P&L; cost basis still from earlier fills", async () => {
  const report = analyzeReport(await loadReportData(db.pool, T0 + 15_000));
  const f = report.figures;
  assert.equal(f.fills.total, 3);
  assert.equal(f.orders.total, 4);
  // The only snapshot with equity is before the window: P&L, not equity. The curve starts at
  // the value it had at 14:30:15 (+100), so the window made −50.
  assert.equal(report.curves.kind, "pnl");
  assert.equal(report.curves.fromFills[0]!.value, fromDecimal("100"));
  assert.equal(f.windowPnl, fromDecimal("-50"));
  assert.deepEqual(f.trades, { closing: 2, wins: 1, losses: 1, winRate: 0.5 });
});

test("dense snapshots become the curve; without equity it is P&L in dollars", async () => {
  for (let i = 0; i < SPARSE_BELOW; i++) {
    const pnl = [0, 40, 80, 20, 60][i % 5]! + i;
    await db.pool.query(
      `INSERT INTO portfolio_snapshots (snapshot_at, realized_pnl, unrealized_pnl, fencing_epoch)
       VALUES ($1, $2, 0, 0)`,
      [at(100 + i * 60), pnl],
    );
  }
  const report = analyzeReport(await loadReportData(db.pool, T0 + 100_000));
  assert.equal(report.curves.primary, "snapshots");
  assert.equal(report.curves.kind, "pnl");
  assert.equal(report.curves.drawdown.unit, "USD");
  // 0, 41, 82, 23, 64, 5, 46, 87, 28, 69, 10, …: −77 first from the peak 82 (i=2) to 5 (i=5),
  // again from 87 to 10; the first deepest point is reported.
  assert.equal(report.figures.maxDrawdown.amount, fromDecimal("-77"));
  assert.equal(report.figures.maxDrawdown.at, T0 + (100 + 5 * 60) * 1000);
  assert.equal(report.figures.maxDrawdown.pct, null);
});

test("a database without tradepipe's tables is refused with a clear error", async () => {
  const { createTestDatabase } = await import("../support/pg.ts");
  const empty = await createTestDatabase();
  try {
    await assert.rejects(loadReportData(empty.pool), (err: Error & { code?: string }) => {
      assert.equal(err.code, "TP_ERR_DB_UNAVAILABLE");
      assert.match(err.message, /no portfolio_snapshots, fills, positions, orders tables/);
      assert.match(err.message, /tradepipe migrate/);
      return true;
    });
  } finally {
    await empty.drop();
  }
});
