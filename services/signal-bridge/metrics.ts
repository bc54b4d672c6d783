/**
 * signalBridgeMetrics creates the signal-bridge's metrics once and binds the labelled children
 * the tick path uses.
 */
import type { Gauge } from "prom-client";
import type { Metrics } from "../core/telemetry/index.ts";

export function signalBridgeMetrics(m: Metrics) {
  const signals = m.counter("signals_total", "Trading signals published, by action.", ["action"]);
  const holds = m.counter(
    "sb_model_holds_total",
    "Ticks scored by the model that ended in HOLD, by reason.",
    ["reason"],
  );
  return {
    buys: signals.labels("BUY"),
    sells: signals.labels("SELL"),
    holds,
    inference: m.latencyHistogram(
      "sb_inference_latency_seconds",
      "Time of one ONNX model call (features already written).",
    ),
    modelErrors: m.counter("sb_model_errors_total", "Model calls that failed."),
    modelReloads: m.counter(
      "sb_model_reloads_total",
      "New model versions seen at run time (spec change or file replaced), by result: swapped in, or refused (the previous model keeps trading).",
      ["result"],
    ),
    invalid: m.counter("sb_invalid_quotes_total", "Quotes that could not be decoded."),
    oneSided: m.counter(
      "sb_one_sided_quotes_total",
      "Quotes without a bid or an ask (no mid price), not counted as ticks.",
    ),
    aggregateHolds: m.counter(
      "sb_aggregate_holds_total",
      "Quotes on which some strategy wanted to trade but the aggregation held, by reason (tie, vetoed, low-confidence, cool-down).",
      ["reason"],
    ),
    strategy: strategyMetrics(m),
  };
}

/** strategyMetrics are the per-strategy metrics, labelled with the spec's strategy id. */
function strategyMetrics(m: Metrics) {
  return {
    decisions: m.counter(
      "strategy_decisions_total",
      "BUY and SELL decisions of each strategy (before aggregation).",
      ["strategy", "action"],
    ),
    signals: m.counter(
      "strategy_signals_total",
      "Signals published with the strategy as the leader (TradingSignal.strategy_id).",
      ["strategy"],
    ),
    latency: m.latencyHistogram(
      "strategy_tick_latency_seconds",
      "Time of one strategy's tick (onTick, and onScore without the model call), sampled.",
      ["strategy"],
    ),
    enabled: m.gauge(
      "strategy_enabled",
      "1 while the strategy runs, 0 once it threw and was disabled.",
      ["strategy"],
    ),
    failures: m.counter("strategy_failures_total", "Strategies disabled after throwing.", [
      "strategy",
    ]),
  };
}

/**
 * strategyAttributionGauges register the P&L attribution gauges, read at scrape time from `read`
 * (each strategy's intended positions marked at the last mid, see strategy/aggregate.ts).
 */
export function strategyAttributionGauges(
  m: Metrics,
  read: () => readonly { id: string; pnl: number; position: number }[],
): void {
  const gauges = {
    pnl: m.gauge(
      "strategy_pnl_usd",
      "Mark-to-mid P&L of the signals each strategy voted for (an attribution estimate; the position-tracker keeps the exact P&L).",
      ["strategy"],
    ),
    position: m.gauge(
      "strategy_position_shares",
      "Intended net position of each strategy over all symbols, in shares (from its votes).",
      ["strategy"],
    ),
  };
  for (const field of ["pnl", "position"] as const) {
    const g = gauges[field] as Gauge<"strategy"> & { collect?: () => void };
    // prom-client calls `collect` before each scrape; a restarted stage replaces the reader.
    g.collect = () => {
      g.reset();
      // Cents: the float sums of prices carry noise below them.
      for (const a of read()) g.inc({ strategy: a.id }, Math.round(a[field] * 100) / 100);
    };
  }
}
