/**
 * load: the report's reads from the pipeline's database. Every query is read-only; money comes
 * back as exact Fixed values (tp_decimal text → fromDecimal), times as milliseconds since the
 * epoch. Fills are read in full whatever the window: a position's cost basis may come from
 * before it.
 */
import type pg from "pg";
import { TradepipeError } from "../core/errors.ts";
import { type Fixed, fromDecimal } from "../core/money.ts";

export interface SnapshotRow {
  at: number;
  cash: Fixed | null;
  equity: Fixed | null;
  peakEquity: Fixed | null;
  realized: Fixed;
  unrealized: Fixed;
}

export interface FillRow {
  at: number;
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  qty: Fixed;
  price: Fixed;
}

export interface PositionRow {
  symbol: string;
  qty: Fixed;
  realized: Fixed;
  unrealized: Fixed;
  updatedAt: number;
}

export interface ReportData {
  /** Start of the window (ms), when --since was given. */
  since?: number;
  /** Portfolio snapshots inside the window, oldest first. */
  snapshots: SnapshotRow[];
  /** Every fill, oldest first. */
  fills: FillRow[];
  /** Current positions (closed ones keep their realized P&L). */
  positions: PositionRow[];
  /** Orders created inside the window, counted by status. */
  ordersByStatus: Record<string, number>;
}

const REQUIRED_TABLES = ["portfolio_snapshots", "fills", "positions", "orders"];

const fixedOrNull = (v: string | null): Fixed | null => (v === null ? null : fromDecimal(v));

/** loadReportData reads what the report needs; refuses a database without tradepipe's tables. */
export async function loadReportData(db: pg.Pool, since?: number): Promise<ReportData> {
  const present = await db.query<{ name: string; exists: boolean }>(
    "SELECT name, to_regclass(name) IS NOT NULL AS exists FROM unnest($1::text[]) AS name",
    [REQUIRED_TABLES],
  );
  const missing = present.rows.filter((r) => !r.exists).map((r) => r.name);
  if (missing.length > 0) {
    throw new TradepipeError(
      "TP_ERR_DB_UNAVAILABLE",
      `the database has no ${missing.join(", ")} table${missing.length > 1 ? "s" : ""}: it is not a tradepipe pipeline's database, or its migrations have not run (tradepipe migrate)`,
    );
  }
  const sinceTs = since === undefined ? null : new Date(since).toISOString();
  const snapshots = await db.query<{
    at: Date;
    cash: string | null;
    equity: string | null;
    peak_equity: string | null;
    realized_pnl: string;
    unrealized_pnl: string;
  }>(
    `SELECT snapshot_at AS at, cash, equity, peak_equity, realized_pnl, unrealized_pnl
       FROM portfolio_snapshots
      WHERE $1::timestamptz IS NULL OR snapshot_at >= $1::timestamptz
      ORDER BY snapshot_at`,
    [sinceTs],
  );
  const fills = await db.query<{
    at: Date;
    client_order_id: string;
    symbol: string;
    side: "buy" | "sell";
    qty: string;
    price: string;
  }>(
    "SELECT filled_at AS at, client_order_id, symbol, side, qty, price FROM fills ORDER BY filled_at, id",
  );
  const positions = await db.query<{
    symbol: string;
    qty: string;
    realized_pnl: string;
    unrealized_pnl: string;
    updated_at: Date;
  }>("SELECT symbol, qty, realized_pnl, unrealized_pnl, updated_at FROM positions ORDER BY symbol");
  const orders = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*)::text AS n FROM orders
      WHERE $1::timestamptz IS NULL OR created_at >= $1::timestamptz
      GROUP BY status ORDER BY status`,
    [sinceTs],
  );
  return {
    ...(since === undefined ? {} : { since }),
    snapshots: snapshots.rows.map((r) => ({
      at: r.at.getTime(),
      cash: fixedOrNull(r.cash),
      equity: fixedOrNull(r.equity),
      peakEquity: fixedOrNull(r.peak_equity),
      realized: fromDecimal(r.realized_pnl),
      unrealized: fromDecimal(r.unrealized_pnl),
    })),
    fills: fills.rows.map((r) => ({
      at: r.at.getTime(),
      clientOrderId: r.client_order_id,
      symbol: r.symbol,
      side: r.side,
      qty: fromDecimal(r.qty),
      price: fromDecimal(r.price),
    })),
    positions: positions.rows.map((r) => ({
      symbol: r.symbol,
      qty: fromDecimal(r.qty),
      realized: fromDecimal(r.realized_pnl),
      unrealized: fromDecimal(r.unrealized_pnl),
      updatedAt: r.updated_at.getTime(),
    })),
    ordersByStatus: Object.fromEntries(orders.rows.map((r) => [r.status, Number(r.n)])),
  };
}
