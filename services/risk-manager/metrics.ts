/**
 * riskMetrics creates the risk-manager's metrics once (names get the `tradepipe_` prefix):
 * decisions, refusals by reason, breaker state and kill switch.
 */
import type { Counter } from "prom-client";
import type { Metrics } from "../core/telemetry/index.ts";

/** BREAKER_GAUGE_VALUES: what tradepipe_risk_circuit_breaker_state reports for each state. */
export const BREAKER_GAUGE_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

export function riskMetrics(m: Metrics) {
  const rejects = m.counter(
    "risk_rejects_total",
    "Orders refused by the risk-manager, by reason.",
    ["reason"],
  );
  const decisions = m.counter("risk_decisions_total", "Risk decisions, by outcome.", ["decision"]);
  const byReason = new Map<string, Counter.Internal>();
  return {
    approved: decisions.labels("approved"),
    rejected: decisions.labels("rejected"),
    reject(reason: string) {
      let c = byReason.get(reason);
      if (c === undefined) {
        c = rejects.labels(reason);
        byReason.set(reason, c);
      }
      c.inc();
    },
    breaker: m.gauge(
      "risk_circuit_breaker_state",
      "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
    ),
    killSwitch: m.gauge("risk_kill_switch_engaged", "1 while the kill switch is engaged."),
    dailyLoss: m.gauge(
      "risk_daily_loss_usd",
      "Today's loss in USD (realized + unrealized; 0 when the day is up).",
    ),
    dailyLossLimit: m.gauge(
      "risk_daily_loss_limit_usd",
      "The daily loss at which the risk-manager refuses new risk (spec.risk.maxDailyLoss).",
    ),
    approvalsLost: m.counter(
      "risk_approvals_lost_total",
      "Approved intents no execution engine took within the intent lifetime (published while none ran); their pending quantity was freed.",
    ),
    invalid: m.counter(
      "risk_invalid_messages_total",
      "Bus messages the risk-manager could not read.",
    ),
  };
}
