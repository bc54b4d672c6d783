/**
 * signalMessage builds the TradingSignal the signal-bridge publishes for a BUY or SELL decision.
 *
 * The signal id is `<symbol>-<event time ns of the quote>`: the same feed gives the same ids in
 * every run and after a restart, and the client_order_id derived from it downstream cannot
 * repeat. (A second signal for a symbol at the same event time, which needs two price changes in
 * one nanosecond, gets `-2`, `-3`, ...)
 */
import { create } from "@bufbuild/protobuf";
import {
  childTraceparent,
  newHeader,
  SignalAction,
  type TradingSignal,
  TradingSignalSchema,
} from "../core/messages/index.ts";
import { fromDecimal, toDecimal } from "../core/money.ts";
import type { QuoteFields } from "../market-data/quote-wire.ts";
import type { SignalParams } from "./core/params.ts";
import type { Decision, SymbolSignal } from "./core/symbol-signal.ts";

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

/** indicatorNames are the keys of TradingSignal.indicators for the strategy's periods. */
export function indicatorNames(p: SignalParams) {
  return {
    rsi: `rsi_${p.rsiPeriod}`,
    macd: `macd_hist_${p.macdFast}_${p.macdSlow}_${p.macdSignal}`,
    percentB: `bollinger_pct_b_${p.bollingerPeriod}`,
    bandwidth: `bollinger_bandwidth_${p.bollingerPeriod}`,
  };
}

/** midPrice is the exact mid of a quote's decimal bid and ask. */
export function midPrice(q: QuoteFields): string {
  return toDecimal((fromDecimal(q.bidPrice) + fromDecimal(q.askPrice)) / 2n);
}

export function signalMessage(
  q: QuoteFields,
  signalId: string,
  sig: SymbolSignal,
  d: Decision,
  names: ReturnType<typeof indicatorNames>,
  model: string,
): TradingSignal {
  return create(TradingSignalSchema, {
    // The signal continues the quote's event: same event time, a child span of its trace.
    header: newHeader(SOURCE, q.eventTimeNs, {
      traceparent: q.traceparent ? childTraceparent(q.traceparent) : "",
    }),
    signalId,
    symbol: q.symbol,
    action: d.action === "BUY" ? SignalAction.BUY : SignalAction.SELL,
    confidence: d.confidence,
    indicators: {
      [names.rsi]: sig.rsi.value,
      [names.macd]: sig.macd.histogram,
      [names.percentB]: sig.bollinger.percentB,
      [names.bandwidth]: sig.bollinger.bandwidth,
      model_score: d.modelScore,
      rule_votes: d.votes,
      rules: d.rules,
    },
    referencePrice: midPrice(q),
    model,
  });
}
