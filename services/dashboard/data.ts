/**
 * data: what the dashboard reads from the pipeline's database, one function per panel. Every
 * figure is read from the tables the stages write (sql/); nothing is cached, so a page shows
 * the database as it is.
 */
import type pg from "pg";
import type { TradingPipeline } from "../core/spec/index.ts";
import { type Bucket, centsText } from "./attribution.ts";
import { AttributionBook } from "./attribution-book.ts";

type Q = Pick<pg.Pool, "query">;

/** The order-rate limit the broker enforces (Alpaca: 200/min; the pipeline keeps to 180). */
export const ORDER_RATE_LIMIT_PER_MIN = 180;

/**
 * queries runs statements without parameters as one simple query: one connection and one
 * round trip for all of them. A page load asks for every panel at once, and a panel's
 * statements each taking a pooled connection of their own queue behind each other's.
 */
async function queries(db: Q, statements: string[]): Promise<pg.QueryResult[]> {
  const res = (await db.query(statements.join(";\n"))) as unknown as
    | pg.QueryResult
    | pg.QueryResult[];
  return Array.isArray(res) ? res : [res];
}

export async function summary(db: Q, pipelineName: string) {
  const [risk, stages, fills, pnl, snap, power] = (await queries(db, [
    "SELECT * FROM risk_state WHERE id = 1",
    `SELECT stage, holder, epoch, renewed_at,
            extract(epoch FROM now() - renewed_at) AS age_s
       FROM stage_leadership ORDER BY stage`,
    // The fills' count, fees and last time from their rollup (sql/0012): a row per symbol and
    // side, not a pass over every fill.
    `SELECT max(last_filled_at) AS at, extract(epoch FROM now() - max(last_filled_at)) AS age_s,
            coalesce(sum(commission), 0)::text AS fees, coalesce(sum(n), 0)::int AS n
       FROM fills_rollup`,
    `SELECT coalesce(sum(realized_pnl), 0)::text AS realized,
            coalesce(sum(unrealized_pnl), 0)::text AS unrealized FROM positions`,
    "SELECT equity::text, peak_equity::text, drawdown_alerted FROM portfolio_snapshots ORDER BY snapshot_at DESC LIMIT 1",
    // The broker's buying power as the position tracker last read it (the newest snapshot
    // that carries one).
    `SELECT buying_power::text, snapshot_at FROM portfolio_snapshots
      WHERE buying_power IS NOT NULL ORDER BY snapshot_at DESC LIMIT 1`,
  ])) as [
    pg.QueryResult,
    pg.QueryResult,
    pg.QueryResult,
    pg.QueryResult,
    pg.QueryResult,
    pg.QueryResult,
  ];
  const r = risk.rows[0] ?? {};
  const warnings: string[] = [];
  if (r.kill_switch_engaged)
    warnings.push(`kill switch engaged: ${r.kill_switch_reason ?? "no reason"}`);
  if (r.paused) warnings.push(`new orders paused: ${r.paused_reason ?? "no reason"}`);
  if (r.circuit_state && r.circuit_state !== "closed")
    warnings.push(`circuit breaker ${r.circuit_state}`);
  if (snap.rows[0]?.drawdown_alerted) warnings.push("drawdown alert");
  const stageRows = stages.rows.map((s) => ({
    stage: s.stage as string,
    holder: s.holder as string,
    epoch: Number(s.epoch),
    // A leader renews its lease every few seconds; 30 s without a renewal means it is gone.
    leading: Number(s.age_s) < 30,
    renewedAgoS: Math.round(Number(s.age_s)),
  }));
  for (const s of stageRows)
    if (!s.leading) warnings.push(`${s.stage}: no leader renewal for ${s.renewedAgoS} s`);
  return {
    pipeline: pipelineName,
    stages: stageRows,
    lastFillAt: fills.rows[0]?.at ? new Date(fills.rows[0].at).toISOString() : null,
    lastFillAgeS: fills.rows[0]?.age_s == null ? null : Number(fills.rows[0].age_s),
    fills: fills.rows[0].n as number,
    killSwitch: {
      engaged: Boolean(r.kill_switch_engaged),
      reason: r.kill_switch_reason ?? null,
      changedBy: r.kill_switch_changed_by ?? null,
      changedAt: r.kill_switch_changed_at ? new Date(r.kill_switch_changed_at).toISOString() : null,
    },
    // Pause new orders (sql/0010): the risk manager approves no order that grows a position.
    paused: {
      paused: Boolean(r.paused),
      reason: r.paused_reason ?? null,
      changedBy: r.paused_changed_by ?? null,
      changedAt: r.paused_changed_at ? new Date(r.paused_changed_at).toISOString() : null,
    },
    breaker: r.circuit_state ?? "closed",
    pnl: {
      realized: money(pnl.rows[0].realized),
      unrealized: money(pnl.rows[0].unrealized),
      fees: money(fills.rows[0].fees),
    },
    equity: snap.rows[0]?.equity ? money(snap.rows[0].equity) : null,
    peakEquity: snap.rows[0]?.peak_equity ? money(snap.rows[0].peak_equity) : null,
    buyingPower: power.rows[0] ? money(power.rows[0].buying_power) : null,
    buyingPowerAt: power.rows[0] ? new Date(power.rows[0].snapshot_at).toISOString() : null,
    warnings,
  };
}

/** money shows a tp_decimal with two decimals, rounded half away from zero. */
export function money(decimal: string): string {
  const neg = decimal.startsWith("-");
  const [int = "0", frac = ""] = (neg ? decimal.slice(1) : decimal).split(".");
  let cents = BigInt(int) * 100n + BigInt((frac + "00").slice(0, 2));
  if (Number((frac + "000").charAt(2)) >= 5) cents += 1n;
  return centsText(neg ? -cents : cents);
}

export async function positions(db: Q) {
  const res = await db.query(
    `SELECT symbol, qty::text, avg_entry_price::text AS avg, last_price::text AS last,
            (qty * coalesce(last_price, avg_entry_price))::text AS market_value,
            unrealized_pnl::text AS unrealized, realized_pnl::text AS realized, sector
       FROM positions WHERE qty <> 0 ORDER BY symbol`,
  );
  return res.rows.map((r) => ({
    symbol: r.symbol as string,
    qty: trimZeros(r.qty),
    avgPrice: money(r.avg),
    lastPrice: r.last === null ? null : money(r.last),
    marketValue: money(r.market_value),
    unrealized: money(r.unrealized),
    realized: money(r.realized),
    sector: (r.sector as string | null) ?? null,
  }));
}

function trimZeros(decimal: string): string {
  return decimal.includes(".") ? decimal.replace(/0+$/, "").replace(/\.$/, "") : decimal;
}

export interface FillFilter {
  symbol?: string;
  side?: "buy" | "sell";
}

/** parseFillFilter turns query parameters into a filter, naming what is wrong. */
export function parseFillFilter(q: URLSearchParams): FillFilter | string {
  const f: FillFilter = {};
  const symbol = q.get("symbol");
  if (symbol) {
    if (!/^[A-Z][A-Z0-9.]{0,9}$/.test(symbol)) return `symbol: "${symbol}" is not a ticker`;
    f.symbol = symbol;
  }
  const side = q.get("side");
  if (side) {
    if (side !== "buy" && side !== "sell") return `side: must be buy or sell, got "${side}"`;
    f.side = side;
  }
  return f;
}

function fillWhere(f: FillFilter, params: unknown[]): string {
  const parts: string[] = [];
  if (f.symbol) {
    params.push(f.symbol);
    parts.push(`symbol = $${params.length}`);
  }
  if (f.side) {
    params.push(f.side);
    parts.push(`side = $${params.length}`);
  }
  return parts.length ? parts.join(" AND ") : "true";
}

const FILL_COLUMNS = `id, client_order_id, symbol, side, qty::text, price::text, commission::text, filled_at`;

export interface FillRow {
  id: number;
  clientOrderId: string;
  symbol: string;
  side: string;
  qty: string;
  price: string;
  commission: string;
  filledAt: string;
}

export function fillRow(r: Record<string, unknown>): FillRow {
  return {
    id: Number(r.id),
    clientOrderId: r.client_order_id as string,
    symbol: r.symbol as string,
    side: r.side as string,
    qty: trimZeros(r.qty as string),
    price: trimZeros(r.price as string),
    commission: trimZeros(r.commission as string),
    filledAt: new Date(r.filled_at as string).toISOString(),
  };
}

/** fillsPage: newest first, keyset-paged by id (before = the last id of the previous page). */
export async function fillsPage(db: Q, f: FillFilter, before: number | null, limit: number) {
  const params: unknown[] = [];
  let where = fillWhere(f, params);
  if (before !== null) {
    params.push(before);
    where += ` AND id < $${params.length}`;
  }
  params.push(limit);
  // The filter's total from the fills' rollup (sql/0012), whose rows are per symbol and side.
  const countParams: unknown[] = [];
  const [res, total] = await Promise.all([
    db.query(
      `SELECT ${FILL_COLUMNS} FROM fills WHERE ${where} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    ),
    db.query(
      `SELECT coalesce(sum(n), 0)::int AS n FROM fills_rollup WHERE ${fillWhere(f, countParams)}`,
      countParams,
    ),
  ]);
  const rows = res.rows.map(fillRow);
  return {
    rows,
    total: total.rows[0].n as number,
    nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null,
  };
}

/** fillsCsv yields the CSV of every fill matching the filter, newest first, page by page. */
export async function* fillsCsv(db: Q, f: FillFilter): AsyncGenerator<string> {
  yield "id,client_order_id,symbol,side,qty,price,commission,filled_at\n";
  let before: number | null = null;
  for (;;) {
    const page = await fillsPage(db, f, before, 5000);
    for (const r of page.rows) {
      yield `${[r.id, r.clientOrderId, r.symbol, r.side, r.qty, r.price, r.commission, r.filledAt].map(csvCell).join(",")}\n`;
    }
    if (page.nextBefore === null) return;
    before = page.nextBefore;
  }
}

/** csvCell quotes a cell when needed and defuses spreadsheet formulas (=, +, -, @ first). */
export function csvCell(v: unknown): string {
  let s = String(v);
  if (/^[=+@]/.test(s) || (/^-/.test(s) && !/^-?\d/.test(s))) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function ordersPage(
  db: Q,
  symbol: string | undefined,
  before: number | null,
  limit: number,
) {
  const params: unknown[] = [];
  const parts: string[] = [];
  if (symbol) {
    params.push(symbol);
    parts.push(`symbol = $${params.length}`);
  }
  if (before !== null) {
    params.push(before);
    parts.push(`id < $${params.length}`);
  }
  params.push(limit);
  const res = await db.query(
    `SELECT id, client_order_id, symbol, side, order_type, qty::text, filled_qty::text, status,
            limit_price::text, created_at
       FROM orders WHERE ${parts.length ? parts.join(" AND ") : "true"}
      ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  const rows = res.rows.map((r) => ({
    id: Number(r.id),
    clientOrderId: r.client_order_id as string,
    symbol: r.symbol as string,
    side: r.side as string,
    type: r.order_type as string,
    qty: trimZeros(r.qty),
    filledQty: trimZeros(r.filled_qty),
    status: r.status as string,
    limitPrice: r.limit_price === null ? null : trimZeros(r.limit_price),
    createdAt: new Date(r.created_at).toISOString(),
  }));
  return { rows, nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null };
}

export async function auditTrail(db: Q, clientOrderId: string) {
  const res = await db.query(
    `SELECT id, stage, event_type, from_status, to_status, reason, occurred_at
       FROM order_audit_trail WHERE client_order_id = $1 ORDER BY id`,
    [clientOrderId],
  );
  return res.rows.map((r) => ({
    id: Number(r.id),
    stage: r.stage as string,
    event: r.event_type as string,
    from: r.from_status as string | null,
    to: r.to_status as string | null,
    reason: r.reason as string | null,
    occurredAt: new Date(r.occurred_at).toISOString(),
  }));
}

export interface LimitUse {
  name: string;
  used: number | null;
  limit: number | null;
  unit: string;
  note?: string;
}

/** risk: each of the six limits as used vs limit, the order rate and the reconciliation. */
export async function risk(db: Q, spec: TradingPipeline["spec"] | undefined) {
  const [pos, rs, rate, recon] = (await queries(db, [
    `SELECT symbol, abs(qty)::float8 AS shares,
            abs(qty * coalesce(last_price, avg_entry_price))::float8 AS notional, sector
       FROM positions WHERE qty <> 0`,
    `SELECT daily_realized_pnl::float8 AS daily, value_at_risk_99::float8 AS var99
       FROM risk_state WHERE id = 1`,
    "SELECT count(*)::int AS n FROM orders WHERE created_at > now() - interval '60 seconds'",
    `SELECT event_type, reason, occurred_at FROM order_audit_trail
      WHERE event_type ILIKE '%reconcil%' ORDER BY id DESC LIMIT 1`,
  ])) as [pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult];
  const limits = spec?.risk;
  const rows = pos.rows as Array<{
    symbol: string;
    shares: number;
    notional: number;
    sector: string | null;
  }>;
  const gross = rows.reduce((s, r) => s + r.notional, 0);
  const bySector = new Map<string, number>();
  for (const r of rows)
    bySector.set(r.sector ?? "unknown", (bySector.get(r.sector ?? "unknown") ?? 0) + r.notional);
  const maxSector = gross > 0 ? Math.max(...bySector.values()) / gross : 0;
  const daily = Number(rs.rows[0]?.daily ?? 0);
  const num = (v: unknown) => (v === undefined || v === null ? null : Number(v));
  const uses: LimitUse[] = [
    {
      name: "Position size",
      used: Math.max(0, ...rows.map((r) => r.shares)),
      limit: num(limits?.maxPositionShares),
      unit: "shares",
    },
    {
      name: "Notional per symbol",
      used: Math.max(0, ...rows.map((r) => r.notional)),
      limit: num(limits?.maxNotionalPerSymbol),
      unit: "USD",
    },
    {
      name: "Open positions",
      used: rows.length,
      limit: num(limits?.maxOpenPositions),
      unit: "positions",
    },
    {
      name: "Daily loss",
      used: Math.max(0, -daily),
      limit: num(limits?.maxDailyLoss),
      unit: "USD",
    },
    {
      name: "VaR 99% 1-day",
      used: num(rs.rows[0]?.var99),
      limit: num(limits?.maxVar99),
      unit: "USD",
      ...(rs.rows[0]?.var99 == null ? { note: "not recorded yet by the risk manager" } : {}),
    },
    {
      name: "Sector concentration",
      used: maxSector * 100,
      limit: limits ? Number(limits.maxSectorConcentration) * 100 : null,
      unit: "%",
    },
  ];
  const last = recon.rows[0];
  return {
    limits: uses,
    orderRate: { perMinute: rate.rows[0].n as number, limit: ORDER_RATE_LIMIT_PER_MIN },
    reconciliation: last
      ? {
          status: last.event_type as string,
          detail: last.reason as string | null,
          at: new Date(last.occurred_at).toISOString(),
        }
      : { status: "none recorded", detail: null, at: null },
  };
}

/**
 * The attribution's book per database pool: its ledgers are carried forward from one request
 * to the next (and across restarts, through sql/0015), so a request applies only new fills.
 */
const books = new WeakMap<object, AttributionBook>();

/** attributionBook: the pool's book, made on first use. */
export function attributionBook(db: pg.Pool, log?: (line: string) => void): AttributionBook {
  let book = books.get(db);
  if (!book) {
    book = new AttributionBook(db, log);
    books.set(db, book);
  }
  return book;
}

export async function attribution(db: pg.Pool) {
  const a = await attributionBook(db).attribution();
  const text = (b: Omit<Bucket, "key"> & { key?: string }) => ({
    ...(b.key === undefined ? {} : { key: b.key }),
    realized: centsText(b.realized),
    unrealized: centsText(b.unrealized),
    fees: centsText(b.fees),
    total: centsText(b.total),
  });
  return {
    total: text(a.total),
    bySymbol: a.bySymbol.map(text),
    bySide: a.bySide.map(text),
    bySector: a.bySector.map(text),
    byDay: a.byDay.map(text),
  };
}

/** newFills: fills after `afterId`, ascending, for the stream. */
export async function newFills(db: Q, afterId: number, limit = 1000): Promise<FillRow[]> {
  const res = await db.query(
    `SELECT ${FILL_COLUMNS} FROM fills WHERE id > $1 ORDER BY id LIMIT $2`,
    [afterId, limit],
  );
  return res.rows.map(fillRow);
}

/** stateVersion changes whenever anything the page shows besides fills changes. */
export async function stateVersion(db: Q): Promise<string> {
  const res = await db.query(
    `SELECT (SELECT updated_at FROM risk_state WHERE id = 1)::text AS r,
            (SELECT max(updated_at) FROM orders)::text AS o,
            (SELECT max(updated_at) FROM positions)::text AS p,
            (SELECT max(snapshot_at) FROM portfolio_snapshots)::text AS s,
            (SELECT max(renewed_at) FROM stage_leadership)::text AS l`,
  );
  const r = res.rows[0];
  return `${r.r}|${r.o}|${r.p}|${r.s}|${r.l}`;
}
