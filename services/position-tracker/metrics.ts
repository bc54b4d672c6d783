/**
 * trackerMetrics creates the position-tracker's metrics once (names get the `tradepipe_`
 * prefix): reconciliation breaks and outcomes, drawdown, fills booked.
 */
import type { Metrics } from "../core/telemetry/index.ts";

export function trackerMetrics(m: Metrics) {
  const reconciliations = m.counter(
    "reconciliations_total",
    "Reconciliations with the broker's positions, by result (ok, break, error).",
    ["result"],
  );
  return {
    breaks: m.counter(
      "reconciliation_breaks_total",
      "Symbols whose position differed from the broker's, counted at every reconciliation.",
    ),
    reconcileOk: reconciliations.labels("ok"),
    reconcileBreak: reconciliations.labels("break"),
    reconcileError: reconciliations.labels("error"),
    drawdown: m.gauge("drawdown_ratio", "Drawdown from the equity peak as a fraction (0.05 = 5%)."),
    drawdownAlertLevel: m.gauge(
      "drawdown_alert_ratio",
      "Drawdown at which an alert is raised, as a fraction (spec.positions.drawdownAlertPct / 100).",
    ),
    drawdownAlerts: m.counter("drawdown_alerts_total", "Drawdown alerts raised."),
    fills: m.counter("position_fills_total", "Fills booked into positions."),
    invalid: m.counter(
      "position_invalid_messages_total",
      "Order updates or quotes the tracker could not read.",
    ),
  };
}
