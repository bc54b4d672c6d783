/**
 * Canonical text of a run's outputs, for hashing: the order intents (what parity compares), and
 * everything (intents, orders, fills, equity) for the determinism check across processes. Fixed
 * values print as exact decimals, times as integer nanoseconds; field order is fixed here.
 */
import { createHash } from "node:crypto";
import { toDecimal } from "../core/money.ts";
import type { OrderRequest } from "../execution-engine/core/index.ts";
import type { BacktestResult } from "./engine.ts";

/** intentLine: one order intent as the broker receives it (client_order_id, fields, in order). */
export function intentLine(r: OrderRequest): string {
  return [
    r.clientOrderId,
    r.symbol,
    r.side,
    toDecimal(r.qty),
    r.orderType,
    r.limitPrice === null ? "" : toDecimal(r.limitPrice),
    r.timeInForce,
  ].join(",");
}

export function intentsText(requests: readonly OrderRequest[]): string {
  return requests.map((r) => `${intentLine(r)}\n`).join("");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** resultText: every output of a run, one line per item. */
export function resultText(r: BacktestResult): string {
  const lines: string[] = [];
  lines.push(`events,${r.events},start,${r.startNs},end,${r.endNs}`);
  for (const i of r.intents) lines.push(`intent,${i.nowNs},${i.attempt},${intentLine(i.request)}`);
  for (const o of r.orders) {
    lines.push(
      [
        "order",
        o.clientOrderId,
        o.status,
        toDecimal(o.filledQty),
        toDecimal(o.filledNotional),
        o.sentNs,
        o.arrivedNs,
        o.ackNs,
        o.firstFillSeenNs,
        toDecimal(o.arrivalMid),
        o.rejectReason,
      ].join(","),
    );
  }
  for (const f of r.fills) {
    lines.push(
      `fill,${f.clientOrderId},${f.side},${toDecimal(f.qty)},${toDecimal(f.price)},${f.exchangeNs},${toDecimal(f.fees)}`,
    );
  }
  for (const e of r.equity) lines.push(`equity,${e.timeNs},${toDecimal(e.equity)}`);
  lines.push(`final,${toDecimal(r.finalEquity)},${toDecimal(r.feesPaid)}`);
  return `${lines.join("\n")}\n`;
}
