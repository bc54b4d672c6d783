/**
 * The TradingSignal the signal-bridge publishes for a BUY or SELL decision, as the fields
 * signal-wire.ts encodes.
 *
 * The signal id is `<symbol>-<event time ns of the quote>`: the same feed gives the same ids in
 * every run and after a restart, and the client_order_id derived from it downstream cannot
 * repeat. (A second signal for a symbol at the same event time, which needs two price changes in
 * one nanosecond, gets `-2`, `-3`, ...)
 */
import { childTraceparent, SignalAction } from "../core/messages/index.ts";
import { fromDecimal, toDecimal } from "../core/money.ts";
import type { QuoteFields } from "../market-data/quote-wire.ts";
import type { SignalParams } from "./core/params.ts";
import type { Decision, SymbolSignal } from "./core/symbol-signal.ts";
import type { SignalFields } from "./signal-wire.ts";

export const SOURCE = "signal-bridge";

export class SignalIds {
  readonly #last = new Map<string, { timeNs: bigint; n: number }>();

  next(symbol: string, eventTimeNs: bigint): string {
    const last = this.#last.get(symbol);
    if (last !== undefined && last.timeNs === eventTimeNs) {
      last.n += 1;
      return `${symbol}-${eventTimeNs}-${last.n}`;
    }
    this.#last.set(symbol, { timeNs: eventTimeNs, n: 1 });
    return `${symbol}-${eventTimeNs}`;
  }
}

/** indicatorNames are the keys of TradingSignal.indicators, in the order they are written. */
export function indicatorNames(p: SignalParams): readonly string[] {
  return [
    `rsi_${p.rsiPeriod}`,
    `macd_hist_${p.macdFast}_${p.macdSlow}_${p.macdSignal}`,
    `bollinger_pct_b_${p.bollingerPeriod}`,
    `bollinger_bandwidth_${p.bollingerPeriod}`,
    "model_score",
    "rule_votes",
    "rules",
  ];
}

/** midPrice is the exact mid of a quote's decimal bid and ask. */
export function midPrice(q: QuoteFields): string {
  return toDecimal((fromDecimal(q.bidPrice) + fromDecimal(q.askPrice)) / 2n);
}

/** newSignalFields makes the reused fields of one stage's signals. */
export function newSignalFields(names: readonly string[], model: string): SignalFields {
  return {
    source: SOURCE,
    eventTimeNs: 0n,
    traceparent: "",
    originTimeNs: 0n,
    signalId: "",
    symbol: "",
    action: SignalAction.UNSPECIFIED,
    confidence: 0,
    indicatorNames: names,
    indicatorValues: new Float64Array(names.length),
    referencePrice: "",
    model,
  };
}

/**
 * fillSignal writes a BUY or SELL decision into `out`. The signal continues the quote's event:
 * the same event time and origin time, and a child span of its trace when it has one.
 */
export function fillSignal(
  out: SignalFields,
  q: QuoteFields,
  signalId: string,
  sig: SymbolSignal,
  d: Decision,
): SignalFields {
  out.eventTimeNs = q.eventTimeNs;
  out.originTimeNs = q.originTimeNs;
  out.traceparent = q.traceparent ? childTraceparent(q.traceparent) : "";
  out.signalId = signalId;
  out.symbol = q.symbol;
  out.action = d.action === "BUY" ? SignalAction.BUY : SignalAction.SELL;
  out.confidence = d.confidence;
  const v = out.indicatorValues;
  v[0] = sig.rsi.value;
  v[1] = sig.macd.histogram;
  v[2] = sig.bollinger.percentB;
  v[3] = sig.bollinger.bandwidth;
  v[4] = d.modelScore;
  v[5] = d.votes;
  v[6] = d.rules;
  out.referencePrice = midPrice(q);
  return out;
}
