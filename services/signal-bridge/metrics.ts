/**
 * signalBridgeMetrics creates the signal-bridge's metrics once and binds the labelled children
 * the tick path uses.
 */
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
    invalid: m.counter("sb_invalid_quotes_total", "Quotes that could not be decoded."),
    oneSided: m.counter(
      "sb_one_sided_quotes_total",
      "Quotes without a bid or an ask (no mid price), not counted as ticks.",
    ),
  };
}
