/**
 * executionMetrics creates the execution engine's metrics once (the tradepipe_ prefix is added
 * by the telemetry helpers) and binds the children the order path uses.
 */
import type { Metrics } from "../core/telemetry/index.ts";

export function executionMetrics(m: Metrics) {
  const submitted = m.counter(
    "orders_submitted_total",
    "Order POSTs sent to the broker, by side.",
    ["side"],
  );
  return {
    submittedBuy: submitted.labels("buy"),
    submittedSell: submitted.labels("sell"),
    rejects: m.counter(
      "order_rejects_total",
      "Orders refused locally or by the broker, and intents dropped, by reason.",
      ["reason"],
    ),
    fills: m.counter("fills_total", "Fills recorded (executions inserted into the fills table)."),
    submitLatency: m.latencyHistogram(
      "order_submit_latency_seconds",
      "Time from an intent's arrival to its order POST being handed to the HTTP client.",
    ),
    tickToOrder: m.latencyHistogram(
      "tick_to_order_latency_seconds",
      "Wall-clock time from the market-data stage reading the feed frame of the tick behind an order to the order's first POST being handed to the HTTP client.",
    ),
    openOrders: m.gauge("open_orders", "Orders not yet finished (created to partially filled)."),
    retries: m.counter("order_retries_total", "Order sends retried with the same client_order_id."),
    anomalies: m.counter("order_anomalies_total", "Anomalies the order core reported, by kind.", [
      "kind",
    ]),
    halted: m.gauge(
      "execution_halted",
      "1 while the kill switch is engaged (open orders cancelled, no new orders), else 0.",
    ),
    recovered: m.gauge(
      "execution_recovered",
      "1 once the restart recovery (rebuild from Postgres, resolve with the broker) is done.",
    ),
    auditLag: m.latencyHistogram(
      "audit_lag_seconds",
      "Time from an audit record's journal append (before its order was sent) to its row committed in Postgres by the write-behind.",
    ),
    auditBacklogRows: m.gauge(
      "audit_backlog_rows",
      "Audit records journaled but not yet committed in Postgres.",
    ),
    auditBacklogSeconds: m.gauge(
      "audit_backlog_seconds",
      "Age of the oldest audit record not yet committed in Postgres (0 when none).",
    ),
    auditBacklogHalted: m.gauge(
      "audit_backlog_halted",
      "1 while new orders are held because the audit backlog is over its bound, else 0.",
    ),
    auditWrite: m.latencyHistogram(
      "audit_write_latency_seconds",
      "Time to commit one batch of audit records (with its order and fill rows).",
    ),
  };
}

export type ExecutionMetrics = ReturnType<typeof executionMetrics>;
