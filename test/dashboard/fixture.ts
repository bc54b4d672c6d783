/**
 * fixture: a pipeline's database as the stages leave it, for the dashboard's tests and
 * benchmark: every stage led at epoch 1, orders with their audit trail, fills, positions, the
 * risk state and an equity curve. Bulk rows are made by generate_series so 100k fills take
 * seconds.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { writeParquet } from "../../services/backtest/catalog/parquet.ts";
import { hashToken, parseTokenFile } from "../../services/dashboard/auth.ts";
import { type DashboardOptions, startDashboard } from "../../services/dashboard/server.ts";

/** Two users of the tests: vera (viewer) and olga (operator), with the tokens below. */
export const VIEWER_TOKEN = "viewer-token-123";
export const OPERATOR_TOKEN = "operator-token-456";
export const TEST_TOKENS = parseTokenFile(
  `viewer vera ${hashToken(VIEWER_TOKEN).toString("hex")}\noperator olga ${hashToken(OPERATOR_TOKEN).toString("hex")}\n`,
  "tokens",
);

/** dashboardOn serves pipeline "alpha" of `pool` on a free loopback port. */
export function dashboardOn(pool: pg.Pool, more: Partial<DashboardOptions> = {}) {
  return startDashboard({ pool, host: "127.0.0.1", port: 0, pipelineName: "alpha", ...more });
}

export const STAGES = [
  "market-data",
  "signal-bridge",
  "risk-manager",
  "execution-engine",
  "position-tracker",
];
const SYMBOLS = ["AAPL", "MSFT", "XOM", "JPM"];

export async function seedPipeline(
  pool: pg.Pool,
  opts: { fills: number; snapshots: number } = { fills: 40, snapshots: 500 },
): Promise<void> {
  const values = STAGES.map((s) => `('${s}', 'host-a', 1)`).join(", ");
  await pool.query(`INSERT INTO stage_leadership (stage, holder, epoch) VALUES ${values}`);
  // One order per fill; symbols and sides cycle so every bucket of every dimension has rows.
  await pool.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, status,
                         filled_qty, fencing_epoch, created_at)
     SELECT 'ord-' || g, 'cor-' || g, ($2::text[])[1 + g % 4],
            CASE WHEN (g / 4) % 3 = 2 THEN 'sell' ELSE 'buy' END, 'market', 10, 'filled', 10, 1,
            now() - make_interval(secs => ($1 - g) * 60)
       FROM generate_series(1, $1) g`,
    [opts.fills, SYMBOLS],
  );
  await pool.query(
    `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, commission,
                        filled_at, fencing_epoch)
     SELECT 'exe-' || o.id, o.client_order_id, o.symbol, o.side, 10,
            100 + (o.id % 17) * 0.37 + CASE o.symbol WHEN 'XOM' THEN 0.005 ELSE 0 END,
            round((o.id % 7) * 0.013, 3), o.created_at + interval '1 second', 1
       FROM orders o ORDER BY o.id`,
  );
  await pool.query(
    `INSERT INTO order_audit_trail (stage, event_type, correlation_id, client_order_id, symbol,
                                    from_status, to_status, reason, occurred_at, fencing_epoch)
     SELECT st.stage, st.ev, o.correlation_id, o.client_order_id, o.symbol, st.f, st.t, st.r,
            o.created_at + st.d, 1
       FROM orders o
       CROSS JOIN (VALUES ('risk-manager', 'approved', NULL, NULL, 'within limits', interval '0'),
                          ('execution-engine', 'submitted', 'created', 'submitted', NULL, interval '0.2 s'),
                          ('execution-engine', 'filled', 'submitted', 'filled', NULL, interval '1 s'))
            AS st(stage, ev, f, t, r, d)
      WHERE o.id <= 200`,
  );
  await pool.query(
    `INSERT INTO positions (symbol, qty, avg_entry_price, last_price, realized_pnl, unrealized_pnl,
                            sector, fencing_epoch)
     VALUES ('AAPL', 30, 101.25, 103.5, 12.5, 67.5, 'Technology', 1),
            ('MSFT', -20, 102, 101, -3.25, 20, 'Technology', 1),
            ('XOM', 15, 99.125, 98.005, 4.333, -16.8, 'Energy', 1),
            ('JPM', 0, 0, 100, 7.777, 0, 'Financials', 1)`,
  );
  await pool.query(
    `UPDATE risk_state SET daily_realized_pnl = -120.5, fencing_epoch = 1, circuit_state = 'closed',
                           value_at_risk_99 = 1834.27`,
  );
  await pool.query(
    `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                      unrealized_pnl, fencing_epoch)
     SELECT at, 50000, equity, max(equity) OVER (ORDER BY g), 0, 0, 1
       FROM (SELECT g, now() - make_interval(secs => ($1 - g)) AS at,
                    round((100000 + 500 * sin(g / 40.0) - g * 0.01)::numeric, 2) AS equity
               FROM generate_series(1, $1) g) curve`,
    [opts.snapshots],
  );
  // The broker's buying power, as the position tracker records it at a reconciliation.
  await pool.query(
    `UPDATE portfolio_snapshots SET buying_power = 187654.329
      WHERE snapshot_at = (SELECT max(snapshot_at) FROM portfolio_snapshots)`,
  );
}

let fillCounter = 0;

/** addFill writes one order and its fill as the execution engine would; returns the fill id. */
export async function addFill(pool: pg.Pool, symbol = "AAPL", side = "buy"): Promise<number> {
  fillCounter += 1;
  const id = `live-${process.pid}-${fillCounter}-${Date.now()}`;
  await pool.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, status,
                         filled_qty, fencing_epoch)
     VALUES ($1, $1, $2, $3, 'market', 1, 'filled', 1, 1)`,
    [id, symbol, side],
  );
  const r = await pool.query(
    `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, commission,
                        filled_at, fencing_epoch)
     VALUES ($1, $1, $2, $3, 1, 101.5, 0.01, now(), 1) RETURNING id`,
    [id, symbol, side],
  );
  return Number(r.rows[0].id);
}

/**
 * writeBacktestRun writes a backtest output directory as `tradepipe backtest --out root/name`
 * leaves it, as far as the dashboard reads it: tearsheet.html and equity.parquet (t_ns, equity,
 * gross_exposure) with equity `equity[i]` at epoch milliseconds `times[i]`.
 */
export function writeBacktestRun(
  root: string,
  name: string,
  times: readonly number[],
  equity: readonly number[],
): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, "tearsheet.html"), "<!doctype html><title>run</title>");
  writeParquet(join(root, name, "equity.parquet"), [
    { name: "t_ns", type: "INT64", data: times.map((t) => BigInt(t) * 1_000_000n) },
    { name: "equity", type: "DOUBLE", data: equity },
    { name: "gross_exposure", type: "DOUBLE", data: equity.map(() => 0) },
  ]);
}

/** listenFor collects the payloads NOTIFYed on `channel` until end(). */
export async function listenFor(
  url: string,
  channel: string,
): Promise<{ notices: string[]; end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  const notices: string[] = [];
  client.on("notification", (n) => notices.push(n.payload ?? ""));
  await client.query(`LISTEN ${channel}`);
  return { notices, end: () => client.end() };
}
