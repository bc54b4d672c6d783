/**
 * store: the position-tracker's Postgres reads and writes. Reads rebuild the core after a
 * restart (every stored fill, the latest portfolio snapshot); writes (positions upserts,
 * snapshots) are stamped with the leader's fencing epoch and run one at a time in order, off the
 * hot path, so a quote or fill never waits for the database.
 */
import type pg from "pg";
import { isDatabaseUnavailable, isStaleEpochError } from "../core/db/errors.ts";
import { type Fixed, fromDecimal, toDecimal, ZERO } from "../core/money.ts";
import type { Logger } from "../core/telemetry/index.ts";
import {
  averageCost,
  type FillReceived,
  type Position,
  type PositionSnapshot,
} from "./core/index.ts";

const NS_PER_MICRO = 1000n;

/** nsToTimestamp turns nanoseconds since the epoch into a timestamptz literal (µs precision). */
export function nsToTimestamp(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace("Z", `${pad3(ns)}Z`);
}

function pad3(ns: bigint): string {
  return String((ns / NS_PER_MICRO) % 1000n).padStart(3, "0");
}

/**
 * loadStoredFills reads the fills the execution engine recorded after row `afterId` (all when 0),
 * oldest first, as the core's FillReceived with the cumulative quantity per order (what makes
 * replaying them idempotent), and the last row id read.
 */
export async function loadStoredFills(
  db: pg.Pool,
  afterId = 0n,
): Promise<{ fills: FillReceived[]; lastId: bigint }> {
  const { rows } = await db.query<{
    id: string;
    client_order_id: string;
    symbol: string;
    side: "buy" | "sell";
    qty: string;
    price: string;
    filled: string;
    at_us: string;
  }>(
    `SELECT id::text, client_order_id, symbol, side, qty, price, filled, at_us
       FROM (SELECT id, client_order_id, symbol, side, qty, price, filled_at,
                    sum(qty) OVER (PARTITION BY client_order_id ORDER BY filled_at, id) AS filled,
                    (extract(epoch FROM filled_at) * 1000000)::bigint::text AS at_us
               FROM fills) f
      WHERE id > $1
      ORDER BY filled_at, id`,
    [afterId.toString()],
  );
  let lastId = afterId;
  const fills = rows.map((r): FillReceived => {
    const id = BigInt(r.id);
    if (id > lastId) lastId = id;
    return {
      type: "FillReceived",
      timeNs: BigInt(r.at_us) * NS_PER_MICRO,
      clientOrderId: r.client_order_id,
      symbol: r.symbol,
      side: r.side,
      fillQty: fromDecimal(r.qty),
      fillPrice: fromDecimal(r.price),
      filledQty: fromDecimal(r.filled),
    };
  });
  return { fills, lastId };
}

/** loadLastPortfolioSnapshot returns the latest snapshot's peak and alert flag (or null). */
export async function loadLastPortfolioSnapshot(db: pg.Pool): Promise<PositionSnapshot | null> {
  const { rows } = await db.query<{
    at_us: string;
    cash: string | null;
    equity: string | null;
    peak_equity: string | null;
    realized_pnl: string;
    unrealized_pnl: string;
    drawdown_alerted: boolean;
  }>(
    `SELECT (extract(epoch FROM snapshot_at) * 1000000)::bigint::text AS at_us, cash, equity,
            peak_equity, realized_pnl, unrealized_pnl, drawdown_alerted
       FROM portfolio_snapshots ORDER BY snapshot_at DESC LIMIT 1`,
  );
  const r = rows[0];
  if (r === undefined) return null;
  return {
    timeNs: (BigInt(r.at_us) * NS_PER_MICRO).toString(),
    positions: [],
    cash: r.cash,
    equity: r.equity,
    realizedPnl: r.realized_pnl,
    unrealizedPnl: r.unrealized_pnl,
    peakEquity: r.peak_equity,
    drawdownAlerted: r.drawdown_alerted,
  };
}

export interface PositionStore {
  /** upsertPositions writes the current row of each position (queued). */
  upsertPositions(positions: Iterable<Position>, sectorOf: (s: string) => string): void;
  /** writeSnapshot stores one snapshot: a row per position plus the portfolio row (queued). */
  writeSnapshot(
    snapshot: PositionSnapshot,
    positions: Iterable<Position>,
    buyingPower?: Fixed | null,
  ): void;
  /** flush waits for every queued write. */
  flush(): Promise<void>;
  /** stop: writes still waiting for an unavailable database are not retried any more. */
  stop(): void;
}

/** POSITION_STORE_RETRY: backoff of writes the database could not take (down, disk full). */
export const POSITION_STORE_RETRY = { minMs: 250, maxMs: 5_000 };

export function positionStore(db: pg.Pool, epoch: number, log: Logger): PositionStore {
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  let retryMs = POSITION_STORE_RETRY.minMs;
  const retryTimers = new Set<NodeJS.Timeout>();
  /**
   * enqueue runs `write` after the writes before it. One the database cannot take for now (away,
   * or out of disk: isDatabaseUnavailable) is run again with backoff until it can or the store
   * stops, so what it held is not lost until a later write happens to carry it.
   */
  const enqueue = (what: string, write: () => Promise<unknown>) => {
    chain = chain.then(write).then(
      () => {
        retryMs = POSITION_STORE_RETRY.minMs;
      },
      (err: unknown) => {
        const stale = isStaleEpochError(err);
        const retry = isDatabaseUnavailable(err) && !stopped;
        log.error(
          { err: (err as Error).message, staleEpoch: stale, retrying: retry },
          `${what} failed`,
        );
        if (!retry) return;
        const timer = setTimeout(() => {
          retryTimers.delete(timer);
          if (!stopped) enqueue(what, write);
        }, retryMs);
        timer.unref();
        retryTimers.add(timer);
        retryMs = Math.min(retryMs * 2, POSITION_STORE_RETRY.maxMs);
      },
    );
  };
  // The rows of positions not yet written, latest per symbol: a retried upsert writes what the
  // position is now, never an older row over a newer one.
  const unsaved = new Map<string, unknown[]>();
  let upsertQueued = false;
  const upsertUnsaved = async () => {
    upsertQueued = false;
    for (const [symbol, r] of [...unsaved]) {
      await db.query(
        `INSERT INTO positions AS p (symbol, qty, avg_entry_price, last_price, realized_pnl,
                                     unrealized_pnl, sector, opened_at, fencing_epoch)
         VALUES ($1, $2::tp_decimal, $3, $4, $5, $6, $7,
                 CASE WHEN $2::tp_decimal <> 0 THEN now() END, $8)
         ON CONFLICT (symbol) DO UPDATE
            SET qty = EXCLUDED.qty, avg_entry_price = EXCLUDED.avg_entry_price,
                last_price = EXCLUDED.last_price, realized_pnl = EXCLUDED.realized_pnl,
                unrealized_pnl = EXCLUDED.unrealized_pnl, sector = EXCLUDED.sector,
                opened_at = CASE WHEN EXCLUDED.qty = 0 THEN NULL
                                 ELSE coalesce(p.opened_at, now()) END,
                fencing_epoch = EXCLUDED.fencing_epoch`,
        [...r, epoch],
      );
      // A newer row queued while this one was written stays for the next pass.
      if (unsaved.get(symbol) === r) unsaved.delete(symbol);
    }
  };
  return {
    upsertPositions(positions, sectorOf) {
      const rows = [...positions].map((p) => [
        p.symbol,
        toDecimal(p.qty),
        toDecimal(averageCost(p)),
        p.mark === ZERO ? null : toDecimal(p.mark),
        toDecimal(p.realized),
        toDecimal(p.unrealized),
        sectorOf(p.symbol),
      ]);
      if (rows.length === 0) return;
      for (const r of rows) unsaved.set(r[0] as string, r);
      if (upsertQueued) return;
      upsertQueued = true;
      enqueue("positions upsert", upsertUnsaved);
    },
    writeSnapshot(s, positions, buyingPower = null) {
      const at = nsToTimestamp(BigInt(s.timeNs));
      const rows = [...positions]
        .filter((p) => p.qty !== ZERO || p.realized !== ZERO)
        .map((p) => [
          p.symbol,
          toDecimal(p.qty),
          toDecimal(averageCost(p)),
          p.mark === ZERO ? null : toDecimal(p.mark),
          toDecimal(p.marketValue),
          toDecimal(p.realized),
          toDecimal(p.unrealized),
        ]);
      enqueue("snapshot", async () => {
        const client = await db.connect();
        try {
          await client.query("BEGIN");
          for (const r of rows) {
            await client.query(
              `INSERT INTO position_snapshots (snapshot_at, symbol, qty, avg_entry_price,
                  last_price, market_value, realized_pnl, unrealized_pnl, fencing_epoch)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (snapshot_at, symbol) DO NOTHING`,
              [at, ...r, epoch],
            );
          }
          await client.query(
            `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                unrealized_pnl, drawdown_alerted, fencing_epoch, buying_power)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (snapshot_at) DO NOTHING`,
            [
              at,
              s.cash,
              s.equity,
              s.peakEquity,
              s.realizedPnl,
              s.unrealizedPnl,
              s.drawdownAlerted,
              epoch,
              buyingPower === null ? null : toDecimal(buyingPower),
            ],
          );
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw err;
        } finally {
          client.release();
        }
      });
    },
    flush: () => chain,
    stop() {
      stopped = true;
      for (const t of retryTimers) clearTimeout(t);
      retryTimers.clear();
    },
  };
}
