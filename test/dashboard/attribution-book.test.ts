/**
 * The attribution carried forward over a real Postgres (services/dashboard/attribution-book.ts):
 * fills arrive in random batches from concurrent writers, one of them committing a fill with a
 * lower id (and an earlier time) after the dashboard read past it; the dashboard restarts in
 * between. After every step its figures equal a full replay of the committed fills, a restart
 * reads only the fills since its saved state, and a lost or stale state is replayed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type pg from "pg";
import { mulberry32 as rng } from "../../services/core/random.ts";
import { type LedgerFill, replayLedgers, split } from "../../services/dashboard/attribution.ts";
import { AttributionBook } from "../../services/dashboard/attribution-book.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
  await db.pool.query(
    `INSERT INTO positions (symbol, qty, avg_entry_price, last_price, realized_pnl, unrealized_pnl,
                            sector, fencing_epoch)
     VALUES ('AAPL', 0, 0, 103.5, 0, 0, 'Technology', 0), ('XOM', 0, 0, 98.005, 0, 0, 'Energy', 0),
            ('JPM', 0, 0, 100.25, 0, 0, 'Financials', 0)`,
  );
});
after(async () => {
  await db?.drop();
});

const SYMBOLS = ["AAPL", "XOM", "JPM", "MSFT"];
let serial = 0;

interface NewFill {
  symbol: string;
  side: "buy" | "sell";
  qty: string;
  price: string;
  commission: string;
  /** Minutes after 2026-03-02 00:00 UTC, plus a few microseconds to make ties rare but real. */
  minute: number;
}

function randomFill(r: () => number, minute: number): NewFill {
  return {
    symbol: SYMBOLS[Math.floor(r() * SYMBOLS.length)]!,
    side: r() < 0.5 ? "buy" : "sell",
    qty: String(1 + Math.floor(r() * 50)) + (r() < 0.2 ? ".25" : ""),
    price: (50 + r() * 100).toFixed(4),
    commission: (r() * 0.05).toFixed(6),
    minute,
  };
}

/** insertFills writes the fills (and their orders) as one statement each, in `q`'s transaction. */
async function insertFills(q: Pick<pg.PoolClient, "query">, fills: NewFill[]): Promise<void> {
  const ids = fills.map((_, i) => `ab-${process.pid}-${serial + i}`);
  serial += fills.length;
  await q.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, status,
                         filled_qty, fencing_epoch)
     SELECT u.id, u.id, u.symbol, u.side, 'market', 1, 'filled', 1, 0
       FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, symbol, side)`,
    [ids, fills.map((f) => f.symbol), fills.map((f) => f.side)],
  );
  await q.query(
    `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, commission,
                        filled_at, fencing_epoch)
     SELECT u.id, u.id, u.symbol, u.side, u.qty, u.price, u.commission,
            timestamptz '2026-03-02T00:00:00Z' + make_interval(mins => u.minute) + interval '7 microseconds', 0
       FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::numeric[], $7::int[])
            AS u(id, symbol, side, qty, price, commission, minute)`,
    [
      ids,
      fills.map((f) => f.symbol),
      fills.map((f) => f.side),
      fills.map((f) => f.qty),
      fills.map((f) => f.price),
      fills.map((f) => f.commission),
      fills.map((f) => f.minute),
    ],
  );
}

/** fullReplay: every committed fill replayed from nothing, split with the same marks. */
async function fullReplay(pool: pg.Pool) {
  const res = await pool.query(
    `SELECT id, symbol, side, qty::text, price::text, commission::text,
            (extract(epoch FROM filled_at) * 1000000)::bigint::text AS at_us FROM fills`,
  );
  const fills: LedgerFill[] = res.rows.map((r) => ({
    id: Number(r.id),
    atUs: BigInt(r.at_us),
    symbol: r.symbol,
    side: r.side,
    qty: r.qty,
    price: r.price,
    commission: r.commission,
  }));
  const marks = { AAPL: "103.500000000", XOM: "98.005000000", JPM: "100.250000000" };
  const sectors = { AAPL: "Technology", XOM: "Energy", JPM: "Financials" };
  return split(replayLedgers(new Map(), fills), {
    marks,
    sectors,
    asOfDay: new Date().toISOString().slice(0, 10),
  });
}

test("random batches from concurrent writers, a late commit with a lower id, restarts: always a full replay's figures", async () => {
  const r = rng(12);
  let book = new AttributionBook(db.pool);
  let minute = 0;
  let lateSeen = 0;
  for (let step = 0; step < 24; step += 1) {
    const late = step % 3 === 1;
    if (late) {
      // A writer takes an id and holds its transaction open; another commits later ids; the
      // dashboard reads past them; then the first commits (its fill is also earlier in time).
      const slow = await db.pool.connect();
      try {
        await slow.query("BEGIN");
        await insertFills(slow, [randomFill(r, minute - 30)]);
        const slowId = Number((await slow.query("SELECT max(id) AS id FROM fills")).rows[0].id);
        await insertFills(db.pool, [randomFill(r, minute + 1), randomFill(r, minute + 2)]);
        minute += 2;
        await book.refresh();
        assert.deepEqual(await book.attribution(), await fullReplay(db.pool));
        await slow.query("COMMIT");
        const maxId = Number((await db.pool.query("SELECT max(id) AS id FROM fills")).rows[0].id);
        assert.ok(slowId < maxId, "the late fill has a lower id than one read before it");
        lateSeen += 1;
      } finally {
        slow.release();
      }
    } else {
      const n = 1 + Math.floor(r() * 40);
      const batch: NewFill[] = [];
      for (let i = 0; i < n; i += 1) {
        minute += Math.floor(r() * 3);
        batch.push(randomFill(r, minute));
      }
      await insertFills(db.pool, batch);
    }
    const stats = await book.refresh();
    if (late) assert.ok(stats.symbolsReplayed.length > 0, "the late fill's symbol is replayed");
    else assert.deepEqual(stats.symbolsReplayed, [], "new fills in order only extend");
    assert.deepEqual(await book.attribution(), await fullReplay(db.pool), `step ${step}`);
    if (r() < 0.3) {
      // A restart: a new book starts from the saved state, reads no fill when none came since.
      await book.idle();
      book = new AttributionBook(db.pool);
      const again = await book.refresh();
      assert.ok(again.symbolsLoaded > 0);
      assert.equal(again.fillsRead, 0, "a restart with nothing new reads no fill");
      assert.deepEqual(
        await book.attribution(),
        await fullReplay(db.pool),
        `step ${step}, restarted`,
      );
    }
  }
  assert.ok(lateSeen > 0);
});

test("a restart reads only the fills committed while it was down", async () => {
  const r = rng(7);
  const first = new AttributionBook(db.pool);
  await first.refresh();
  await first.idle();
  const maxMinute = 100_000;
  await insertFills(db.pool, [randomFill(r, maxMinute), randomFill(r, maxMinute + 1)]);
  const second = new AttributionBook(db.pool);
  const stats = await second.refresh();
  assert.equal(stats.fillsRead, 2);
  assert.deepEqual(await second.attribution(), await fullReplay(db.pool));
});

test("a lost or stale saved state is replayed, never used", async () => {
  const r = rng(3);
  // Stale: AAPL's saved state from before two of its fills, while the others' states are
  // past them (so the fills are below the restarted book's watermark).
  const book = new AttributionBook(db.pool);
  await book.refresh();
  const saved = await db.pool.query("SELECT symbol, state FROM dashboard_attribution");
  await insertFills(db.pool, [
    { ...randomFill(r, 200_000), symbol: "AAPL" },
    { ...randomFill(r, 200_001), symbol: "AAPL" },
    { ...randomFill(r, 200_002), symbol: "JPM" },
  ]);
  await book.refresh();
  await db.pool.query(
    `UPDATE dashboard_attribution d SET state = s.state
       FROM unnest($1::text[], $2::jsonb[]) AS s(symbol, state)
      WHERE d.symbol = s.symbol AND s.symbol = 'AAPL'`,
    [saved.rows.map((x) => x.symbol), saved.rows.map((x) => JSON.stringify(x.state))],
  );
  // Damaged: XOM's row is not a state any more.
  await db.pool.query(`UPDATE dashboard_attribution SET state = '{"v": 1}' WHERE symbol = 'XOM'`);
  const restarted = new AttributionBook(db.pool);
  const stats = await restarted.refresh();
  assert.deepEqual(stats.symbolsReplayed, ["AAPL", "XOM"]);
  assert.deepEqual(await restarted.attribution(), await fullReplay(db.pool));
  // Lost: no saved state at all is a full replay.
  await db.pool.query("DELETE FROM dashboard_attribution");
  const fresh = new AttributionBook(db.pool);
  assert.deepEqual(await fresh.attribution(), await fullReplay(db.pool));
});
