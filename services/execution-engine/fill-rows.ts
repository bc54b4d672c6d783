/**
 * fill-rows decides which `fills` rows an audit record leaves: one row per broker execution,
 * never a merged one.
 *
 * - A trade update carries its own execution (id, qty, price): that execution is one row, also
 *   when it arrives after a later one already raised the order's cumulative quantity.
 * - Quantity the order filled that no execution in hand accounts for (a fill learnt from a
 *   lookup after a restart, or an update whose cumulative figure skips executions never
 *   received) is a *gap*. The shell fetches the order's FILL account activities for it
 *   (`fetchExecutions`), and each becomes its own row, keyed by its execution id, so the stream's
 *   rows and the activities' rows of one execution are one row.
 * - Only when the activities cannot be fetched (or do not yet cover the order's filled quantity)
 *   is the gap written as one synthesized row, `<client_order_id>@<cumulative qty>`. Executions
 *   of that order arriving late afterwards are then not written (the synthesized row holds
 *   them); executions that raise the cumulative quantity still are.
 */
import { div, type Fixed, fromDecimal, mul, toDecimal, ZERO } from "../core/money.ts";
import type { AuditRecord, Order } from "./core/index.ts";

/** ExecutionRow: one broker execution of an order (a FILL activity). */
export interface ExecutionRow {
  executionId: string;
  qty: Fixed;
  price: Fixed;
  timeNs: bigint;
}

/** FillRow: one row for the `fills` table. */
export interface FillRow {
  execution_id: string;
  client_order_id: string;
  broker_order_id: string | null;
  symbol: string;
  side: string;
  qty: string;
  price: string;
  filled_us: string;
  /** late: an execution that did not raise the cumulative quantity (arrived after a later one). */
  late: boolean;
  /**
   * cumulative: on a synthesized gap row only, the order's filled quantity it brings the order
   * to. The row is not written when the order's stored fills already reach that quantity with
   * it (a journal replayed after the executions themselves were stored).
   */
  cumulative: string | null;
}

const usOf = (ns: bigint) => (ns / 1000n).toString();

const fixedOr = (v: string | undefined): Fixed =>
  v === undefined || v === "" ? ZERO : fromDecimal(v);

/** gapOf is the filled quantity of this record that no execution in hand accounts for. */
export function gapOf(record: AuditRecord): Fixed {
  const delta = fixedOr(record.detail.fillQty);
  if (delta <= ZERO) return ZERO;
  const own = record.detail.executionId ? fixedOr(record.detail.executionQty) : ZERO;
  return delta > own ? delta - own : ZERO;
}

/** fillRowsOf lists the rows one audit record leaves; `executions` are the order's activities. */
export function fillRowsOf(
  record: AuditRecord,
  order: Order,
  executions: readonly ExecutionRow[] | null | undefined,
): FillRow[] {
  const d = record.detail;
  const base = {
    client_order_id: order.clientOrderId,
    broker_order_id: order.brokerOrderId,
    symbol: order.symbol,
    side: order.side,
  };
  const rows: FillRow[] = [];
  const delta = fixedOr(d.fillQty);
  const execQty = fixedOr(d.executionQty);
  const execPrice = fixedOr(d.executionPrice);
  if (d.executionId && execQty > ZERO && execPrice > ZERO) {
    rows.push({
      ...base,
      execution_id: d.executionId,
      qty: toDecimal(execQty),
      price: toDecimal(execPrice),
      filled_us: usOf(record.timeNs),
      late: delta <= ZERO,
      cumulative: null,
    });
  }
  const gap = gapOf(record);
  if (gap <= ZERO) return rows;
  if (executions) {
    for (const e of executions) {
      rows.push({
        ...base,
        execution_id: e.executionId,
        qty: toDecimal(e.qty),
        price: toDecimal(e.price),
        filled_us: usOf(e.timeNs),
        late: false,
        cumulative: null,
      });
    }
    return rows;
  }
  // No activities: the gap as one row, priced so the order's notional stays right.
  const deltaPrice = fixedOr(d.fillPrice);
  const own = delta - gap;
  const price = div(mul(delta, deltaPrice) - mul(own, execPrice), gap);
  if (price <= ZERO) return rows;
  const cumulative = d.filledQty ?? toDecimal(order.filledQty);
  rows.push({
    ...base,
    execution_id: `${order.clientOrderId}@${cumulative}`,
    qty: toDecimal(gap),
    price: toDecimal(price),
    filled_us: usOf(record.timeNs),
    late: false,
    cumulative,
  });
  return rows;
}
