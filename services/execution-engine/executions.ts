/**
 * executions reads one order's broker executions from the account's FILL activities
 * (GET /v2/account/activities/FILL, oldest first from a minute before the order was created),
 * for `fill-rows.ts`. The execution id is the activity id's part after "::", the id the order's
 * trade updates carry, so a row from either source is the same row.
 */
import type { AlpacaTradingClient, WireFillActivity } from "../alpaca-client/index.ts";
import { nsToRfc3339, rfc3339ToNs } from "../alpaca-client/timestamps.ts";
import { type Fixed, fromDecimal, ZERO } from "../core/money.ts";
import type { Order } from "./core/index.ts";
import type { ExecutionRow } from "./fill-rows.ts";

const MINUTE_NS = 60_000_000_000n;

/** executionIdOf: the execution id inside an activity id (`<time>::<execution id>`). */
export function executionIdOf(activityId: string): string {
  const at = activityId.indexOf("::");
  return at < 0 ? activityId : activityId.slice(at + 2);
}

/**
 * fetchOrderExecutions lists the order's executions; null when they do not yet add up to
 * `filledQty` (the broker may list an execution a little after reporting it).
 */
export async function fetchOrderExecutions(
  trading: AlpacaTradingClient,
  order: Order,
  filledQty: string,
): Promise<ExecutionRow[] | null> {
  const activities = await trading.allActivities("FILL", {
    direction: "asc",
    after: nsToRfc3339(order.createdNs - MINUTE_NS),
  });
  const rows: ExecutionRow[] = [];
  let total: Fixed = ZERO;
  for (const a of activities as WireFillActivity[]) {
    if (a.activity_type !== "FILL" || a.order_id !== order.brokerOrderId) continue;
    const qty = fromDecimal(a.qty);
    total += qty;
    rows.push({
      executionId: executionIdOf(a.id),
      qty,
      price: fromDecimal(a.price),
      timeNs: rfc3339ToNs(a.transaction_time),
    });
  }
  return total >= fromDecimal(filledQty) && rows.length > 0 ? rows : null;
}
