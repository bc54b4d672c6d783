/**
 * SignalParams are the strategy parameters of the signal-bridge, with the same field names as
 * the TradingPipeline spec's strategy section; the shell maps the spec onto this plain object.
 */
import { TradepipeError } from "../../core/errors.ts";

export interface SignalParams {
  readonly rsiPeriod: number;
  readonly rsiOverbought: number;
  readonly rsiOversold: number;
  readonly macdFast: number;
  readonly macdSlow: number;
  readonly macdSignal: number;
  readonly bollingerPeriod: number;
  readonly bollingerStdDev: number;
  /** Confidence (0..1) a BUY or SELL needs; below it the decision is HOLD. */
  readonly minConfidence: number;
}

/** DEFAULT_SIGNAL_PARAMS are the classic settings: RSI(14) 70/30, MACD(12,26,9), Bollinger(20,2). */
export const DEFAULT_SIGNAL_PARAMS: SignalParams = {
  rsiPeriod: 14,
  rsiOverbought: 70,
  rsiOversold: 30,
  macdFast: 12,
  macdSlow: 26,
  macdSignal: 9,
  bollingerPeriod: 20,
  bollingerStdDev: 2,
  minConfidence: 0.6,
};

/** validateSignalParams throws TP_ERR_CONFIG naming the first bad field and what is wrong. */
export function validateSignalParams(p: SignalParams, path = "strategy"): SignalParams {
  const int = (name: keyof SignalParams, min: number) => {
    const v = p[name];
    if (!Number.isInteger(v) || v < min) bad(`${path}.${name}`, `must be an integer >= ${min}`, v);
  };
  const range = (name: keyof SignalParams, lo: number, hi: number) => {
    const v = p[name];
    if (typeof v !== "number" || !(v >= lo && v <= hi)) {
      bad(`${path}.${name}`, `must be a number in [${lo}, ${hi}]`, v);
    }
  };
  int("rsiPeriod", 2);
  range("rsiOverbought", 0, 100);
  range("rsiOversold", 0, 100);
  if (p.rsiOversold >= p.rsiOverbought) {
    bad(`${path}.rsiOversold`, "must be below rsiOverbought", p.rsiOversold);
  }
  int("macdFast", 1);
  int("macdSlow", 2);
  if (p.macdFast >= p.macdSlow) bad(`${path}.macdFast`, "must be below macdSlow", p.macdFast);
  int("macdSignal", 1);
  int("bollingerPeriod", 2);
  range("bollingerStdDev", 0, 10);
  range("minConfidence", 0, 1);
  return p;
}

function bad(path: string, problem: string, value: unknown): never {
  throw new TradepipeError("TP_ERR_CONFIG", `${path} ${problem} (got ${JSON.stringify(value)})`);
}
