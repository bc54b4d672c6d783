/**
 * The fills rollup (sql/0012) Postgres keeps as fills arrive: after a bulk insert, single
 * fills, a statement shaped like the execution engine's batch (a redelivered execution
 * inserting nothing), a commission corrected, a fill moved to another symbol, fills deleted and
 * the table truncated, every (symbol, side) row equals a count over the fills; the dashboard's
 * header and blotter totals read it; and the indexes the stream, the risk panel and the
 * header's buying power need exist.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type pg from "pg";
import { fillsPage, money, summary } from "../../services/dashboard/data.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";
import { addFill, seedPipeline } from "./fixture.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
  await seedPipeline(db.pool, { fills: 3000, snapshots: 10 });
});
after(async () => {
  await db?.drop();
});

async function fullScan(pool: pg.Pool) {
  const r = await pool.query(
    `SELECT symbol, side, count(*)::text AS n, sum(commission)::numeric::text AS commission,
            max(filled_at)::text AS last_filled_at
       FROM fills GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return r.rows;
}

async function rollup(pool: pg.Pool) {
  const r = await pool.query(
    `SELECT symbol, side, n::text, commission::text, last_filled_at::text
       FROM fills_rollup ORDER BY 1, 2`,
  );
  return r.rows;
}

async function assertExact(pool: pg.Pool, when: string) {
  assert.deepEqual(await rollup(pool), await fullScan(pool), `${when}: rollup ≠ full scan`);
}

test("after every kind of write the fills rollup equals a count over the fills", async () => {
  await assertExact(db.pool, "bulk insert");
  for (const [symbol, side] of [
    ["AAPL", "buy"],
    ["NVDA", "sell"],
    ["NVDA", "sell"],
  ] as const)
    await addFill(db.pool, symbol, side);
  await assertExact(db.pool, "single fills");
  // The execution engine's shape: fills inserted inside a larger statement, a redelivered
  // execution id inserting nothing.
  await db.pool.query(
    `WITH filled AS (
       INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, commission,
                          filled_at, fencing_epoch)
       SELECT e, 'ord-' || g, 'TSLA', 'buy', 1, 200, 0.125, now() + make_interval(secs => g), 1
         FROM (VALUES ('tsla-1', 1), ('tsla-2', 2), ('exe-1', 3)) AS v(e, g)
       ON CONFLICT (execution_id) DO NOTHING RETURNING id)
     SELECT count(*) FROM filled`,
  );
  await assertExact(db.pool, "batch with a redelivery");
  await db.pool.query("UPDATE fills SET commission = commission + 1 WHERE id % 100 = 7");
  await assertExact(db.pool, "commissions corrected");
  await db.pool.query("UPDATE fills SET symbol = 'IBM' WHERE id = 12");
  await assertExact(db.pool, "a fill moved to another symbol");
  const before = await rollup(db.pool);
  await db.pool.query("UPDATE fills SET broker_order_id = 'b' WHERE id < 50");
  assert.deepEqual(await rollup(db.pool), before, "other columns change nothing");
  await db.pool.query("DELETE FROM fills WHERE symbol = 'MSFT' AND id % 3 = 0");
  await assertExact(db.pool, "fills deleted");

  // The dashboard's figures read the rollup and equal a count over the fills.
  const counted = await db.pool.query(
    `SELECT count(*)::int AS n, sum(commission)::text AS fees,
            count(*) FILTER (WHERE symbol = 'XOM')::int AS xom,
            count(*) FILTER (WHERE symbol = 'XOM' AND side = 'sell')::int AS xom_sell,
            count(*) FILTER (WHERE side = 'buy')::int AS buys, max(filled_at) AS at FROM fills`,
  );
  const c = counted.rows[0];
  const s = await summary(db.pool, "alpha");
  assert.equal(s.fills, c.n);
  assert.equal(s.lastFillAt, new Date(c.at).toISOString());
  assert.equal(s.pnl.fees, money(c.fees));
  assert.equal((await fillsPage(db.pool, {}, null, 10)).total, c.n);
  assert.equal((await fillsPage(db.pool, { symbol: "XOM" }, null, 10)).total, c.xom);
  assert.equal(
    (await fillsPage(db.pool, { symbol: "XOM", side: "sell" }, null, 10)).total,
    c.xom_sell,
  );
  assert.equal((await fillsPage(db.pool, { side: "buy" }, null, 10)).total, c.buys);

  await db.pool.query("TRUNCATE fills");
  assert.deepEqual(await rollup(db.pool), [], "truncated");
  assert.equal((await summary(db.pool, "alpha")).fills, 0);
});

test("the stages' own roles write fills and snapshots through the rollup triggers", async () => {
  const client = await db.pool.connect();
  try {
    await client.query("SET ROLE tradepipe_execution_engine");
    await client.query(
      `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, commission,
                          filled_at, fencing_epoch)
       VALUES ('as-engine', 'ord-2', 'AAPL', 'sell', 1, 100, 0.5, now(), 1)`,
    );
    await client.query("SET ROLE tradepipe_position_tracker");
    await client.query(
      `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                        unrealized_pnl, fencing_epoch)
       VALUES (now() + interval '1 day', 0, 123, 123, 0, 0, 1)`,
    );
    // A stage cannot write a rollup itself.
    await assert.rejects(client.query("DELETE FROM portfolio_equity_rollup"), /permission denied/);
  } finally {
    await client.query("RESET ROLE");
    client.release();
  }
  await assertExact(db.pool, "written by the stages' roles");
  const r = await db.pool.query(
    "SELECT n::int FROM portfolio_equity_rollup WHERE last_equity = 123 AND width_ms = 86400000",
  );
  assert.deepEqual(r.rows, [{ n: 1 }]);
});

test("a rebuild recomputes what a load with triggers off left behind", async () => {
  await db.pool.query("TRUNCATE fills");
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    await client.query(
      `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, commission,
                          filled_at, fencing_epoch)
       SELECT 'r-' || g, 'ord-1', 'AMD', 'sell', 1, 50, 0.01, now(), 1 FROM generate_series(1, 500) g`,
    );
    await client.query("COMMIT");
  } finally {
    client.release();
  }
  assert.deepEqual(await rollup(db.pool), [], "the triggers did not fire");
  await db.pool.query("SELECT tp_fills_rollup_rebuild()");
  await assertExact(db.pool, "rebuilt");
});

test("the stream's, the risk panel's and the header's queries are served by an index", async () => {
  const client = await db.pool.connect();
  const plan = async (sql: string) =>
    (await client.query(`EXPLAIN ${sql}`)).rows.map((r) => r["QUERY PLAN"]).join("\n");
  // Tables this small are read whole whatever the indexes; the question is whether one fits.
  await client.query("SET enable_seqscan = off");
  try {
    assert.match(await plan("SELECT max(updated_at) FROM orders"), /orders_updated_at_idx/);
    assert.match(
      await plan(
        "SELECT event_type FROM order_audit_trail WHERE event_type ILIKE '%reconcil%' ORDER BY id DESC LIMIT 1",
      ),
      /order_audit_trail_reconciliation_idx/,
    );
    assert.match(
      await plan(
        `SELECT buying_power::text, snapshot_at FROM portfolio_snapshots
          WHERE buying_power IS NOT NULL ORDER BY snapshot_at DESC LIMIT 1`,
      ),
      /portfolio_snapshots_buying_power_idx/,
    );
  } finally {
    await client.query("RESET enable_seqscan");
    client.release();
  }
});
