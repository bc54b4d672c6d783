/**
 * activities: the account activities (GET /v2/account/activities) of the simulated account,
 * derived from its executions: one FILL per execution, and one FEE per regulatory fee charged on
 * it (REG for the SEC fee, TAF, CAT) when the simulator charges fees. Bodies follow Alpaca's
 * TradingActivities and NonTradeActivities schemas; ids are `<ET yyyymmddhhmmssSSS>::<uuid>`,
 * the uuid of a FILL being the execution id its trade update carried.
 */
import { createHash } from "node:crypto";
import { fillFees } from "../../core/fees.ts";
import { type Fixed, mul, toDecimal, ZERO } from "../../core/money.ts";
import type { BrokerState, Execution } from "./broker.ts";
import { etDate, etOffsetHours, formatRfc3339, type Nanos } from "./time.ts";

export type ActivityType = "FILL" | "FEE";

export interface Activity {
  id: string;
  type: ActivityType;
  t: Nanos;
  body: Record<string, unknown>;
}

const NS_PER_HOUR = 3_600_000_000_000n;

/** activityStamp is the id's time part: New York wall time to the millisecond, digits only. */
function activityStamp(t: Nanos): string {
  const local = formatRfc3339(t + BigInt(etOffsetHours(t)) * NS_PER_HOUR);
  const [date = "", rest = ""] = local.replace("Z", "").split("T");
  const [hms = "", frac = ""] = rest.split(".");
  return `${date.replaceAll("-", "")}${hms.replaceAll(":", "")}${frac.padEnd(3, "0").slice(0, 3)}`;
}

/** uuidOf: a stable uuid-shaped id from text (fee activities have no execution of their own). */
function uuidOf(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const FEE_KINDS = [
  ["sec", "REG", "SEC transaction fee"],
  ["taf", "TAF", "FINRA trading activity fee"],
  ["cat", "CAT", "Consolidated audit trail fee"],
] as const;

/** accountActivities lists every activity of the account, oldest first. */
export function accountActivities(state: BrokerState): Activity[] {
  const out: Activity[] = [];
  const cumulative = new Map<string, Fixed>();
  for (const e of state.executions) {
    const before = cumulative.get(e.orderId) ?? ZERO;
    const after = before + e.qty;
    cumulative.set(e.orderId, after);
    const fillId = `${activityStamp(e.t)}::${e.executionId}`;
    out.push(fillActivity(state, e, fillId, after));
    if (state.options.fees === undefined) continue;
    const fees = fillFees(state.options.fees, e.side, before, after, mul(e.qty, e.price));
    for (const [field, subtype, description] of FEE_KINDS) {
      const amount = fees[field];
      if (amount <= ZERO) continue;
      out.push({
        id: `${activityStamp(e.t)}::${uuidOf(`${e.executionId}/${subtype}`)}`,
        type: "FEE",
        t: e.t,
        body: {
          id: `${activityStamp(e.t)}::${uuidOf(`${e.executionId}/${subtype}`)}`,
          activity_type: "FEE",
          activity_sub_type: subtype,
          date: etDate(e.t),
          created_at: formatRfc3339(e.t),
          net_amount: toDecimal(-amount),
          description: `${description} on ${e.side} of ${toDecimal(e.qty)} ${e.symbol}`,
          symbol: e.symbol,
          qty: toDecimal(e.qty),
          status: "executed",
          currency: "USD",
          group_id: fillId,
        },
      });
    }
  }
  return out;
}

function fillActivity(state: BrokerState, e: Execution, id: string, cum: Fixed): Activity {
  const order = state.orders.get(e.orderId);
  const total = order?.qty ?? null;
  const done = total === null ? order?.status === "filled" : cum >= total;
  return {
    id,
    type: "FILL",
    t: e.t,
    body: {
      id,
      activity_type: "FILL",
      transaction_time: formatRfc3339(e.t),
      type: done ? "fill" : "partial_fill",
      price: toDecimal(e.price),
      qty: toDecimal(e.qty),
      side: e.side,
      symbol: e.symbol,
      leaves_qty: total === null || cum >= total ? "0" : toDecimal(total - cum),
      order_id: e.orderId,
      cum_qty: toDecimal(cum),
      order_status: done ? "filled" : "partially_filled",
    },
  };
}
