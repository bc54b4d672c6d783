/**
 * store: the risk-manager's Postgres reads and writes. At start it reads the risk_state row (the
 * kill switch columns are the truth for the kill switch; core_state holds halts, breaker and the
 * day's baseline), the orders still working and the tracker's positions. Writes of the
 * risk_state row carry the leader's fencing epoch and never touch the kill switch columns (only
 * tp_set_kill_switch writes those), and run one at a time, off the hot path.
 */
import type pg from "pg";
import { isDatabaseUnavailable, isStaleEpochError } from "../core/db/errors.ts";
import { type Fixed, fromDecimal, toDecimal } from "../core/money.ts";
import type { Logger } from "../core/telemetry/index.ts";
import type { OpenOrderForRisk, PersistedRiskState } from "./core/index.ts";

export interface KillSwitchRow {
  engaged: boolean;
  reason: string;
  changedBy: string;
  changedAtNs: bigint;
}

export interface StoredRiskState {
  killSwitch: KillSwitchRow;
  core: PersistedRiskState | null;
}

const KILL_SWITCH_COLUMNS = `kill_switch_engaged, kill_switch_reason, kill_switch_changed_by,
  (extract(epoch FROM kill_switch_changed_at) * 1000000)::bigint::text AS changed_at_us`;

interface KillSwitchColumns {
  kill_switch_engaged: boolean;
  kill_switch_reason: string | null;
  kill_switch_changed_by: string | null;
  changed_at_us: string | null;
}

function killSwitchOf(r: KillSwitchColumns): KillSwitchRow {
  return {
    engaged: r.kill_switch_engaged,
    reason: r.kill_switch_reason ?? "",
    changedBy: r.kill_switch_changed_by ?? "",
    changedAtNs: r.changed_at_us === null ? 0n : BigInt(r.changed_at_us) * 1000n,
  };
}

export async function loadRiskState(db: pg.Pool): Promise<StoredRiskState> {
  const { rows } = await db.query<KillSwitchColumns & { core_state: PersistedRiskState | null }>(
    `SELECT ${KILL_SWITCH_COLUMNS}, core_state FROM risk_state WHERE id = 1`,
  );
  const r = rows[0];
  if (r === undefined) throw new Error("risk_state has no row (id = 1): is the database migrated?");
  return { killSwitch: killSwitchOf(r), core: r.core_state };
}

/**
 * setKillSwitch engages or releases the kill switch through tp_set_kill_switch: the row is
 * the one source of truth, and the function NOTIFYs every listener.
 */
export async function setKillSwitch(
  db: pg.Pool,
  engaged: boolean,
  reason: string,
  changedBy: string,
): Promise<KillSwitchRow> {
  const { rows } = await db.query<KillSwitchColumns>(
    `SELECT ${KILL_SWITCH_COLUMNS} FROM tp_set_kill_switch($1, $2, $3)`,
    [engaged, reason, changedBy],
  );
  return killSwitchOf(rows[0]!);
}

/** loadOpenOrders: orders the execution engine still has working (their exposure counts). */
export async function loadOpenOrders(db: pg.Pool): Promise<OpenOrderForRisk[]> {
  const { rows } = await db.query<{
    client_order_id: string;
    symbol: string;
    side: "buy" | "sell";
    qty: string;
    filled_qty: string;
  }>(
    `SELECT client_order_id, symbol, side, qty, filled_qty FROM orders
      WHERE status IN ('created', 'submitted', 'new', 'partially_filled') ORDER BY id`,
  );
  return rows.map((r) => ({
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    qty: fromDecimal(r.qty),
    filledQty: fromDecimal(r.filled_qty),
  }));
}

/** loadPositions: the tracker's last stored positions, until its updates arrive. */
export async function loadPositions(
  db: pg.Pool,
): Promise<Array<{ symbol: string; qty: Fixed; price: Fixed }>> {
  const { rows } = await db.query<{ symbol: string; qty: string; price: string }>(
    `SELECT symbol, qty, coalesce(last_price, avg_entry_price) AS price FROM positions
      WHERE qty <> 0 ORDER BY symbol`,
  );
  return rows.map((r) => ({
    symbol: r.symbol,
    qty: fromDecimal(r.qty),
    price: fromDecimal(r.price),
  }));
}

export interface RiskRow {
  core: PersistedRiskState;
  breaker: "closed" | "open" | "half_open";
  /** tradingDay: the trading day as a date (YYYY-MM-DD), or null before the first event. */
  tradingDay: string | null;
  dailyPnl: Fixed;
  equityPeak: Fixed | null;
  /** valueAtRisk99: the book's current one-day 99% VaR, in dollars (cents). */
  valueAtRisk99: Fixed;
}

export interface RiskStore {
  /** write queues an update of the risk_state row (the latest wins if several are queued). */
  write(row: RiskRow): void;
  flush(): Promise<void>;
  /** stop: a row still waiting for an unavailable database is not written any more. */
  stop(): void;
}

/** RISK_STORE_RETRY: backoff of a risk_state write the database could not take (down, disk full). */
export const RISK_STORE_RETRY = { minMs: 250, maxMs: 5_000 };

export function riskStore(db: pg.Pool, epoch: number, log: Logger): RiskStore {
  let chain: Promise<void> = Promise.resolve();
  let pending: RiskRow | null = null;
  let queued = false;
  let stopped = false;
  let retryMs = RISK_STORE_RETRY.minMs;
  let retryTimer: NodeJS.Timeout | undefined;
  const writeLatest = async () => {
    queued = false;
    const row = pending;
    pending = null;
    if (row === null) return;
    try {
      await db.query(
        `UPDATE risk_state
            SET core_state = $1,
                circuit_changed_at = CASE WHEN circuit_state IS DISTINCT FROM $2
                                          THEN now() ELSE circuit_changed_at END,
                circuit_state = $2,
                trading_day = $3::date,
                daily_realized_pnl = $4,
                equity_peak = coalesce($5, equity_peak),
                fencing_epoch = $6,
                value_at_risk_99 = $7
          WHERE id = 1`,
        [
          JSON.stringify(row.core),
          row.breaker,
          row.tradingDay,
          toDecimal(row.dailyPnl),
          row.equityPeak === null ? null : toDecimal(row.equityPeak),
          epoch,
          toDecimal(row.valueAtRisk99),
        ],
      );
      retryMs = RISK_STORE_RETRY.minMs;
    } catch (err) {
      const unavailable = isDatabaseUnavailable(err);
      log.error(
        { err: (err as Error).message, staleEpoch: isStaleEpochError(err), retrying: unavailable },
        "risk_state write failed",
      );
      // A database that is away or out of disk takes the row later: it is kept (unless a newer
      // one came meanwhile) and written again with backoff, not dropped until the next change.
      if (unavailable && !stopped) {
        pending ??= row;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(enqueue, retryMs);
        retryTimer.unref();
        retryMs = Math.min(retryMs * 2, RISK_STORE_RETRY.maxMs);
      }
    }
  };
  const enqueue = () => {
    if (queued || pending === null || stopped) return;
    queued = true;
    chain = chain.then(writeLatest);
  };
  return {
    write(row) {
      pending = row;
      enqueue();
    },
    flush: () => chain,
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
    },
  };
}
