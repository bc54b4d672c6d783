/**
 * store is the execution engine's Postgres persistence: `order_audit_trail` (append-only),
 * `orders` and `fills`, every write stamped with the instance's fencing epoch, and the reads a
 * restart needs. A batch of audit records, the order rows they change and the fills they record
 * is ONE statement (data-modifying CTEs): a single round trip, committed as a whole, so the
 * orders table and the fills can never run ahead of the audit trail or each other.
 */
import type pg from "pg";
import { div, fromDecimal, min, mul, toDecimal } from "../core/money.ts";
import type { AuditRecord, Order, OrderStatus } from "./core/index.ts";
import { type ExecutionRow, fillRowsOf } from "./fill-rows.ts";

export const STAGE = "execution-engine";

/**
 * AuditWrite: one audit record with its order as it stood after the step that made it, and the
 * order's broker executions (FILL activities) when its fill has a gap (`fill-rows.ts`): null
 * when they could not be fetched.
 */
export interface AuditWrite {
  record: AuditRecord;
  order: Order;
  executions?: readonly ExecutionRow[] | null;
}

const DB_STATUS: Readonly<Record<OrderStatus, string>> = {
  Created: "created",
  Submitted: "submitted",
  New: "new",
  PartiallyFilled: "partially_filled",
  Filled: "filled",
  Cancelled: "cancelled",
  Rejected: "rejected",
  Expired: "expired",
  // The schema has no 'replaced'; this engine never replaces orders (README: Shell).
  Replaced: "cancelled",
};

const CORE_STATUS: Readonly<Record<string, OrderStatus>> = {
  created: "Created",
  submitted: "Submitted",
  new: "New",
  partially_filled: "PartiallyFilled",
  filled: "Filled",
  cancelled: "Cancelled",
  rejected: "Rejected",
  expired: "Expired",
};

export const OPEN_DB_STATUSES = ["created", "submitted", "new", "partially_filled"] as const;

const WRITE_BATCH = `
WITH audit AS (
  INSERT INTO order_audit_trail (stage, event_type, correlation_id, client_order_id,
    broker_order_id, symbol, from_status, to_status, reason, payload, occurred_at, fencing_epoch)
  SELECT $4, a.event_type, a.correlation_id, a.client_order_id, a.broker_order_id, a.symbol,
         a.from_status, a.to_status, a.reason, a.payload,
         to_timestamp(a.occurred_us / 1e6), $3
    FROM jsonb_to_recordset($1::jsonb) AS a(event_type text, correlation_id text,
         client_order_id text, broker_order_id text, symbol text, from_status text,
         to_status text, reason text, payload jsonb, occurred_us numeric, n bigint)
   -- Idempotent: a record replayed from the journal that is already stored is not added again.
   WHERE NOT EXISTS (
         SELECT 1 FROM order_audit_trail x
          WHERE x.client_order_id = a.client_order_id AND x.stage = $4
            AND x.event_type = a.event_type AND x.payload->'seq' = a.payload->'seq')
   ORDER BY n
  RETURNING id
), upserted AS (
  INSERT INTO orders AS o (client_order_id, broker_order_id, signal_id, correlation_id, symbol,
    side, order_type, time_in_force, qty, limit_price, status, filled_qty, filled_avg_price,
    reject_reason, fencing_epoch, submitted_at)
  SELECT r.client_order_id, r.broker_order_id, r.signal_id, r.correlation_id, r.symbol, r.side,
         r.order_type, r.time_in_force, r.qty, r.limit_price, r.status, r.filled_qty,
         r.filled_avg_price, r.reject_reason, $3,
         CASE WHEN r.status <> 'created' THEN now() END
    FROM jsonb_to_recordset($2::jsonb) AS r(client_order_id text, broker_order_id text,
         signal_id text, correlation_id text, symbol text, side text, order_type text,
         time_in_force text, qty numeric, limit_price numeric, status text, filled_qty numeric,
         filled_avg_price numeric, reject_reason text)
  ON CONFLICT (client_order_id) DO UPDATE
     SET broker_order_id = coalesce(EXCLUDED.broker_order_id, o.broker_order_id),
         status = EXCLUDED.status,
         filled_qty = EXCLUDED.filled_qty,
         filled_avg_price = EXCLUDED.filled_avg_price,
         reject_reason = coalesce(EXCLUDED.reject_reason, o.reject_reason),
         submitted_at = coalesce(o.submitted_at, EXCLUDED.submitted_at),
         fencing_epoch = EXCLUDED.fencing_epoch
   -- A journal of an older term replayed late never overwrites what a newer term stored.
   WHERE o.fencing_epoch <= $6
  RETURNING id
), filled AS (
  INSERT INTO fills (execution_id, client_order_id, broker_order_id, symbol, side, qty, price,
    filled_at, fencing_epoch)
  SELECT f.execution_id, f.client_order_id, f.broker_order_id, f.symbol, f.side, f.qty, f.price,
         to_timestamp(f.filled_us / 1e6), $3
    FROM jsonb_to_recordset($5::jsonb) AS f(execution_id text, client_order_id text,
         broker_order_id text, symbol text, side text, qty numeric, price numeric,
         filled_us numeric, late boolean, cumulative numeric)
   -- A late execution of an order whose gap was written as one synthesized row is in that row.
   WHERE (NOT f.late OR NOT EXISTS (
         SELECT 1 FROM fills x
          WHERE x.client_order_id = f.client_order_id
            AND left(x.execution_id, length(f.client_order_id) + 1) = f.client_order_id || '@'))
     -- A synthesized gap row whose quantity the stored executions already hold is not written
     -- (a journal replayed after the executions themselves were stored).
     AND (f.cumulative IS NULL OR f.qty + (
         SELECT coalesce(sum(x.qty), 0) FROM fills x
          WHERE x.client_order_id = f.client_order_id) <= f.cumulative)
  ON CONFLICT (execution_id) DO NOTHING
  RETURNING id
)
SELECT (SELECT count(*) FROM audit) AS audits, (SELECT count(*) FROM filled) AS fills`;

const usOf = (ns: bigint) => (ns / 1000n).toString();

/** ExecutionStore writes and reads the engine's tables under one fencing epoch. */
export class ExecutionStore {
  readonly #db: pg.Pool;
  readonly epoch: number;

  constructor(db: pg.Pool, epoch: number) {
    this.#db = db;
    this.epoch = epoch;
  }

  /**
   * writeBatch appends the audit records in order, upserts each touched order's latest row and
   * inserts the fills among them, in one statement. Returns the fills newly inserted.
   * Idempotent: records already stored (same order, event and seq) and fills already stored
   * are skipped, so a journal can be replayed. `snapshotEpoch`: the term whose writes these
   * are (older when replaying an old journal): an order row a newer term wrote is kept.
   * `latest`: the order rows to write instead of the ones these writes end at (a journal
   * replayed in several batches writes each order's final row from its first batch on).
   */
  async writeBatch(
    writes: readonly AuditWrite[],
    snapshotEpoch = this.epoch,
    latest?: LatestOrderRows,
  ): Promise<number> {
    const audits: unknown[] = [];
    const fills: unknown[] = [];
    for (const { record, order, executions } of writes) {
      audits.push({
        event_type: record.event,
        correlation_id: record.correlationId,
        client_order_id: record.clientOrderId,
        broker_order_id: order.brokerOrderId,
        symbol: order.symbol,
        from_status: record.fromStatus === null ? null : DB_STATUS[record.fromStatus],
        to_status: record.toStatus === null ? null : DB_STATUS[record.toStatus],
        reason: record.detail.reason ?? record.detail.failure ?? record.detail.cause ?? null,
        payload: { seq: record.seq, attempt: record.attempt, ...record.detail },
        occurred_us: usOf(record.timeNs),
        n: audits.length,
      });
      fills.push(...fillRowsOf(record, order, executions));
    }
    const own = latestOrderRows(writes);
    const rows = [...own.keys()].map((id) => latest?.get(id) ?? own.get(id)!);
    // A named statement is parsed and planned once per connection, not on every batch.
    const r = await this.#db.query<{ audits: string; fills: string }>({
      name: "tp_execution_write_batch",
      text: WRITE_BATCH,
      values: [
        JSON.stringify(audits),
        JSON.stringify(rows),
        this.epoch,
        STAGE,
        JSON.stringify(fills),
        snapshotEpoch,
      ],
    });
    return Number(r.rows[0]?.fills ?? 0);
  }

  /**
   * databaseIdentity names the database the rows go to (its cluster's system identifier, which
   * a Patroni standby shares, and its name): a journal is replayed only into its own database.
   */
  async databaseIdentity(): Promise<string> {
    try {
      const r = await this.#db.query<{ id: string }>(
        "SELECT system_identifier::text || '/' || current_database() AS id FROM pg_control_system()",
      );
      return r.rows[0]!.id;
    } catch {
      const r = await this.#db.query<{ id: string }>("SELECT current_database() AS id");
      return r.rows[0]!.id;
    }
  }

  /**
   * lastDurableNs: commit time of the newest audit row of this stage (0 when none). Orders sent
   * after it may be missing from Postgres when the journal that held them is gone.
   */
  async lastDurableNs(): Promise<bigint> {
    const r = await this.#db.query<{ us: string | null }>(
      `SELECT (extract(epoch FROM max(created_at)) * 1e6)::bigint AS us
         FROM order_audit_trail WHERE stage = $1`,
      [STAGE],
    );
    const us = r.rows[0]?.us;
    return us === null || us === undefined ? 0n : BigInt(us) * 1000n;
  }

  /** lastSeq: the highest audit `seq` this stage stored (0 when none). */
  async lastSeq(): Promise<number> {
    const seq = await this.#db.query<{ seq: string | null }>(
      // The newest rows, not the last one: a journal of an older term replayed at start may
      // have been stored after rows with higher sequence numbers.
      `SELECT max((payload->>'seq')::bigint) AS seq FROM (
         SELECT payload FROM order_audit_trail
          WHERE stage = $1 AND payload ? 'seq' ORDER BY id DESC LIMIT 10000) recent`,
      [STAGE],
    );
    return Number(seq.rows[0]?.seq ?? 0);
  }

  /** netFilled: per symbol, the net quantity (buys − sells) of the fills of orders with `prefix`. */
  async netFilled(prefix: string): Promise<Map<string, bigint>> {
    const r = await this.#db.query<{ symbol: string; qty: string }>(
      `SELECT symbol, sum(CASE WHEN side = 'sell' THEN -qty ELSE qty END)::text AS qty
         FROM fills WHERE starts_with(client_order_id, $1) GROUP BY symbol`,
      [prefix],
    );
    return new Map(r.rows.map((x) => [x.symbol, fromDecimal(x.qty)]));
  }

  /** knownOrders: which of `ids` have an `orders` row. */
  async knownOrders(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const r = await this.#db.query<{ id: string }>(
      "SELECT client_order_id AS id FROM orders WHERE client_order_id = ANY($1::text[])",
      [ids],
    );
    return new Set(r.rows.map((x) => x.id));
  }

  /** killSwitchEngaged reads the risk manager's persisted kill switch. */
  async killSwitchEngaged(): Promise<boolean> {
    const r = await this.#db.query<{ engaged: boolean }>(
      "SELECT kill_switch_engaged AS engaged FROM risk_state WHERE id = 1",
    );
    return r.rows[0]?.engaged === true;
  }

  /**
   * loadOrders rebuilds the core's orders: every unfinished one plus the `finishedLimit` most
   * recently finished (to absorb late duplicates), with the intent's decision price and the
   * highest attempt from the audit trail; and the last audit sequence the core used.
   */
  async loadOrders(finishedLimit: number): Promise<{ orders: Order[]; lastSeq: number }> {
    const r = await this.#db.query<OrderRow>(LOAD_ORDERS, [OPEN_DB_STATUSES, finishedLimit, STAGE]);
    return { orders: r.rows.map(orderFromRow), lastSeq: await this.lastSeq() };
  }
}

const LOAD_ORDERS = `
SELECT o.*, (extract(epoch FROM o.created_at) * 1e6)::bigint AS created_us,
       (extract(epoch FROM o.updated_at) * 1e6)::bigint AS updated_us,
       i.payload->>'decisionPrice' AS decision_price,
       coalesce(att.attempt, 0) AS attempts
  FROM (
    SELECT * FROM orders WHERE status = ANY($1::text[])
    UNION ALL
    (SELECT * FROM orders WHERE NOT (status = ANY($1::text[])) ORDER BY updated_at DESC LIMIT $2)
  ) o
  LEFT JOIN LATERAL (
    SELECT payload FROM order_audit_trail a
     WHERE a.client_order_id = o.client_order_id AND a.stage = $3 AND a.event_type = 'intent'
     ORDER BY a.id LIMIT 1) i ON true
  LEFT JOIN LATERAL (
    SELECT max((payload->>'attempt')::int) AS attempt FROM order_audit_trail a
     WHERE a.client_order_id = o.client_order_id AND a.stage = $3) att ON true
 ORDER BY o.updated_at, o.id`;

interface OrderRow {
  client_order_id: string;
  broker_order_id: string | null;
  signal_id: string | null;
  correlation_id: string;
  symbol: string;
  side: "buy" | "sell";
  order_type: string;
  time_in_force: string;
  qty: string;
  limit_price: string | null;
  status: string;
  filled_qty: string;
  filled_avg_price: string | null;
  reject_reason: string | null;
  created_us: string;
  updated_us: string;
  decision_price: string | null;
  attempts: number;
}

/** LatestOrderRows: each order's row as the last of a run of audit writes left it. */
export type LatestOrderRows = ReadonlyMap<string, ReturnType<typeof orderRow>>;

/**
 * latestOrderRows: the row of each order the writes touch, as its last write left it (with the
 * reason of its rejection among them).
 */
export function latestOrderRows(writes: readonly AuditWrite[]): LatestOrderRows {
  const orders = new Map<string, Order>();
  const reasons = new Map<string, string>();
  for (const { record, order } of writes) {
    orders.set(order.clientOrderId, order);
    if (record.toStatus === "Rejected" && record.fromStatus !== "Rejected") {
      reasons.set(order.clientOrderId, record.detail.reason ?? record.detail.message ?? "");
    }
  }
  const rows = new Map<string, ReturnType<typeof orderRow>>();
  for (const [id, o] of orders) rows.set(id, orderRow(o, reasons.get(id)));
  return rows;
}

function orderRow(o: Order, rejectReason: string | undefined) {
  return {
    client_order_id: o.clientOrderId,
    broker_order_id: o.brokerOrderId,
    signal_id: o.signalId,
    correlation_id: o.correlationId,
    symbol: o.symbol,
    side: o.side,
    order_type: o.orderType,
    time_in_force: o.timeInForce,
    qty: toDecimal(o.qty),
    limit_price: o.limitPrice === null ? null : toDecimal(o.limitPrice),
    status: DB_STATUS[o.status],
    // IMPORTANT: the schema caps filled_qty at qty; an overfill is reported by the core and
    // the fills table keeps every execution.
    filled_qty: toDecimal(min(o.filledQty, o.qty)),
    filled_avg_price: o.filledQty > 0n ? toDecimal(div(o.filledNotional, o.filledQty)) : null,
    reject_reason: o.status === "Replaced" ? "replaced" : (rejectReason ?? null),
  };
}

function orderFromRow(r: OrderRow): Order {
  const filledQty = fromDecimal(r.filled_qty);
  const avg = r.filled_avg_price === null ? 0n : fromDecimal(r.filled_avg_price);
  const limitPrice = r.limit_price === null ? null : fromDecimal(r.limit_price);
  return {
    clientOrderId: r.client_order_id,
    signalId: r.signal_id ?? "",
    correlationId: r.correlation_id,
    symbol: r.symbol,
    side: r.side,
    qty: fromDecimal(r.qty),
    orderType: r.order_type === "limit" ? "limit" : "market",
    limitPrice,
    timeInForce: (["day", "gtc", "ioc", "fok"].includes(r.time_in_force)
      ? r.time_in_force
      : "day") as Order["timeInForce"],
    decisionPrice:
      r.decision_price !== null && r.decision_price !== ""
        ? fromDecimal(r.decision_price)
        : (limitPrice ?? 0n),
    status: CORE_STATUS[r.status] ?? "Submitted",
    brokerOrderId: r.broker_order_id,
    filledQty,
    filledNotional: mul(filledQty, avg),
    attempts: Number(r.attempts),
    awaiting: "none",
    cancelRequested: false,
    createdNs: BigInt(r.created_us) * 1000n,
    updatedNs: BigInt(r.updated_us) * 1000n,
  };
}
