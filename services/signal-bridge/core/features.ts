/**
 * The model's feature vector. The live signal-bridge and the training code both call
 * `writeFeatures` on the same indicator state, so what the model was trained on is exactly
 * what it is served (no train/serve skew).
 *
 * IMPORTANT: the order and meaning of FEATURE_NAMES is the model's input contract
 * (config/models/README.md). Changing it requires retraining and re-exporting the model.
 */
export const FEATURE_NAMES = [
  "rsi_centered", // (RSI − 50) / 50, in [−1, 1]
  "macd_hist_bps", // MACD histogram in basis points of the price
  "percent_b_centered", // Bollinger %B − 0.5 (0 at the middle band, ±0.5 at the bands)
  "bandwidth_bps", // (upper − lower) / middle, in basis points
  "return_1_bps", // mid-price return over the last tick, basis points
  "return_5_bps", // mid-price return over the last 5 ticks, basis points
  "spread_bps", // (ask − bid) / mid, basis points
  "book_imbalance", // (bidSize − askSize) / (bidSize + askSize), in [−1, 1]
] as const;

export const FEATURE_COUNT = FEATURE_NAMES.length;

/** FeatureInputs is the indicator and book state the features are computed from. */
export interface FeatureInputs {
  rsi: number;
  macdHistogram: number;
  percentB: number;
  bandwidth: number;
  mid: number;
  mid1Ago: number;
  mid5Ago: number;
  bidPrice: number;
  askPrice: number;
  bidSize: number;
  askSize: number;
}

/** writeFeatures fills `out` (length FEATURE_COUNT) in place and returns it. */
export function writeFeatures(s: FeatureInputs, out: Float32Array): Float32Array {
  const mid = s.mid;
  out[0] = (s.rsi - 50) / 50;
  out[1] = (s.macdHistogram / mid) * 1e4;
  out[2] = s.percentB - 0.5;
  out[3] = s.bandwidth * 1e4;
  out[4] = (mid / s.mid1Ago - 1) * 1e4;
  out[5] = (mid / s.mid5Ago - 1) * 1e4;
  out[6] = ((s.askPrice - s.bidPrice) / mid) * 1e4;
  const depth = s.bidSize + s.askSize;
  out[7] = depth > 0 ? (s.bidSize - s.askSize) / depth : 0;
  return out;
}
